"""Synthetic reports for the benchmarks: a million rows, their points, and the COPY loader.

What a report looks like is the webapp's (webapp/services/administration/history.py, which
the demo seed's history draws from too): the category mix, residents' words per category,
points in the wards around hot spots, statuses by age, handling times, extensions, ratings.
Here it is drawn fast: numpy for the two years of history the heatmap bench counts, a line
a row for the open reports the sweep bench plants around its sweep moment, then
`copy_reports`, the one loader (indexes and foreign keys off, COPY, rebuilt, VACUUM ANALYZE).
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from harness import PROVINCE, log

from webapp.models import OPEN_STATUSES
from webapp.services.administration import history

DAY = 86400.0
NULL = r"\N"


def copy_text(value: str) -> str:
    """Escape a value for COPY's text format."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


@dataclass
class World:
    """What the rows refer to: categories and their SLAs, wards, routing, texts."""

    categories: list[str]
    shares: np.ndarray
    sla_s: dict[tuple[str, str], float]  # (category, urgency) → calendar seconds, roughly
    default_urgency: dict[str, str]
    wards: list[history.Ward]
    route: dict[tuple[str, str | None], int]  # (category, ward or None) → agency id
    ioc_id: int
    texts: dict[str, list[tuple[str, str]]]  # category → (description, search_text), escaped

    def agency(self, category: str, ward: str) -> int:
        """The agency of the routing rules for a category in a ward."""
        return self.route.get((category, ward)) or self.route.get((category, None), self.ioc_id)


def build_world(app, rng, texts_per_category: int = 250) -> World:
    """Categories, mainland wards, routing and texts, from the seeded database."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.infra.text import fold
    from webapp.models import Category, RoutingRule

    with app.app_context():
        cats = {c.code: c for c in db.session.scalars(select(Category))}
        rules = db.session.execute(
            select(RoutingRule.category_code, RoutingRule.unit_code, RoutingRule.agency_id)
            .where(RoutingRule.active)
            .order_by(RoutingRule.priority, RoutingRule.id)
        ).all()
        wards = history.province_wards(PROVINCE)
        db.session.remove()
    route: dict[tuple[str, str | None], int] = {}
    ioc_id = 0
    for category, unit, agency_id in rules:
        if category is None and unit is None:
            ioc_id = ioc_id or agency_id
        elif category is not None:
            route.setdefault((category, unit), agency_id)
    streets = history.load_streets(PROVINCE)
    codes = [c for c in history.CATEGORY_MIX if c in cats]
    texts = {}
    for code in codes:
        texts[code] = []
        for _ in range(texts_per_category):
            body = history.describe(rng, code, rng.choice(streets)[0], rng.choice(wards).name)
            texts[code].append((copy_text(body), copy_text(fold(body))))
    shares = np.array([history.CATEGORY_MIX[c] for c in codes])
    return World(
        categories=codes,
        shares=shares / shares.sum(),
        sla_s={(c, u): calendar_seconds(u, cat) for c, cat in cats.items() for u in SLA_URGENCIES},
        default_urgency={c: cat.default_urgency for c, cat in cats.items()},
        wards=wards,
        route=route,
        ioc_id=ioc_id,
        texts=texts,
    )


SLA_URGENCIES = ("urgent", "normal", "complex")


def calendar_seconds(urgency: str, category) -> float:
    """An SLA in calendar time, roughly (7.5 working hours a day, 5 working days a week)."""
    if urgency == "urgent":
        return category.sla_urgent_hours / 7.5 * 1.4 * DAY
    days = category.sla_complex_days if urgency == "complex" else category.sla_normal_days
    return days * 1.4 * DAY


def sample_points(rng: np.random.Generator, wards: list[history.Ward], n: int):
    """n points, HOT_SHARE of each ward's around its hot spots; a ward by its weight."""
    import shapely

    weight = np.array([w.weight for w in wards])
    counts = rng.multinomial(n, weight / weight.sum())
    lats, lons, units = [], [], []
    for ward, k in zip(wards, counts, strict=True):
        if k == 0:
            continue
        geometry = ward.geometry
        shapely.prepare(geometry)
        minx, miny, maxx, maxy = geometry.bounds
        got_lat: list[np.ndarray] = []
        got_lon: list[np.ndarray] = []
        hot = int(k * history.HOT_SHARE)
        if hot:
            spots = np.array(history.hot_spots(rng, geometry))
            centre = spots[rng.integers(0, len(spots), hot)]
            la = centre[:, 0] + rng.normal(0, history.HOT_SIGMA_DEG, hot)
            lo = centre[:, 1] + rng.normal(0, history.HOT_SIGMA_DEG, hot)
            keep = shapely.contains_xy(geometry, lo, la)
            got_lat.append(la[keep])
            got_lon.append(lo[keep])
        have = sum(len(a) for a in got_lat)
        while have < k:
            batch = max(64, int((k - have) * 2.5))
            la, lo = rng.uniform(miny, maxy, batch), rng.uniform(minx, maxx, batch)
            keep = shapely.contains_xy(geometry, lo, la)
            got_lat.append(la[keep][: k - have])
            got_lon.append(lo[keep][: k - have])
            have = sum(len(a) for a in got_lat)
        lats.append(np.concatenate(got_lat)[:k])
        lons.append(np.concatenate(got_lon)[:k])
        units.extend([ward.code] * k)
    order = rng.permutation(n)  # rows are not stored ward by ward
    return np.concatenate(lats)[order], np.concatenate(lons)[order], np.array(units)[order]


