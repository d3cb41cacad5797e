"""What the bots show of a report: category names, the latest public note, ward names."""

from __future__ import annotations

from sqlalchemy import select

from tests.backoffice.conftest import USERS, user
from tests.factories import AssignedReportFactory
from webapp.extensions import db
from webapp.models import Category
from webapp.services.casework import handling
from webapp.services.geography import units
from webapp.services.intake import categories, public_notes


def test_active_category_names_in_display_order(ctx):
    names = categories.active_names()
    rows = db.session.scalars(
        select(Category).where(Category.active).order_by(Category.sort_order, Category.code)
    ).all()
    assert list(names) == [c.code for c in rows] and names
    report = AssignedReportFactory(agency="CHIEUSANG")
    assert categories.shown_name(report) == report.category.name_vi


def test_the_latest_public_note_never_an_internal_one(app):
    with app.app_context():
        report = AssignedReportFactory(agency="CHIEUSANG")
        code = report.code
        staff = user(USERS["staff"])
        assert public_notes.latest(report) is None
        handling.reply(staff, report, "Đội chiếu sáng sẽ kiểm tra sáng mai.")
        handling.add_note(staff, report, "Ghi chú nội bộ: chờ xe thang.")
        db.session.commit()
    with app.app_context():
        from webapp.services.intake.reports import get_by_code

        assert public_notes.latest(get_by_code(code)) == "Đội chiếu sáng sẽ kiểm tra sáng mai."


def test_unit_names(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    assert units.full_name(report.unit_code).startswith(("Phường", "Xã", "Đặc khu"))
    assert units.full_name(None) is None and units.full_name("00000") is None
    assert units.province_name()
