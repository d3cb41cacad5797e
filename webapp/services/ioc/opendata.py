"""The daily open dataset: published reports as CSV and GeoJSON, under the public-view rules.

Every row is built from `serializers.public_view`, the same view the tracking page and the
Open311 API show, so the rules cannot drift: scrubbed text, a point no finer than the public
map (the centre of the report's H3 cell at resolution 8), nothing but the status for rejected
or moderated reports, no text and no point for sensitive categories, never the resident.

`build` writes `opendata/reports.csv` (UTF-8 with a BOM, for Excel), `opendata/reports.geojson`
and `opendata/meta.json` among the export files (`storage.export_objects`: a local folder or
the S3 bucket), so every web process serves the same files; each is written whole under a
temporary name and then switched in (an S3 put replaces a whole object), so a reader never
sees half a file. The beat runs it every night (`workers.export_tasks.build_open_data`);
`flask opendata build` runs it by hand.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, load_only, noload

from config.settings import VN_TZ
from webapp.extensions import db
from webapp.infra import storage
from webapp.models import AdminUnit, Agency, Category, Report
from webapp.models.types import utcnow
from webapp.services.intake import serializers
from webapp.services.ioc.exports.writers import csv_chunks
from webapp.services.ioc.rollup.keys import outcome

FOLDER = "opendata"
CSV_NAME, GEOJSON_NAME, META_NAME = "reports.csv", "reports.geojson", "meta.json"
FILES = {
    CSV_NAME: "text/csv; charset=utf-8",
    GEOJSON_NAME: "application/geo+json",
}
LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/deed.vi"
# The labels in the files are Vietnamese (the dictionary on the page is in the reader's).
LOCALE = "vi"
# Reports read from the database at a time (the dataset can hold a million rows).
BATCH = 500


@dataclass(frozen=True)
class Field:
    """One column of the CSV (a property of each GeoJSON feature; lat/lon are its point)."""

    name: str
    kind: Any
    meaning: Any


_TEXT, _TIME, _NUMBER, _BOOL = _l("văn bản"), _l("thời điểm"), _l("số thực"), _l("đúng/sai")
# The data dictionary, in the order of the CSV columns. Names are those of the public view.
FIELDS = (
    Field("code", _TEXT, _l("Mã phản ánh, như trên trang tra cứu (ví dụ PA-2611-000123).")),
    Field("created_at", _TIME, _l("Thời điểm tiếp nhận (ISO 8601, giờ UTC).")),
    Field("updated_at", _TIME, _l("Thời điểm cập nhật gần nhất (ISO 8601, giờ UTC).")),
    Field("status", _TEXT, _l("Mã trạng thái xử lý (received, assigned, resolved, …).")),
    Field("status_label", _TEXT, _l("Tên trạng thái xử lý bằng tiếng Việt.")),
    Field("category", _TEXT, _l("Mã lĩnh vực của phản ánh.")),
    Field("category_label", _TEXT, _l("Tên lĩnh vực bằng tiếng Việt.")),
    Field("agency", _TEXT, _l("Cơ quan được giao xử lý.")),
    Field("unit", _TEXT, _l("Xã, phường nơi xảy ra sự việc.")),
    Field("due_at", _TIME, _l("Hạn xử lý hiện tại (ISO 8601, giờ UTC).")),
    Field("resolved_at", _TIME, _l("Thời điểm xử lý xong (ISO 8601, giờ UTC).")),
    Field(
        "on_time",
        _BOOL,
        _l(
            "true nếu xử lý xong trong hạn ban đầu, false nếu trễ hạn (kể cả khi được gia hạn); "
            "để trống khi chưa xử lý xong hoặc không có hạn."
        ),
    ),
    Field(
        "description",
        _TEXT,
        _l(
            "Nội dung phản ánh đã tự động che số điện thoại, email, số giấy tờ và biển số xe; "
            "để trống với lĩnh vực nhạy cảm và phản ánh chỉ công bố trạng thái."
        ),
    ),
    Field(
        "lat",
        _NUMBER,
        _l(
            "Vĩ độ tâm ô lục giác (khoảng 0,7 km²) chứa vị trí, như trên bản đồ công khai; "
            "để trống với lĩnh vực nhạy cảm hoặc phản ánh không có vị trí."
        ),
    ),
    Field("lon", _NUMBER, _l("Kinh độ tâm ô lục giác đó (như cột lat).")),
    Field("tracking_url", _TEXT, _l("Trang theo dõi công khai của phản ánh.")),
)
COLUMNS = tuple(f.name for f in FIELDS)


def object_name(name: str) -> str:
    """The export-store name of one open-data file."""
    return f"{FOLDER}/{name}"


def default_day(now: datetime | None = None) -> date:
    """Yesterday on the province's clock: the last whole day."""
    return (now or utcnow()).astimezone(VN_TZ).date() - timedelta(days=1)


