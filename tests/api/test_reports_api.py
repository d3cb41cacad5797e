"""The public JSON API and intake through HTTP: what is stored, what is refused."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.fixtures.images import make_bomb, make_jpeg, not_an_image
from webapp.extensions import db
from webapp.infra.text import fold
from webapp.models import Photo, Report, ReportEvent

HAI_CHAU = (16.0700, 108.2246)  # Bạch Đằng riverside, well inside phường Hải Châu


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _post(client, data: dict, photos: list[tuple[bytes, str]] = ()):
    payload = dict(data)
    payload["photos"] = [(io.BytesIO(content), name) for content, name in photos]
    return client.post("/api/v1/reports", data=payload, content_type="multipart/form-data")


def _ward_name(app, code: str) -> str:
    from webapp.models import AdminUnit

    with app.app_context():
        return db.session.get(AdminUnit, code).full_name


def test_geotagged_photo_places_report_in_its_ward(app, client):
    resp = _post(
        client,
        {"description": "Ổ gà lớn giữa đường, xe máy đi qua rất nguy hiểm"},
        [(make_jpeg(gps=HAI_CHAU), "IMG_0001.jpg")],
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["code"].startswith("PA-")
    assert body["status"] == "received"
    # The submitter's link carries the secret token; the public page is by code.
    assert "/t/" in body["tracking_url"] and body["code"] not in body["tracking_url"]
    assert body["public_url"] == f"http://127.0.0.1:5000/theo-doi/{body['code']}"
    assert body["unit"] == "Phường Hải Châu"
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == body["code"]))
        assert report.location_source == "exif"
        assert (report.lat, report.lon) == pytest.approx(HAI_CHAU, abs=1e-4)
        assert report.unit_code is not None and report.h3_r8 is not None
        assert len(report.photos) == 1 and report.photos[0].gps_lat is not None
        assert [e.to_status for e in report.events] == ["received"]


def test_public_photo_copies_carry_no_exif(client):
    original = make_jpeg(gps=HAI_CHAU, orientation=6)
    body = _post(
        client, {"description": "Cây xanh gãy đổ chắn ngang vỉa hè"}, [(original, "a.jpg")]
    ).get_json()
    assert body["photos"], body
    for variant in ("web", "thumb"):
        resp = client.get(body["photos"][0][variant])
        assert resp.status_code == 200
        assert resp.mimetype == "image/jpeg"
        image = Image.open(io.BytesIO(resp.data))
        assert not image.getexif(), f"{variant} copy still has EXIF"
        assert "exif" not in image.info
        assert b"Exif" not in resp.data[:4096]
    # The resident's original, with its GPS, is never served publicly.
    assert original not in (client.get(body["photos"][0]["web"]).data,)


@pytest.mark.parametrize(
    ("data", "photos", "status", "needle"),
    [
        ({"description": "Rác thải đổ trộm đầu hẻm"}, [(make_bomb(), "bomb.png")], 422, "ảnh"),
        ({"description": "Rác thải đổ trộm đầu hẻm"}, [(not_an_image(), "photo.jpg")], 422, "ảnh"),
        ({"description": ""}, [], 422, "mô tả"),
        ({"description": "   "}, [(make_jpeg(), "a.jpg")], 422, "mô tả"),
        ({"description": "Đèn đường hỏng", "lat": "abc", "lon": "108"}, [], 422, "tọa độ"),
    ],
    ids=["bomb", "not-an-image", "no-description", "blank-description", "bad-lat"],
)
def test_bad_input_gets_clear_vietnamese_error_and_stores_nothing(
    app, client, data, photos, status, needle
):
    resp = _post(client, data, photos)
    assert resp.status_code == status
    body = resp.get_json()
    assert needle in body["message"].lower()
    assert _count(app, Report) == 0
    assert _count(app, Photo) == 0
    assert _count(app, ReportEvent) == 0


def test_oversize_photo_is_refused_with_413_and_nothing_stored(app, client):
    app.config["PHOTO_MAX_BYTES"] = 50_000
    try:
        big = make_jpeg(width=2000, height=2000, quality=100)
        assert len(big) > 50_000
        resp = _post(client, {"description": "Ảnh chụp ổ gà rất lớn"}, [(big, "big.jpg")])
    finally:
        app.config["PHOTO_MAX_BYTES"] = 10 * 1024 * 1024
    assert resp.status_code == 413
    assert "vượt quá dung lượng" in resp.get_json()["message"]
    assert _count(app, Report) == 0


def test_request_over_the_upload_limit_is_refused(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    try:
        resp = _post(client, {"description": "Ảnh rất lớn"}, [(b"\xff" * 200_000, "x.jpg")])
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 60 * 1024 * 1024
    assert resp.status_code == 413
    assert _count(app, Report) == 0


def _stored_files(app) -> set[str]:
    return {f for _, _, files in os.walk(app.config["UPLOAD_DIR"]) for f in files}


def test_a_bad_photo_among_good_ones_refuses_the_whole_report(app, client):
    before = _stored_files(app)
    resp = _post(
        client,
        {"description": "Nước cống tràn ra đường"},
        [(make_jpeg(), "ok.jpg"), (not_an_image(), "bad.jpg")],
    )
    assert resp.status_code == 422
    assert _count(app, Report) == 0 and _count(app, Photo) == 0
    assert _stored_files(app) == before, "files of a refused report were left behind"


def test_six_photos_are_refused(app, client):
    resp = _post(
        client, {"description": "Rác thải khắp nơi"}, [(make_jpeg(), f"{i}.jpg") for i in range(6)]
    )
    assert resp.status_code == 422
    assert "5 ảnh" in resp.get_json()["message"]
    assert _count(app, Report) == 0


def test_ward_name_in_the_address_is_placed_by_the_offline_gazetteer(app, client):
    resp = _post(
        client, {"description": "Rác thải chất đống nhiều ngày", "address": "kiệt 12, P. Hải Châu"}
    )
    body = resp.get_json()
    assert resp.status_code == 201, body
    assert body["unit"] == "Phường Hải Châu"
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == body["code"]))
        assert report.location_source == "address"


def test_place_name_in_the_description_is_placed_when_nothing_else_is_given(client):
    body = _post(client, {"description": "Đèn đường ở phuong hoa khanh tắt cả tuần nay"}).get_json()
    # Accents sit differently in different sources ("Hoà"/"Hòa"): compare folded.
    assert fold(body["unit"]) == fold("Phường Hòa Khánh")


def test_point_outside_the_province_is_accepted_and_goes_to_triage(app, client):
    resp = _post(
        client, {"description": "Ổ gà trên phố Hàng Bài", "lat": "21.0285", "lon": "105.8542"}
    )
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["status"] == "needs_triage"
    assert body["unit"] is None
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == body["code"]))
        assert report.outside_area
        assert [e.to_status for e in report.events] == ["received", "needs_triage"]


def test_report_without_any_location_is_kept(client):
    body = _post(client, {"description": "Có người đổ rác bừa bãi mỗi tối"}).get_json()
    assert body["status"] == "received" and body["lat"] is None


def test_get_public_view_hides_personal_data(app, client):
    resp = _post(
        client,
        {
            "description": "Karaoke hát to sau 23 giờ mỗi đêm",
            "contact": "0905123456",
            "contact_name": "Nguyễn Thị Lan",
            "lat": HAI_CHAU[0],
            "lon": HAI_CHAU[1],
        },
    )
    code = resp.get_json()["code"]
    view = client.get(f"/api/v1/reports/{code}")
    assert view.status_code == 200
    text = view.get_data(as_text=True)
    assert "0905123456" not in text and "Lan" not in text
    page = client.get(f"/theo-doi/{code}").get_data(as_text=True)
    assert "0905123456" not in page and "Nguyễn Thị Lan" not in page
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == code))
        # A typed phone is a claim kept for the IOC, not an identity answers go to.
        assert report.resident.phone == "0905123456"
        assert report.identity is None


def test_invalid_contact_is_refused(app, client):
    resp = _post(client, {"description": "Cống bị nghẹt gây ngập", "contact": "12ab"})
    assert resp.status_code == 422
    assert _count(app, Report) == 0


def test_unknown_code_is_404_with_vietnamese_message(client):
    resp = client.get("/api/v1/reports/PA-0000-000000")
    assert resp.status_code == 404
    assert "Không tìm thấy" in resp.get_json()["message"]


def test_codes_follow_the_public_format(client):
    codes = [
        _post(client, {"description": f"Ổ gà số {i} trên đường"}).get_json()["code"]
        for i in range(3)
    ]
    assert len(set(codes)) == 3
    for code in codes:
        prefix, yymm, number = code.split("-")
        assert prefix == "PA" and len(yymm) == 4 and len(number) == 6


def test_healthz_reports_database_and_broker(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json()["database"] == "ok"
    assert resp.get_json()["broker"] in ("ok", "down")


def test_photo_with_camera_time_but_no_offset_is_stored(app, client):
    # Most phones write DateTimeOriginal without OffsetTime: local time, no zone.
    photo = make_jpeg(gps=HAI_CHAU, taken_at="2026:11:20 07:45:00")
    resp = _post(client, {"description": "Cống thoát nước bị nghẹt"}, [(photo, "a.jpg")])
    assert resp.status_code == 201, resp.get_json()
    with app.app_context():
        report = db.session.scalar(select(Report).where(Report.code == resp.get_json()["code"]))
        taken = report.photos[0].taken_at
        assert taken.tzinfo is not None
        assert (taken.hour, taken.minute) == (0, 45)  # 07:45 in Vietnam is 00:45 UTC