def _mix(mix: dict) -> tuple[list, np.ndarray]:
    keys = list(mix)
    p = np.array([mix[k] for k in keys], dtype=float)
    return keys, p / p.sum()


def _stamps(base: datetime, seconds: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """COPY text of UTC timestamps base + seconds (NULL where not present), vectorised."""
    origin = np.datetime64(base.replace(tzinfo=None), "us")
    values = origin + (seconds * 1e6).astype("timedelta64[us]")
    text = np.char.add(np.datetime_as_string(values, unit="s"), "+00")
    return text if present is None else np.where(present, text, NULL)


# --------------------------------------------------------------------------- two years of history

HISTORY_COLUMNS = (
    "code", "channel", "description", "search_text", "status", "category_code", "agency_id",
    "unit_code", "province_code", "lat", "lon", "location_source", "outside_area", "h3_r6",
    "h3_r8", "h3_r10", "urgency", "due_at", "original_due_at", "extension_status",
    "first_response_at", "resolved_at", "closed_at", "rating", "overdue", "classify_attempts",
    "created_at", "updated_at",
)  # fmt: skip
WAITING = ("received", "classified", "needs_triage")  # no agency, no deadline yet


def history_chunks(
    world: World, n: int, seed: int, now: datetime, start: int = 0, chunk: int = 1_000_000
) -> Iterator[str]:
    """history_lines of n reports drawn `chunk` at a time (ten million fit in memory so),
    numbered from `start`."""
    for first in range(start, start + n, chunk):
        size = min(chunk, start + n - first)
        yield from history_lines(world, size, seed + first, now, start=first)


def history_lines(world: World, n: int, seed: int, now: datetime, start: int = 0) -> Iterator[str]:
    """COPY lines of n reports of the last two years (more of them recently), numpy-drawn;
    their codes numbered from `start`."""
    import h3

    rng = np.random.default_rng(seed)
    log(f"sampling {n:,} points in {len(world.wards)} wards")
    lats, lons, units = sample_points(rng, world.wards, n)
    categories = rng.choice(world.categories, n, p=world.shares)
    created = -730 * DAY * (1 - np.sqrt(rng.uniform(0, 1, n)))  # seconds before now
    age = -created / DAY
    statuses = np.empty(n, dtype=object)
    for limit, mix in reversed(history.STATUS_BY_AGE):
        keys, p = _mix(mix)
        statuses = np.where(age <= limit, rng.choice(keys, n, p=p), statuses)
    urgency = np.array([world.default_urgency[c] for c in categories.tolist()])
    sla_s = np.array([world.sla_s[c, u] for c, u in zip(categories, urgency, strict=True)])
    first_due = created + sla_s
    extension = np.where(
        rng.uniform(0, 1, n) < history.EXTENSION_SHARE,
        np.where(rng.uniform(0, 1, n) < history.EXTENSION_APPROVED, "approved", "refused"),
        NULL,
    )
    due = first_due + np.where(extension == "approved", history.EXTENSION_DAYS * 1.4 * DAY, 0)
    waiting = np.isin(statuses, WAITING)
    responded = created + rng.exponential(history.RESPONSE_HOURS, n) * 3600
    resolved_mask = np.isin(statuses, ["resolved", "closed"])
    share = rng.lognormal(*history.RESOLUTION_SHARE, n)  # of the time allowed; ~1 in 6 late
    resolved = np.minimum(created + (due - created) * share, -300)
    closed = np.minimum(resolved + rng.uniform(*history.CLOSE_AFTER_DAYS, n) * DAY, -60)
    ratings, p = _mix(history.RATING_MIX)
    rated = resolved_mask & (rng.uniform(0, 1, n) < history.RATED_SHARE)
    rating = np.where(rated, rng.choice([str(r) for r in ratings], n, p=p), NULL)
    is_open = np.isin(statuses, [str(s) for s in OPEN_STATUSES])
    overdue = np.where(is_open & ~waiting & (due < 0), "t", "f")
    channels, p = _mix(history.CHANNEL_MIX)
    channel = rng.choice(channels, n, p=p)
    pick = rng.integers(0, 1 << 30, n)
    stamp = {
        "created": _stamps(now, created),
        "first_due": _stamps(now, first_due, ~waiting),
        "due": _stamps(now, due, ~waiting),
        "responded": _stamps(now, responded, ~waiting),
        "resolved": _stamps(now, resolved, resolved_mask),
        "closed": _stamps(now, closed, statuses == "closed"),
        "updated": _stamps(now, np.where(resolved_mask, resolved, created)),
    }
    log("computing H3 cells (r6, r8, r10) and writing COPY rows")
    cell = h3.latlng_to_cell
    rows = zip(
        lats.tolist(), lons.tolist(), units.tolist(), categories.tolist(), statuses.tolist(),
        urgency.tolist(), channel.tolist(), pick.tolist(), stamp["created"].tolist(),
        stamp["first_due"].tolist(), stamp["due"].tolist(), extension.tolist(),
        stamp["responded"].tolist(), stamp["resolved"].tolist(), stamp["closed"].tolist(),
        rating.tolist(), overdue.tolist(), stamp["updated"].tolist(),
        strict=True,
    )  # fmt: skip
    for i, (lat, lon, unit, category, status, urg, via, k, created_at, first_due_at, due_at,
            extended, responded_at, resolved_at, closed_at, stars, late,
            updated_at) in enumerate(rows):  # fmt: skip
        texts = world.texts[category]
        description, folded = texts[k % len(texts)]
        agency = NULL if status in WAITING else world.agency(category, unit)
        if status in WAITING:
            urg = extended = NULL
        yield (
            f"PA-B{start + i:08d}\t{via}\t{description}\t{folded}\t{status}\t{category}\t{agency}\t"
            f"{unit}\t{PROVINCE}\t{lat!r}\t{lon!r}\tpin\tf\t{cell(lat, lon, 6)}\t"
            f"{cell(lat, lon, 8)}\t{cell(lat, lon, 10)}\t{urg}\t{due_at}\t{first_due_at}\t"
            f"{extended}\t{responded_at}\t{resolved_at}\t{closed_at}\t{stars}\t{late}\t1\t"
            f"{created_at}\t{updated_at}\n"
        )


# --------------------------------------------------------------------------- open reports

OPEN_COLUMNS = (
    "id, code, channel, description, search_text, status, category_code, confidence, "
    "nlu_ranking, classified_at, classify_attempts, agency_id, unit_code, province_code, "
    "lat, lon, location_source, outside_area, h3_r6, h3_r8, h3_r10, urgency, due_at, "
    "first_response_at, created_at, updated_at, remind_at, reminded_at, escalated_at, "
    "overdue, original_due_at, waiting_since, resolved_at, closed_at"
)
# Statuses in which the clock runs (webapp.services.sla.sweep.CLOCK_RUNNING), with their shares.
RUNNING_STATUSES = {"assigned": 0.58, "in_progress": 0.36, "reopened": 0.03, "transferred": 0.03}
TRIAGE_SHARE = 0.03  # needs_triage: no agency, no deadline yet
WAITING_SHARE = 0.015  # waiting for the resident: clock paused (waiting_since set)
OVERDUE_PHASE = 1.05  # elapsed share of the SLA drawn in [0, 1.05): ~5 % overdue (escalated)
NEXT_SWEEP_S = 60  # the profiled run is the next minute's sweep, with its own due reports
PENDING_WINDOW_S = 1800  # due reports of the first run became due in the last 30 minutes
QUIET_S = 3600  # no other deadline falls within an hour of the sweep moments


class Stamp:
    """Epoch seconds → PostgreSQL timestamptz text, fast (formatted minutes are cached)."""

    def __init__(self) -> None:
        self.minutes: dict[int, str] = {}

    def __call__(self, t: float | None) -> str:
        """'2026-11-23 15:04:05+00', or COPY's NULL for None."""
        if t is None:
            return NULL
        minute, second = divmod(int(t), 60)
        prefix = self.minutes.get(minute)
        if prefix is None:
            prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%d %H:%M")
            self.minutes[minute] = prefix
        return f"{prefix}:{second:02d}+00"


@dataclass
class Plan:
    """How many open reports (and closed ones), and which ids are due around the sweep."""

    reports: int
    closed: int
    now: float
    special: dict[int, str]  # report id → remind_now, escalate_now, remind_next, escalate_next
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def next_now(self) -> float:
        """The next minute's sweep moment."""
        return self.now + NEXT_SWEEP_S


def make_plan(n: int, closed: int, due_fraction: float, now: float, rng) -> Plan:
    """Pick which ids are due at `now` (and at the next minute's sweep, for the profile run)."""
    remind, escalate = round(n * due_fraction), round(n * due_fraction / 2)
    kinds = ["remind_now"] * remind + ["escalate_now"] * escalate
    kinds += ["remind_next"] * remind + ["escalate_next"] * escalate
    if len(kinds) > n:
        raise SystemExit("--due-fraction too large for --reports")
    ids = rng.sample(range(1, n + 1), len(kinds))
    return Plan(n, closed, now, dict(zip(ids, kinds, strict=True)))


def open_lines(world: World, plan: Plan, rng) -> Iterator[str]:
    """COPY lines of the open reports (then the closed ones), one per id; see bench/README."""
    import h3

    stamp, cell = Stamp(), h3.latlng_to_cell
    total = plan.reports + plan.closed
    points = sample_points(np.random.default_rng(rng.randrange(1 << 30)), world.wards, total)
    lats, lons, units = (a.tolist() for a in points)
    cat_cum, last = np.cumsum(world.shares).tolist(), len(world.categories) - 1
    names, status_cum = list(RUNNING_STATUSES), np.cumsum(list(RUNNING_STATUSES.values())).tolist()
    now, counts = plan.now, plan.counts
    random, uniform = rng.random, rng.uniform
    for rid in range(1, total + 1):
        category = world.categories[min(bisect(cat_cum, random()), last)]
        urgency = world.default_urgency[category]
        roll = random()
        if roll < 0.1:
            urgency = "complex" if urgency != "complex" else "normal"
        elif roll < 0.2:
            urgency = "urgent" if urgency != "urgent" else "normal"
        sla = world.sla_s[(category, urgency)]
        lat, lon, ward = lats[rid - 1], lons[rid - 1], units[rid - 1]
        texts = world.texts[category]
        description, search = texts[int(random() * len(texts))]
        kind = plan.special.get(rid)
        state = random()  # triage / waiting / clock running
        status = names[min(bisect(status_cum, random()), 3)]
        agency: int | None = world.agency(category, ward)
        reminded = escalated = waiting = first_response = resolved = closed = None
        overdue = False
        if rid > plan.reports:
            # History (--closed): handled within the past year, mostly before the reminder, so
            # never stamped; the partial indexes do not exclude such rows.
            created = now - uniform(2 * DAY + 1.3 * sla, 365 * DAY)
            remind, due = created + 0.75 * sla, created + sla
            took = uniform(0.05, 1.3) * sla
            resolved = created + took
            first_response = created + 0.1 * took
            if took > 0.75 * sla:
                reminded = remind + uniform(5, 60)
            if took > sla:
                escalated, overdue = due + uniform(5, 60), True
            if random() < 0.85:
                status, closed = "closed", resolved + uniform(0.5, 2) * DAY
            else:
                status = "resolved"
            kind = status
        elif kind is not None:
            # Planted: past its reminder (or deadline) at the sweep moment, not yet handled.
            at = now if kind.endswith("_now") else plan.next_now
            window = PENDING_WINDOW_S if kind.endswith("_now") else NEXT_SWEEP_S - 2
            if kind.startswith("remind"):
                remind = at - uniform(1, window)
                created = remind - 0.75 * sla
                due = created + sla
            else:
                due = at - uniform(1, window)
                created = due - sla
                remind = created + 0.75 * sla
                reminded = remind + uniform(5, 60)
        elif state < TRIAGE_SHARE:
            status, agency, urgency = "needs_triage", None, None
            created = now - uniform(600, 3 * DAY)
            remind = due = None
            kind = status
        else:
            # Somewhere in its SLA: keep every deadline an hour or more from the sweep moments.
            while True:
                created = now - uniform(0, OVERDUE_PHASE) * sla
                remind, due = created + 0.75 * sla, created + sla
                if abs(remind - now) > QUIET_S and abs(due - now) > QUIET_S:
                    break
            stamp_from = now
            if state < TRIAGE_SHARE + WAITING_SHARE:
                # Waiting for the resident: nothing is stamped after the pause began.
                waiting = stamp_from = now - uniform(0, now - created)
                counts["waiting"] = counts.get("waiting", 0) + 1
            if remind < stamp_from:
                reminded = remind + uniform(5, 60)
            if due < stamp_from:
                escalated, overdue = due + uniform(5, 60), True
            kind = status
        counts[kind] = counts.get(kind, 0) + 1
        if status == "in_progress":
            first_response = created + uniform(0.05, 0.3) * (now - created)
        classified = created + uniform(2, 30)
        moments = (classified, first_response, reminded, escalated, waiting, resolved, closed)
        updated = max(t for t in moments if t)
        conf = f"{uniform(0.62, 0.99):.4f}"
        via = random()
        channel = "web" if via < 0.7 else ("telegram" if via < 0.85 else "zalo")
        month = stamp(created)[2:7].replace("-", "")
        yield (
            f"{rid}\tPA-{month}-{rid:06d}\t{channel}\t{description}\t{search}\t{status}\t"
            f'{category}\t{conf}\t[["{category}", {conf}]]\t{stamp(classified)}\t1\t'
            f"{agency if agency else NULL}\t{ward}\t{PROVINCE}\t{lat!r}\t{lon!r}\tpin\tf\t"
            f"{cell(lat, lon, 6)}\t{cell(lat, lon, 8)}\t{cell(lat, lon, 10)}\t"
            f"{urgency or NULL}\t{stamp(due)}\t{stamp(first_response)}\t"
            f"{stamp(created)}\t{stamp(updated)}\t{stamp(remind)}\t{stamp(reminded)}\t"
            f"{stamp(escalated)}\t{'t' if overdue else 'f'}\t{stamp(due)}\t{stamp(waiting)}\t"
            f"{stamp(resolved)}\t{stamp(closed)}\n"
        )


# --------------------------------------------------------------------------- COPY


# The loader lives beside this module; the benchmarks import it from here.
from loader import copy_reports, rebuild_rollup, same_ddl  # noqa: E402, F401
