"""The transparency page and its JSON: the ranking and overdue list, and nothing personal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import AssignedReportFactory
from tests.fixtures.images import make_jpeg
from tests.ioc.conftest import user
from webapp.extensions import db
from webapp.models import Photo
from webapp.models.types import utcnow
from webapp.services.casework import handling, moderation
from webapp.services.intake.reports import ChannelIdentity, Contact, PhotoUpload

NAME, PHONE, EMAIL = "Nguyễn Thị Riêng Tư", "0905987654", "rieng.tu@example.vn"
TELEGRAM_ID, TELEGRAM_NAME = "7766554433", "Tài Khoản Bí Mật"
NOTE = "Ghi chú nội bộ: người này hay gọi điện"
DESCRIPTION = "Đèn đường hỏng trước nhà số 12 đường Bạch Đằng, tối om cả tuần nay"


@pytest.fixture()
def private_reports(app):
    """Reports carrying every kind of personal data, one of them resolved, one overdue."""
    with app.app_context():
        made = _private_reports()
        db.session.remove()
    return made


def _private_reports() -> dict:
    web = AssignedReportFactory(
        agency="CHIEUSANG",
        description=DESCRIPTION,
        point=(16.071234, 108.224567),
        contact=Contact(name=NAME, phone=PHONE, email=EMAIL),
        photos=[PhotoUpload(make_jpeg(), "nha-toi.jpg")],
    )
    telegram = AssignedReportFactory(
        agency="MTDT",
        channel="telegram",
        description="Rác thải chất đống đầu kiệt 45 Lê Duẩn, bốc mùi",
        point=(16.068765, 108.213456),
        contact=None,
        identity=ChannelIdentity("telegram", TELEGRAM_ID, TELEGRAM_NAME),
    )
    operator = user("dieuphoi@demo.vn")
    handling.add_note(operator, web, NOTE)
    hidden = db.session.scalar(select(Photo).where(Photo.report_id == web.id))
    moderation.moderate_photo(operator, web, hidden, "hide")
    handling.accept(user("chieusang@demo.vn"), web)
    handling.resolve(user("chieusang@demo.vn"), web, "Đã thay bóng đèn")
    telegram.due_at = utcnow() - timedelta(days=2)  # overdue now
    db.session.commit()
    return {"web": web.code, "telegram": telegram.code, "photo": hidden.key}


def _everything_public(client) -> str:
    parts = [client.get("/cong-khai").get_data(as_text=True)]
    parts.append(client.get("/cong-khai/du-lieu.json").get_data(as_text=True))
    for zoom in (9, 12, 15, 18):
        for extra in ("", "&trang_thai=dang-xu-ly", "&trang_thai=da-xu-ly"):
            bbox = "108.20,16.05,108.25,16.09"
            url = f"/cong-khai/ban-do.json?zoom={zoom}&bbox={bbox}{extra}"
            parts.append(client.get(url).get_data(as_text=True))
    parts.append(client.get("/cong-khai?lang=en").get_data(as_text=True))
    return "\n".join(parts)


def test_nothing_personal_reaches_the_public_page_or_its_json(app, private_reports):
    published = _everything_public(app.test_client())
    for secret in (NAME, PHONE, EMAIL, TELEGRAM_ID, TELEGRAM_NAME, NOTE, "nha-toi.jpg"):
        assert secret not in published, secret
    # Nor the reports themselves: no code, no text, no photo, no exact position.
    assert private_reports["web"] not in published and private_reports["telegram"] not in published
    assert private_reports["photo"] not in published
    assert DESCRIPTION not in published and "Bạch Đằng" not in published
    for coordinate in ("16.0712", "108.2245", "16.0687", "108.2134"):
        assert coordinate not in published


def test_the_public_json_holds_names_of_agencies_and_counts_only(app, private_reports):
    body = app.test_client().get("/cong-khai/du-lieu.json").get_json()
    assert set(body) == {"period", "ranking", "overdue_units", "updated_at"}
    for row in body["ranking"]:
        assert set(row) == {
            "rank", "agency", "received", "resolved", "on_time", "late", "late_extension",
            "overdue", "on_time_rate",
        }  # fmt: skip
    by_name = {row["agency"]: row for row in body["ranking"]}
    lighting = by_name["Công ty Chiếu sáng và Thiết bị đô thị"]
    assert lighting["on_time"] == 1 and lighting["on_time_rate"] == 1.0
    waste = by_name["Công ty Cổ phần Môi trường đô thị Đà Nẵng"]
    assert waste["overdue"] == 1 and waste["on_time_rate"] == 0.0
    assert [r["agency"] for r in body["ranking"]][:2] == [lighting["agency"], waste["agency"]]
    assert body["overdue_units"] == [
        {"agency": "Công ty Cổ phần Môi trường đô thị Đà Nẵng", "overdue": 1, "days_overdue": 2}
    ]


def test_the_public_page_lists_ranking_and_overdue_units(app, private_reports):
    html = app.test_client().get("/cong-khai").get_data(as_text=True)
    ranking = html.split('id="ranking"')[1].split("</table>")[0]
    assert "Công ty Chiếu sáng và Thiết bị đô thị" in ranking and "100,0 %" in ranking
    overdue = html.split('id="overdue-units"')[1].split("</table>")[0]
    assert "Công ty Cổ phần Môi trường đô thị Đà Nẵng" in overdue
    assert "Chiếu sáng" not in overdue
    assert 'id="public-map"' in html and "/static/js/ioc-public-map.js" in html


def test_public_map_counts_the_reports_coarsely(app, private_reports):
    body = app.test_client().get("/cong-khai/ban-do.json?zoom=18").get_json()
    assert body["resolution"] == 8 and body["total"] == 2 and body["markers"] is None
    resolved = app.test_client().get("/cong-khai/ban-do.json?zoom=9&trang_thai=da-xu-ly")
    assert resolved.get_json()["total"] == 1
    assert resolved.headers["Cache-Control"] == "public, max-age=60"
