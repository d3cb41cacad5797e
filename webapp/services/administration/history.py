"""What a province's reports look like over time: the vocabulary of realistic history.

One description, used by the demo seed (`seed.load_history`, a few thousand reports through
the ORM: `lifecycle.live` walks each through the state machine in the past) and by the
benchmarks (`bench/synthetic.py`, a million rows through COPY): categories in a Đà Nẵng-like
mix, residents' words for each category, points in the wards (towns report most, around a
few hot spots), statuses by age, handling times as a share of the deadline (some late),
extensions, ratings and a few reports waiting in triage.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from config.settings import ROOT, VN_TZ
from webapp.services.geography import places, units

# Share of all reports per category.
CATEGORY_MIX = {
    "waste": 0.17, "road_damage": 0.15, "street_lighting": 0.10, "drainage_flooding": 0.09,
    "encroachment": 0.08, "noise": 0.06, "trees": 0.06, "traffic": 0.05, "water_supply": 0.05,
    "illegal_construction": 0.04, "pollution": 0.04, "electricity": 0.03,
    "public_security": 0.03, "public_service": 0.02, "food_health": 0.01, "other": 0.02,
}  # fmt: skip
CHANNEL_MIX = {"web": 0.5, "telegram": 0.2, "zalo": 0.25, "hotline": 0.05}
# Status by age (days since received): the last day's, the last month's, older ones. Received
# and classified last minutes (the NLU answers); reopened is rare (back with a new deadline).
STATUS_BY_AGE: tuple[tuple[float, dict[str, float]], ...] = (
    (1, {"received": 0.08, "classified": 0.04, "needs_triage": 0.08, "assigned": 0.40,
         "in_progress": 0.25, "transferred": 0.03, "resolved": 0.08, "rejected": 0.03,
         "duplicate": 0.01}),
    (30, {"needs_triage": 0.03, "assigned": 0.25, "in_progress": 0.29, "transferred": 0.02,
          "reopened": 0.01, "resolved": 0.24, "closed": 0.08, "rejected": 0.05,
          "duplicate": 0.03}),
    (math.inf, {"closed": 0.60, "resolved": 0.24, "rejected": 0.05, "duplicate": 0.03,
                "in_progress": 0.04, "assigned": 0.03, "reopened": 0.01}),
)  # fmt: skip
TRANSIENT = ("received", "classified")  # the NLU answers within minutes
# Reports by hour of the day (local time) and by weekday (Monday first).
HOURLY = (1, 1, 1, 1, 1, 2, 5, 9, 10, 9, 8, 7, 6, 6, 7, 7, 8, 9, 9, 8, 6, 4, 2, 1)
WEEKDAY = (1.1, 1.1, 1.05, 1.05, 1.0, 0.8, 0.7)
TRIAGE_SHARE = 0.05  # of the others: the NLU was unsure, an operator routed it
RESPONSE_HOURS = 6.0  # mean working hours from assignment to acceptance (exponential)
# Time to resolve as a share of the working time allowed: lognormal(μ, σ), ~16 % over 1.
RESOLUTION_SHARE = (-0.6, 0.6)
EXTENSION_SHARE = 0.08  # of reports in hand: the agency asked for more time
EXTENSION_DAYS = 5  # working days asked for
EXTENSION_APPROVED = 0.85
RATED_SHARE = 0.3  # of resolved reports
RATING_MIX = {1: 0.08, 2: 0.07, 3: 0.15, 4: 0.35, 5: 0.35}
CLOSE_AFTER_DAYS = (3.0, 7.0)
HOT_SPOTS, HOT_SHARE, HOT_SIGMA_DEG = 3, 0.35, 0.0015  # a market, a low street, a school gate
MARKER = "history"  # data["seed"] of the first event of every generated report

# Residents' words; {street}, {num}, {ward} are filled in.
TEXTS = {
    "road_damage": (
        "Ổ gà lớn trên đường {street} gần số nhà {num}, xe máy đi qua rất dễ té ngã, "
        "đề nghị sửa chữa sớm.",
        "Vỉa hè trước số {num} {street} bị sụt lún, gạch vỡ bong tróc, người đi bộ vấp ngã.",
    ),
    "waste": (
        "Rác thải tập kết bừa bãi ở đầu kiệt {num} {street} nhiều ngày chưa được thu gom, "
        "bốc mùi hôi thối.",
        "Xe thu gom rác không đến khu vực {ward} đã ba ngày, rác tràn ra lòng đường {street}.",
    ),
    "street_lighting": (
        "Đèn chiếu sáng trên đường {street} đoạn trước nhà số {num} bị hỏng từ tuần trước, "
        "buổi tối rất tối và mất an toàn.",
        "Cả dãy đèn đường {street} chập chờn lúc tắt lúc sáng suốt đêm.",
    ),
    "drainage_flooding": (
        "Mưa lớn làm ngập sâu đoạn đường {street}, nước không thoát được, người dân đi lại "
        "rất khó khăn.",
        "Nắp cống trên đường {street} bị vỡ, để hở một hố sâu rất nguy hiểm cho trẻ em.",
    ),
    "encroachment": (
        "Nhiều hộ kinh doanh lấn chiếm vỉa hè đường {street} để buôn bán, người đi bộ phải "
        "đi xuống lòng đường.",
        "Quán cà phê ở số {num} {street} bày bàn ghế tràn ra cả lòng đường.",
    ),
    "noise": (
        "Quán nhậu ở số {num} {street} mở nhạc rất to đến sau 23 giờ, ảnh hưởng giấc ngủ "
        "của cả khu dân cư.",
        "Karaoke gia đình ở kiệt {num} {street} hát ồn ào đến khuya mỗi ngày.",
    ),
    "trees": (
        "Cây xanh bị gãy cành lớn đổ ra lòng đường {street}, cần xử lý ngay để tránh tai nạn.",
        "Cây trước số {num} {street} nghiêng hẳn ra đường, mùa mưa bão rất dễ đổ.",
    ),
    "traffic": (
        "Đèn tín hiệu giao thông ở ngã tư {street} bị hỏng, xe cộ đi lại lộn xộn.",
        "Biển báo trên đường {street} bị che khuất hoàn toàn, nhiều xe đi ngược chiều.",
    ),
    "water_supply": (
        "Đường ống nước bị vỡ tại số {num} {street}, nước chảy lênh láng từ sáng đến giờ.",
        "Khu vực {ward} mất nước sinh hoạt hai ngày nay không có thông báo.",
    ),
    "illegal_construction": (
        "Công trình ở số {num} {street} xây thêm tầng không có giấy phép, lấn sang nhà bên cạnh.",
        "Nhà ở kiệt {num} {street} đang đổ móng lấn ra hành lang đường, không treo giấy phép.",
    ),
    "pollution": (
        "Xưởng ở kiệt {num} {street} xả khói đen và mùi hắc mỗi tối, người dân khó thở.",
        "Nước thải chảy tràn ra mương dọc đường {street}, bốc mùi hôi nồng nặc.",
        "Công trình xây dựng ở {street} không che chắn, bụi bay mù mịt cả ngày.",
    ),
    "electricity": (
        "Dây điện bị võng thấp sát đầu người đi đường ở kiệt {num} {street}, sợ bị chập cháy.",
        "Trụ điện trước số {num} {street} phát tia lửa khi trời mưa.",
    ),
    "public_security": (
        "Khu vực chợ {ward} thường xuyên có nhóm thanh niên tụ tập gây mất trật tự ban đêm.",
        "Đoạn đường {street} về đêm có người lạ đi xe máy giật túi xách.",
    ),
    "public_service": (
        "Bộ phận một cửa {ward} hẹn trả hồ sơ đã quá hạn hai tuần chưa có kết quả.",
    ),
    "food_health": (
        "Quán ăn ở số {num} {street} chế biến thức ăn mất vệ sinh, để thực phẩm dưới đất.",
        "Con vật chết nằm giữa đường {street} gần số {num} chưa ai dọn.",
    ),
    "other": (
        "Bờ sông gần {street} bị sạt lở, đất lở sát móng nhà dân ở {ward}.",
        "Chó thả rông ở kiệt {num} {street} rượt đuổi trẻ em đi học.",
    ),
}
CLOSINGS = (
    "",
    " Mong cơ quan chức năng sớm kiểm tra và xử lý.",
    " Tình trạng này đã kéo dài hơn một tháng, người dân đã phản ánh nhiều lần.",
    " Xin cảm ơn!",
)
NAMES = ("Nguyễn Văn An", "Trần Thị Bích", "Lê Minh Châu", "Phạm Quốc Dũng", "Võ Thị Hạnh")
RESOLUTIONS = (
    "Đơn vị đã kiểm tra hiện trường và xử lý xong. Cảm ơn người dân đã phản ánh.",
    "Đã khắc phục, mời người dân kiểm tra lại.",
    "Đã phối hợp với địa phương xử lý dứt điểm.",
)
REJECTIONS = {
    "not_competent": "Không thuộc thẩm quyền giải quyết của cơ quan hành chính",
    "insufficient": "Nội dung không rõ ràng, không đủ thông tin để xử lý",
}
Rng = Any  # random.Random, or numpy's Generator where only .uniform/.random are used


def pick(rng: Rng, mix: Mapping[Any, float]) -> Any:
    """A key of the mix, drawn by its share."""
    if not mix:
        raise ValueError("nothing to pick from")
    roll, acc = rng.random() * sum(mix.values()), 0.0
    for key, share in mix.items():
        acc += share
        if roll < acc:
            return key
    return key


def status_mix(age_days: float) -> dict[str, float]:
    """The shares of statuses among reports received `age_days` ago."""
    return next(mix for limit, mix in STATUS_BY_AGE if age_days <= limit)


def receipts(rng: Rng, days: int, per_day: float, now: datetime) -> list[tuple[datetime, str]]:
    """When reports came in over the last `days` days, oldest first, and where each stands now."""
    today = now.astimezone(VN_TZ).date()
    hours = dict(enumerate(HOURLY))
    out = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        mean = per_day * WEEKDAY[day.weekday()]
        midnight = datetime.combine(day, time(), VN_TZ)
        for _ in range(max(0, round(rng.gauss(mean, math.sqrt(mean))))):
            created = midnight + timedelta(hours=pick(rng, hours) + rng.random())
            if created >= now:
                continue
            final = pick(rng, status_mix((now - created).total_seconds() / 86400))
            if final in TRANSIENT:
                created = now - timedelta(minutes=rng.uniform(1, 25))
            out.append((created.astimezone(UTC), final))
    # A demo shows every state: one more report for each status the draw left out.
    for status in sorted({s for _, mix in STATUS_BY_AGE for s in mix} - {f for _, f in out}):
        youngest = next(i for i, (_, mix) in enumerate(STATUS_BY_AGE) if status in mix)
        low = STATUS_BY_AGE[youngest - 1][0] if youngest else 0.0
        age = timedelta(days=min(rng.uniform(low, low + 1), days))
        if status in TRANSIENT:
            age = timedelta(minutes=rng.uniform(1, 25))
        out.append(((now - age).astimezone(UTC), status))
    return sorted(out)


def load_streets(province: str) -> list[tuple[str, str]]:
    """(street name, ward code) of the province's streets (config/provinces/<code>/streets.csv)."""
    path = ROOT / "config" / "provinces" / province / "streets.csv"
    with path.open(encoding="utf-8") as handle:
        return [(row["name"], row["ward_code"]) for row in csv.DictReader(handle)]


