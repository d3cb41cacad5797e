"""The daily open dataset (/du-lieu-mo): the public view's rules in CSV and GeoJSON, the page."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest

from config.settings import VN_TZ
from tests.factories import (
    HAI_CHAU,
    AssignedReportFactory,
    ContactFactory,
    ReportFactory,
    SubmittedReportFactory,
)
from webapp.extensions import db
from webapp.infra import storage
from webapp.infra import task_names as names
from webapp.models import Report, ReportStatus
from webapp.models.types import utcnow
from webapp.services.casework import workflow
from webapp.services.intake import serializers
from webapp.services.ioc import opendata
from workers.schedule import BEAT_SCHEDULE

NAME, PHONE, EMAIL = "Nguyễn Thị Riêng Tư", "0905777888", "rieng.tu@example.vn"
TEXT_PHONE = "0914222333"


@pytest.fixture()
def exports(app, monkeypatch, tmp_path) -> Path:
    """The export files in a folder of this test's own."""
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "STORAGE_URL", "")
    return tmp_path


def _today():
    return utcnow().astimezone(VN_TZ).date()


@pytest.fixture()
def published(app, exports) -> dict[str, str]:
    """A resolved report with a phone number in its text, a sensitive one, a rejected one."""
    with app.app_context():

        def contact():
            return ContactFactory(name=NAME, phone=PHONE, email=EMAIL)

        normal = AssignedReportFactory(
            contact=contact(), description=f"Đèn đường hỏng trước nhà, gọi {TEXT_PHONE} nhé"
        )
        workflow.transition(normal, ReportStatus.RESOLVED, note=f"Đã sửa, liên hệ {PHONE}")
        sensitive = SubmittedReportFactory(
            contact=contact(), description="Nhóm thanh niên tụ tập gây rối trước kiệt 5"
        )
        sensitive.category_code = "public_security"
        rejected = SubmittedReportFactory(
            contact=contact(), description=f"Hàng xóm ồn ào, email {EMAIL} gọi {TEXT_PHONE}"
        )
        workflow.transition(rejected, ReportStatus.REJECTED, note="Không thuộc phạm vi")
        db.session.commit()
        codes = {"normal": normal.code, "sensitive": sensitive.code, "rejected": rejected.code}
        db.session.remove()
    return codes


