"""Who looked at whom: every IOC view of a resident's identity is recorded; admins read the log."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from tests.backoffice.conftest import USERS, login, user
from tests.factories import (
    RESIDENT_NAME,
    RESIDENT_PHONE,
    AssignedReportFactory,
    SubmittedReportFactory,
)
from webapp.extensions import db
from webapp.models import OutboxMessage, Report
from webapp.models.audit import IdentityView
from webapp.services.casework import identity_views
from webapp.services.ioc import queries

LOG = "/bo/quan-tri/truy-cap-danh-tinh"


def _views(**where) -> list[IdentityView]:
    db.session.expire_all()
    stmt = select(IdentityView).order_by(IdentityView.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(IdentityView, key) == value)
    return list(db.session.scalars(stmt))


def _today() -> str:
    return datetime.now(queries.LOCAL_TZ).date().isoformat()


@pytest.mark.parametrize("role", ["operator", "viewer", "admin"])
def test_every_ioc_view_of_an_identity_is_recorded(app, ctx, role):
    report = AssignedReportFactory(agency="CHIEUSANG")
    client = login(app.test_client(), role)
    for _ in range(2):
        page = client.get(f"/bo/r/{report.code}").get_data(as_text=True)
        assert RESIDENT_PHONE in page
    views = _views(report_id=report.id)
    assert len(views) == 2
    who = user(USERS[role])
    for view in views:
        assert (view.user_id, view.report_code, view.context) == (
            who.id,
            report.code,
            "report_page",
        )
        assert view.resident_id == report.resident_id
        assert view.fields == ["name", "phone"]
        assert view.created_at is not None


@pytest.mark.parametrize("role", ["staff", "lead", "parent_lead"])
def test_agencies_see_no_identity_and_leave_no_record(app, ctx, role):
    report = AssignedReportFactory(agency="CHIEUSANG")
    page = login(app.test_client(), role).get(f"/bo/r/{report.code}").get_data(as_text=True)
    assert RESIDENT_PHONE not in page
    assert _views() == []


def test_an_anonymous_report_shows_no_identity_and_records_nothing(app, ctx):
    report = SubmittedReportFactory(description="Đèn đường tắt cả tuần")
    page = login(app.test_client(), "operator").get(f"/bo/r/{report.code}")
    assert page.status_code == 200 and "Ẩn danh" in page.get_data(as_text=True)
    assert _views() == []


def test_the_messenger_id_counts_as_identity(app, ctx):
    report = SubmittedReportFactory(
        telegram=True,
        identity__external_id="555123",
        identity__display_name="Minh",
        description="Đèn đường hỏng đoạn này nữa",
    )
    page = login(app.test_client(), "viewer").get(f"/bo/r/{report.code}").get_data(as_text=True)
    assert "555123" in page
    (view,) = _views()
    assert "messenger" in view.fields and "name" in view.fields


def test_the_service_records_before_it_hands_out(ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    card = identity_views.identity_card(user(USERS["operator"]), report, "report_page")
    assert card is not None and card.phone == RESIDENT_PHONE
    assert len(_views()) == 1
    from webapp.errors import NotFound, PermissionDenied

    with pytest.raises((PermissionDenied, NotFound)):
        identity_views.identity_card(user(USERS["staff"]), report)
    assert len(_views()) == 1


def test_admins_read_the_log_by_user_and_date(app):
    # Several users sign in one after the other: no outer app context (Flask-Login caches the
    # user on `g`, which an outer context would share between their requests).
    with app.app_context():
        report = AssignedReportFactory(agency="CHIEUSANG")
        code = report.code
        operator, viewer = user(USERS["operator"]), user(USERS["viewer"])
        names = {"operator": (operator.name, operator.email), "viewer": (viewer.name, viewer.email)}
        viewer_id = viewer.id
    login(app.test_client(), "operator").get(f"/bo/r/{code}")
    login(app.test_client(), "viewer").get(f"/bo/r/{code}")
    admin = login(app.test_client(), "admin")

    page = admin.get(LOG).get_data(as_text=True)
    rows = page.split('id="identity-views"')[1]
    assert names["operator"][1] in rows and names["viewer"][1] in rows and code in rows
    assert RESIDENT_PHONE not in page and RESIDENT_NAME not in page, "the log names no resident"

    only = admin.get(f"{LOG}?user={viewer_id}").get_data(as_text=True)
    rows = only.split('id="identity-views"')[1]
    assert names["viewer"][1] in rows and names["operator"][1] not in rows

    today = admin.get(f"{LOG}?from={_today()}&to={_today()}").get_data(as_text=True)
    assert code in today.split('id="identity-views"')[1]
    tomorrow = (datetime.now(queries.LOCAL_TZ).date() + timedelta(days=1)).isoformat()
    later = admin.get(f"{LOG}?from={tomorrow}").get_data(as_text=True)
    assert code not in later.split('id="identity-views"')[1]
    assert "Chưa có lượt xem nào." in later


def test_the_log_is_paginated(app, ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    operator = user(USERS["operator"])
    db.session.add_all(
        IdentityView(
            user_id=operator.id,
            report_id=report.id,
            report_code=report.code,
            context="report_page",
            fields=["phone"],
        )
        for _ in range(60)
    )
    db.session.commit()
    admin = login(app.test_client(), "admin")
    first = admin.get(LOG).get_data(as_text=True)
    body = first.split('id="identity-views"')[1].split("</table>")[0]
    assert body.count("<tr>") == 51  # the header row and 50 views
    assert 'id="identity-next"' in first and "1 / 2" in first
    second = admin.get(f"{LOG}?page=2&user={operator.id}").get_data(as_text=True)
    assert second.split('id="identity-views"')[1].split("</table>")[0].count("<tr>") == 11
    assert f"user={operator.id}" in second.split('id="identity-prev"')[0].rsplit("<a", 1)[1]


@pytest.mark.parametrize("role", ["operator", "viewer", "staff", "lead"])
def test_only_administrators_read_the_log(app, role):
    assert login(app.test_client(), role).get(LOG).status_code == 403


def test_anonymous_visitors_are_sent_to_login(client):
    resp = client.get(LOG)
    assert resp.status_code == 302 and "/bo/login" in resp.location


@pytest.mark.parametrize(
    "query", ["user=abc", "user=-1", "from=2026-13-01", "to=yesterday", "page=x", "user=1e3"]
)
def test_malformed_filters_are_ignored(app, query):
    assert login(app.test_client(), "admin").get(f"{LOG}?{query}").status_code == 200


def test_admin_home_links_to_the_log(app):
    page = login(app.test_client(), "admin").get("/bo/quan-tri/").get_data(as_text=True)
    assert f'href="{LOG}"' in page


@pytest.mark.parametrize("url", [LOG, "/bo/r/{code}"])
def test_pages_have_no_inline_script_or_style(app, ctx, url):
    report = AssignedReportFactory(agency="CHIEUSANG")
    page = login(app.test_client(), "admin").get(url.format(code=report.code))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


def test_a_deleted_report_keeps_its_views(app, ctx):
    report = AssignedReportFactory(agency="CHIEUSANG")
    login(app.test_client(), "operator").get(f"/bo/r/{report.code}")
    code = report.code
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.report_id == report.id))
    db.session.delete(db.session.get(Report, report.id))
    db.session.commit()
    (view,) = _views()
    assert view.report_id is None and view.report_code == code
    count = db.session.scalar(select(func.count()).select_from(IdentityView))
    assert count == 1
