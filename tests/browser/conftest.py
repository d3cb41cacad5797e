"""Browser fixtures: the app served on a free port, and Debian's chromium through Playwright."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.backoffice.conftest import USERS, agency, user
from tests.factories import AssignedReportFactory, ReportFactory
from webapp.extensions import db
from webapp.models import ExportJob, Resident
from webapp.services.administration.seed import DEMO_PASSWORD
from webapp.services.casework import handling
from webapp.services.intake import contacts

CHROMIUM = "/usr/bin/chromium"
HAI_CHAU = (16.0614, 108.2270)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless (playwright cannot download its own browser here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def phone(browser):
    """A page in a phone-size viewport with touch, as a resident's cheap Android phone."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture()
def seeded(app) -> dict:
    """What the pages opened by the browser tests show: a report handled in the open (a reply)
    with a resident's e-mail, a resolved one, reports a few steps apart (a cluster, then
    markers at street zoom) for the maps and the KPIs, one waiting for triage, a finished and
    a pending export; returns the URL placeholders' values."""
    now = datetime.now(UTC)
    with app.app_context():
        report = AssignedReportFactory(
            agency="CHIEUSANG",
            description="Đèn đường trước chợ Hàn tắt suốt ba đêm",
            lat=HAI_CHAU[0],
            lon=HAI_CHAU[1],
            contact__name="Nguyễn Thị Lan",
            contact__phone="0905111333",
            contact__email="lan@example.vn",
        )
        staff = user(USERS["staff"])
        handling.accept(staff, report)
        handling.reply(staff, report, "Đội chiếu sáng sẽ kiểm tra trong sáng mai.")
        db.session.commit()
        for n in range(12):
            ReportFactory(
                lat=HAI_CHAU[0] + (n % 4) * 1e-4,
                lon=HAI_CHAU[1] + (n // 4) * 1e-4,
                category_code="street_lighting",
                created_at=now - timedelta(days=n % 3, minutes=n),
            )
        ReportFactory(lat=16.05, lon=108.21, status="needs_triage", category_code="waste")
        resolved = AssignedReportFactory(agency="CHIEUSANG", lat=16.07, lon=108.2246)
        handling.resolve(staff, resolved, "Đã thay bóng đèn mới.")
        jobs = {
            status: ExportJob(
                user_id=user(USERS["viewer"]).id,
                kind="reports",
                fmt="csv",
                status=status,
                file_name="phan-anh.csv",
                row_count=13,
                finished_at=now if status == "done" else None,
            )
            for status in ("done", "pending")
        }
        db.session.add_all(jobs.values())
        db.session.commit()
        resident = db.session.scalar(select(Resident).where(Resident.email == "lan@example.vn"))
        values = {
            "code": report.code,
            "token": report.tracking_token,
            "confirm": contacts.confirmation_link(resident).rsplit("/", 1)[1],
            "resolved_token": resolved.tracking_token,
            "agency_id": agency("CHIEUSANG").id,
            "user_id": staff.id,
            "export_done": jobs["done"].id,
            "export_pending": jobs["pending"].id,
        }
        db.session.remove()
    return values


def sign_in(page, base: str, who: str) -> None:
    """Sign in through the login form as one of the demo users (tests/backoffice USERS)."""
    page.goto(base + "/bo/login")
    page.fill("#email", USERS[who])
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("#login")
    assert "/bo/login" not in page.url, f"{who} could not sign in"
