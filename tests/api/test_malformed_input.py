"""Finding 5 on the public side: malformed input is a clear 4xx, never a 500, nothing stored."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Photo, Report

GOOD = "Ổ gà lớn giữa đường Lê Duẩn rất nguy hiểm"


def _count(app, model=Report) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"description": ["Ổ gà", "lớn giữa đường"]}, "description"),
        ({"description": GOOD, "contact": {"phone": "0905123456"}}, "contact"),
        ({"description": GOOD, "address": 12345}, "address"),
        ({"description": GOOD, "lat": True, "lon": 108.2}, "lat"),
        ({"description": GOOD, "lat": "nan", "lon": "108.2"}, "lat"),
        ({"description": GOOD, "lat": 1e999, "lon": 108.2}, "lat"),
        ({"description": GOOD, "lat": 16.07, "lon": 200}, "lon"),
        ({"description": "Ổ gà\x00 lớn giữa đường"}, "description"),
        ({"description": GOOD, "contact_name": "Lan\x1b[31m"}, "contact_name"),
        ({"description": GOOD, "location_source": "satellite"}, "location_source"),
        ({"description": "x" * 5000}, "description"),
    ],
    ids=[
        "description-list", "contact-object", "address-number", "lat-true", "lat-nan",
        "lat-inf", "lon-range", "nul-byte", "control-chars", "bad-source", "too-long",
    ],
)  # fmt: skip
def test_malformed_json_fields_are_422_with_the_field(app, client, body, field):
    resp = client.post("/api/v1/reports", json=body)
    assert resp.status_code == 422, resp.get_data(as_text=True)
    answer = resp.get_json()
    assert answer["error"] == "validation_error" and answer["field"] == field
    assert "không hợp lệ" in answer["message"] or "quá dài" in answer["message"]
    assert _count(app) == 0


@pytest.mark.parametrize(
    "raw",
    [b'["a list", "not an object"]', b'"a string"', b"42", b"null", b"{not json", b"\xff\xfe"],
    ids=["list", "string", "number", "null", "broken", "not-utf8"],
)
def test_a_json_body_that_is_not_an_object_is_refused(app, client, raw):
    resp = client.post("/api/v1/reports", data=raw, content_type="application/json")
    assert resp.status_code == 422
    assert resp.get_json()["error"] == "validation_error"
    assert _count(app) == 0


def test_a_zero_byte_photo_is_refused_not_dropped(app, client):
    resp = client.post(
        "/api/v1/reports",
        data={"description": GOOD, "photos": [(io.BytesIO(b""), "empty.jpg")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert resp.get_json()["field"] == "photos" and "rỗng" in resp.get_json()["message"]
    assert _count(app) == 0 and _count(app, Photo) == 0


def test_the_web_form_keeps_an_empty_file_input_harmless(app, client):
    # A browser sends an empty part with no file name when nothing was chosen.
    resp = client.post(
        "/phan-anh",
        data={"description": GOOD, "consent": "1", "photos": [(io.BytesIO(b""), "")]},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302 and _count(app) == 1


def test_the_web_form_shows_the_error_in_vietnamese_and_keeps_the_text(app, client):
    page = client.post(
        "/phan-anh", data={"description": GOOD, "lat": "x", "lon": "108", "consent": "1"}
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert "Tọa độ vị trí (vĩ độ) không hợp lệ" in html and GOOD in html
    nul = client.post("/phan-anh", data={"description": "Ổ gà\x00 lớn giữa đường", "consent": "1"})
    assert nul.status_code == 422 and "không hợp lệ" in nul.get_data(as_text=True)
    assert _count(app) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/" + "A" * 5000,
        "/api/v1/reports/%00",
        "/api/v1/reports/PA-2612-1e23",
        "/theo-doi/%F0%9F%92%A9",
        "/tra-cuu?code=" + "9" * 5000,
        "/api/v1/track/%00",
        "/t/" + "x" * 500,
        "/anh/%00/web.jpg",
        "/anh/abc/original.jpg",
        "/xac-nhan-email/" + "a" * 2000,
    ],
)
def test_garbage_in_public_urls_is_never_a_500(client, path):
    resp = client.get(path)
    assert 300 <= resp.status_code < 500, (path, resp.status_code)


def test_unknown_methods_get_the_usual_json_error(client):
    resp = client.delete("/api/v1/reports")
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]
    assert resp.get_json()["error"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("method", "path", "data", "status", "english", "vietnamese"),
    [
        (
            "post",
            "/api/v1/reports",
            {"description": "Ổ gà"},
            422,
            "The description is too short (at least 10 characters).",
            "Mô tả quá ngắn: vui lòng viết ít nhất 10 ký tự.",
        ),
        (  # a field's label inside the message, and a capital at the start of the sentence
            "post",
            "/api/v1/reports",
            {"description": GOOD, "lat": "nan", "lon": "108.2"},
            422,
            "The latitude is not valid.",
            "Tọa độ vị trí (vĩ độ) không hợp lệ.",
        ),
        (
            "get",
            "/api/v1/reports/PA-2612-000001",
            None,
            404,
            "No report with code PA-2612-000001.",
            "Không tìm thấy phản ánh có mã PA-2612-000001.",
        ),
        (
            "delete",
            "/api/v1/reports",
            None,
            405,
            "Method not allowed.",
            "Phương thức không được hỗ trợ.",
        ),
    ],
    ids=["service", "form-field", "not-found", "http-error"],
)
def test_an_error_speaks_the_language_of_the_request(
    app, method, path, data, status, english, vietnamese
):
    # One catalog text per error, rendered by each request: English to one that chose
    # English, Vietnamese to any other. A client each, as each visitor has their own session.
    asked_in_english = getattr(app.test_client(), method)(f"{path}?lang=en", data=data)
    asked_plainly = getattr(app.test_client(), method)(path, data=data)
    assert asked_in_english.status_code == asked_plainly.status_code == status
    assert asked_in_english.get_json()["message"] == english
    assert asked_plainly.get_json()["message"] == vietnamese
    assert _count(app) == 0


def test_the_error_page_speaks_the_language_of_the_request(app):
    english = app.test_client().get("/theo-doi/PA-2612-000001?lang=en")
    vietnamese = app.test_client().get("/theo-doi/PA-2612-000001")
    assert english.status_code == vietnamese.status_code == 404
    assert "No report with code PA-2612-000001." in english.get_data(as_text=True)
    assert "Không tìm thấy phản ánh có mã PA-2612-000001." in vietnamese.get_data(as_text=True)