def _csv(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel needs the BOM to read Vietnamese
    reader = csv.DictReader(io.StringIO(text[1:]))
    assert tuple(reader.fieldnames or ()) == opendata.COLUMNS
    return list(reader)


def _files(folder: Path) -> tuple[bytes, dict, dict]:
    base = folder / opendata.FOLDER
    geo = json.loads((base / "reports.geojson").read_text(encoding="utf-8"))
    meta = json.loads((base / "meta.json").read_text(encoding="utf-8"))
    return (base / "reports.csv").read_bytes(), geo, meta


def _expected(view: dict, name: str) -> str:
    value = view.get(name)
    return "" if value is None else str(value)


def test_the_files_hold_what_the_public_view_shows_and_nothing_more(ctx, exports, published):
    meta = opendata.build(_today())
    raw, geo, stored_meta = _files(exports)
    rows = {row["code"]: row for row in _csv(raw)}
    assert meta["count"] == stored_meta["count"] == len(rows) == 3
    assert set(rows) == set(published.values())
    blob = raw.decode("utf-8") + json.dumps(geo, ensure_ascii=False)
    for secret in (NAME, PHONE, EMAIL, TEXT_PHONE, "gây rối"):
        assert secret not in blob

    # Every column is the public view's value: the rules cannot drift apart.
    for code, row in rows.items():
        view = serializers.public_view(db.session.scalar(db.select(Report).filter_by(code=code)))
        for name in opendata.COLUMNS:
            if name != "on_time":
                assert row[name] == _expected(view, name), (code, name)

    normal = rows[published["normal"]]
    assert "[số điện thoại]" in normal["description"]
    assert normal["status"] == "resolved" and normal["status_label"] == "Đã xử lý xong"
    assert normal["on_time"] == "true" and normal["agency"] and normal["unit"]
    assert normal["tracking_url"].endswith(f"/theo-doi/{published['normal']}")
    # The point is the centre of the report's cell, never where the resident stood.
    lat, lon = float(normal["lat"]), float(normal["lon"])
    assert (lat, lon) != HAI_CHAU and abs(lat - HAI_CHAU[0]) < 0.01

    sensitive = rows[published["sensitive"]]
    assert sensitive["category"] == "public_security"
    assert sensitive["description"] == sensitive["lat"] == sensitive["lon"] == ""

    rejected = rows[published["rejected"]]
    assert rejected["status"] == "rejected" and rejected["created_at"]
    assert rejected["description"] == rejected["category"] == rejected["agency"] == ""
    assert rejected["lat"] == rejected["on_time"] == ""

    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == 3
    features = {f["id"]: f for f in geo["features"]}
    point = features[published["normal"]]["geometry"]
    assert point == {"type": "Point", "coordinates": [lon, lat]}  # [lon, lat], as GeoJSON says
    assert point["coordinates"][0] > 100  # a longitude in Vietnam, not a latitude
    assert features[published["normal"]]["properties"]["on_time"] is True
    assert features[published["sensitive"]]["geometry"] is None
    assert features[published["rejected"]]["geometry"] is None
    assert features[published["rejected"]]["properties"]["description"] is None
    assert set(features[published["normal"]]["properties"]) == set(opendata.COLUMNS) - {
        "lat",
        "lon",
    }


def test_the_dataset_covers_open_data_days_up_to_the_end_of_yesterday(
    app, ctx, exports, monkeypatch
):
    monkeypatch.setitem(app.config, "OPEN_DATA_DAYS", 2)
    midnight = datetime.combine(_today(), time(), VN_TZ)
    made = {
        "yesterday late": midnight - timedelta(minutes=30),
        "the day before": midnight - timedelta(days=1, hours=12),
        "too old": midnight - timedelta(days=2, minutes=30),
        "today": midnight + timedelta(minutes=30),
    }
    codes = {label: ReportFactory(created_at=when).code for label, when in made.items()}
    ReportFactory(created_at=midnight - timedelta(hours=1), code=None)  # never published
    db.session.commit()
    meta = opendata.build()
    rows = _csv(_files(exports)[0])
    assert [r["code"] for r in rows] == [codes["the day before"], codes["yesterday late"]]
    assert meta["day"] == (_today() - timedelta(days=1)).isoformat()
    assert meta["first_day"] == (_today() - timedelta(days=2)).isoformat()


def test_the_files_are_not_found_before_the_first_build(client, exports):
    for name in ("reports.csv", "reports.geojson"):
        response = client.get(f"/du-lieu-mo/{name}")
        assert response.status_code == 404
        assert "Dữ liệu mở chưa được tạo" in response.get_data(as_text=True)
    page = client.get("/du-lieu-mo").get_data(as_text=True)
    assert "Dữ liệu chưa được tạo lần nào" in page


def test_the_page_and_the_files_after_a_build(app, client, exports, published):
    with app.app_context():
        opendata.build(_today())
    page = client.get("/du-lieu-mo")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in opendata.COLUMNS:
        assert f"<code>{name}</code>" in html
    assert 'href="/du-lieu-mo/reports.csv"' in html and 'href="/du-lieu-mo/reports.geojson"' in html
    assert "3 phản ánh" in html and "Từ điển dữ liệu" in html
    assert f"CC BY 4.0 — ghi nguồn: {app.config['PRIVACY_CONTROLLER']}" in html
    assert "Những gì không bao giờ được công bố" in html
    english = client.get("/du-lieu-mo?lang=en").get_data(as_text=True)
    assert "Data dictionary" in english and "Report code, as on the lookup page" in english

    got = client.get("/du-lieu-mo/reports.csv")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert got.headers["Cache-Control"] == "public, max-age=3600"
    assert {r["code"] for r in _csv(got.get_data())} == set(published.values())
    geo = client.get("/du-lieu-mo/reports.geojson")
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    assert geo.headers["Cache-Control"] == "public, max-age=3600"
    assert len(json.loads(geo.get_data())["features"]) == 3
    got.close()
    geo.close()
    assert client.get("/du-lieu-mo/meta.json").status_code == 404  # only the two files


def test_from_a_bucket_the_file_is_a_signed_link(client, monkeypatch):
    class Bucket:
        def local_path(self, name: str) -> None:
            return None

        def exists(self, name: str) -> bool:
            return name == "opendata/reports.csv"

        def presigned_url(self, name: str, seconds: int) -> str:
            return f"https://s3.example/{name}?expires={seconds}"

    monkeypatch.setattr(storage, "export_objects", Bucket)
    response = client.get("/du-lieu-mo/reports.csv")
    assert response.status_code == 302
    assert response.headers["Location"] == "https://s3.example/opendata/reports.csv?expires=7200"
    assert response.headers["Cache-Control"] == "public, max-age=3600"
    assert client.get("/du-lieu-mo/reports.geojson").status_code == 404


def test_the_public_pages_link_to_the_open_data_page(client):
    transparency = client.get("/cong-khai").get_data(as_text=True)
    assert 'id="open-data-link"' in transparency and 'href="/du-lieu-mo"' in transparency
    assert 'href="/du-lieu-mo"' in client.get("/").get_data(as_text=True)


def test_the_cli_and_the_nightly_task_build_it(app, exports, published):
    day, first = _today(), _today() - timedelta(days=app.config["OPEN_DATA_DAYS"] - 1)
    out = app.test_cli_runner().invoke(args=["opendata", "build", "--day", f"{day}"]).output
    assert f"Open data: 3 reports from {first} to {day}." in out
    celery = app.extensions["celery"]
    celery.loader.import_default_modules()
    assert names.BUILD_OPEN_DATA in celery.tasks and names.BUILD_OPEN_DATA in names.ALL
    assert names.KIND_OF[names.BUILD_OPEN_DATA] == names.EXPORTS
    assert any(e["task"] == names.BUILD_OPEN_DATA for e in BEAT_SCHEDULE.values())
    # This app's task (another test's app may be Celery's default, with other folders).
    with app.app_context():
        assert celery.tasks[names.BUILD_OPEN_DATA]() == 0  # the nightly run: nothing yet
    assert json.loads((exports / "opendata/meta.json").read_text())["count"] == 0