def window(day: date) -> tuple[datetime, datetime]:
    """The times the dataset of `day` covers: OPEN_DATA_DAYS days up to the end of `day`."""
    days = max(1, int(current_app.config["OPEN_DATA_DAYS"]))
    start = datetime.combine(day - timedelta(days=days - 1), time(), VN_TZ)
    return start, datetime.combine(day + timedelta(days=1), time(), VN_TZ)


def _on_time(report: Report) -> bool | None:
    """Resolved by the first deadline (True), after it (False); None if unresolved or none."""
    result = outcome(
        {
            "resolved_at": report.resolved_at,
            "original_due_at": report.original_due_at,
            "due_at": report.due_at,
            "extension_status": report.extension_status,
        }
    )
    return {"on_time": True, "late": False, "late_extension": False}.get(result)


def record(report: Report) -> dict[str, Any]:
    """One report as the dataset has it: the public view's fields, nothing else."""
    view = serializers.public_view(report, LOCALE)
    row = {name: view.get(name) for name in COLUMNS}
    row["on_time"] = _on_time(report) if view["public"] else None
    return row


def records(day: date) -> Iterator[dict[str, Any]]:
    """The dataset's rows, oldest first, read in batches (never the whole table at once).

    Read in a session of its own: the reports it loads without photos and history never meet
    the caller's.
    """
    start, end = window(day)
    # Photos and history are not in the dataset: not loaded, the public view finds none (their
    # links need a request, and scrubbing every note would double the time of a run).
    stmt = (
        select(Report)
        .where(Report.code.is_not(None), Report.created_at >= start, Report.created_at < end)
        .order_by(Report.created_at, Report.id)
        .options(noload(Report.photos), noload(Report.events))
        .execution_options(yield_per=BATCH)
    )
    with Session(db.engine) as session:
        # Categories, agencies and units held for the whole run: the reports' many-to-one
        # relationships are then found in the session, not loaded again batch after batch.
        pinned = [
            *session.scalars(select(Category)),
            *session.scalars(select(Agency)),
            *session.scalars(select(AdminUnit).options(load_only(AdminUnit.full_name))),
        ]
        for report in session.scalars(stmt):
            yield record(report)
        del pinned


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class _GeoJSONWriter:
    """A FeatureCollection written one feature at a time ([lon, lat], as GeoJSON orders)."""

    def __init__(self, out: IO[str]):
        self.out, self.first = out, True
        out.write('{"type": "FeatureCollection", "features": [\n')

    def add(self, row: dict[str, Any]) -> None:
        lat, lon = row["lat"], row["lon"]
        geometry = (
            None if lat is None or lon is None else {"type": "Point", "coordinates": [lon, lat]}
        )
        feature = {
            "type": "Feature",
            "id": row["code"],
            "geometry": geometry,
            "properties": {k: v for k, v in row.items() if k not in ("lat", "lon")},
        }
        self.out.write(("" if self.first else ",\n") + json.dumps(feature, ensure_ascii=False))
        self.first = False

    def close(self) -> None:
        self.out.write("\n]}\n")


def _write(day: date, folder: Path) -> int:
    """Write both files into `folder` in one pass over the reports; returns the row count."""
    count = 0
    with (
        (folder / CSV_NAME).open("wb") as csv_out,
        (folder / GEOJSON_NAME).open("w", encoding="utf-8") as geo_out,
    ):
        geojson = _GeoJSONWriter(geo_out)

        def rows() -> Iterator[list[Any]]:
            nonlocal count
            for row in records(day):
                geojson.add(row)
                count += 1
                yield [_csv_value(row[name]) for name in COLUMNS]

        for chunk in csv_chunks(COLUMNS, rows()):
            csv_out.write(chunk)
        geojson.close()
    return count


def build(day: date | None = None) -> dict[str, Any]:
    """Write the dataset of reports created up to the end of `day` (default: yesterday).

    Returns what meta.json says: generated_at, count, day, the first day and the licence.
    """
    day = day or default_day()
    files = storage.export_objects()
    folder = Path(tempfile.mkdtemp(prefix="opendata-"))
    try:
        count = _write(day, folder)
        for name, content_type in FILES.items():
            files.put_file(
                object_name(name), folder / name, private=False, content_type=content_type
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    start, _end = window(day)
    meta = {
        "generated_at": utcnow().isoformat(),
        "count": count,
        "day": day.isoformat(),
        "first_day": start.date().isoformat(),
        "licence": LICENCE,
        "attribution": current_app.config["PRIVACY_CONTROLLER"],
    }
    data = json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8")
    files.put(object_name(META_NAME), data, private=False, content_type="application/json")
    return meta


def read_meta() -> dict[str, Any] | None:
    """What the last build wrote in meta.json; None before the first build."""
    try:
        return dict(json.loads(storage.export_objects().get(object_name(META_NAME))))
    except (storage.MissingObject, ValueError):
        return None