def describe(rng: Rng, category: str, street: str, ward: str) -> str:
    """One resident's description of a problem of the category."""
    templates = TEXTS.get(category, TEXTS["other"])
    text = templates[int(rng.random() * len(templates))]
    body = text.format(street=street, num=int(rng.uniform(1, 400)), ward=ward)
    return body + CLOSINGS[int(rng.random() * len(CLOSINGS))]


# --------------------------------------------------------------------------- where


@dataclass(frozen=True)
class Ward:
    """A commune/ward with its boundary, as reports are drawn in it."""

    code: str
    name: str
    full_name: str
    area_km2: float | None
    geometry: Any  # shapely geometry

    @property
    def weight(self) -> float:
        """Towns report most: ∝ 1/√area, ×3 for a phường."""
        area = max(self.area_km2 or self.geometry.area * 12_000, 0.5)
        return (3.0 if self.full_name.startswith("Phường") else 1.0) / math.sqrt(area)


def province_wards(province: str, *, mainland: bool = True) -> list[Ward]:
    """The province's wards with a boundary; `mainland` leaves out islands far off (Hoàng Sa)."""
    index = places.places().index
    province_units = units.wards(province)
    wards = [
        Ward(u.code, u.name, u.full_name, u.area_km2, index.geometry(u.code))
        for u in province_units
        if u.code in index
    ]
    if mainland and wards:
        centres = [(w.geometry.centroid.y, w.geometry.centroid.x) for w in wards]
        mid_lat = sorted(c[0] for c in centres)[len(centres) // 2]
        mid_lon = sorted(c[1] for c in centres)[len(centres) // 2]
        wards = [
            w
            for w, (lat, lon) in zip(wards, centres, strict=True)
            if max(abs(lat - mid_lat), abs(lon - mid_lon)) <= 1.5
        ]
    return sorted(wards, key=lambda w: w.code)


def random_point(rng: Rng, geometry: BaseGeometry) -> tuple[float, float]:
    """A uniformly random (lat, lon) inside a polygon (rejection sampling)."""
    shapely.prepare(geometry)
    minx, miny, maxx, maxy = geometry.bounds
    for _ in range(1000):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geometry, x, y):
            return float(y), float(x)
    point = geometry.representative_point()
    return point.y, point.x


def hot_spots(
    rng: Rng, geometry: BaseGeometry, count: int = HOT_SPOTS
) -> list[tuple[float, float]]:
    """Places in the ward where reports gather."""
    return [random_point(rng, geometry) for _ in range(count)]


class PointSampler:
    """Points over the province: a ward by weight, then near a hot spot or anywhere in it."""

    def __init__(self, rng: Rng, wards: list[Ward]):
        self.rng, self.wards = rng, {w.code: w for w in wards}
        self.weights = {w.code: w.weight for w in wards}
        self.spots: dict[str, list[tuple[float, float]]] = {}

    def __call__(self) -> tuple[Ward, float, float]:
        """(ward, lat, lon)."""
        ward = self.wards[pick(self.rng, self.weights)]
        if self.rng.random() < HOT_SHARE:
            if ward.code not in self.spots:
                self.spots[ward.code] = hot_spots(self.rng, ward.geometry)
            spots = self.spots[ward.code]
            lat, lon = spots[int(self.rng.random() * len(spots))]
            lat += self.rng.gauss(0, HOT_SIGMA_DEG)
            lon += self.rng.gauss(0, HOT_SIGMA_DEG)
            if shapely.contains_xy(ward.geometry, lon, lat):
                return ward, lat, lon
        return ward, *random_point(self.rng, ward.geometry)
