"""Back-office fixtures: users of every role, reports assigned to two agencies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Agency, Report, ReportStatus, User
from webapp.services.administration.seed import DEMO_PASSWORD
from webapp.services.casework import routing, workflow
from webapp.services.intake.reports import Contact, ReportDraft, submit_report

# The demo accounts (webapp/services/administration/seed.py): CHIEUSANG is a sub-agency of SXD.
USERS = {
    "staff": "chieusang@demo.vn",
    "lead": "truongphong.chieusang@demo.vn",
    "parent_lead": "xaydung@demo.vn",
    "other_staff": "moitruong@demo.vn",
    "operator": "dieuphoi@demo.vn",
    "viewer": "giamsat@demo.vn",
    "admin": "admin@demo.vn",
}
PHONE = "0905111222"


def user(email: str) -> User:
    """A demo user by e-mail."""
    return db.session.scalar(select(User).where(User.email == email))


def agency(code: str) -> Agency:
    """An agency by code."""
    return db.session.scalar(select(Agency).where(Agency.code == code))


def make_report(agency_code: str, text: str = "Đèn đường hỏng ở đường Bạch Đằng") -> Report:
    """A report from a resident with a phone number, assigned to the agency."""
    result = submit_report(
        ReportDraft(
            channel="web",
            description=text,
            lat=16.07,
            lon=108.2246,
            contact=Contact(name="Trần Văn Bình", phone=PHONE),
        )
    )
    report = db.session.get(Report, result.report_id)
    report.category_code = "street_lighting"
    workflow.transition(report, ReportStatus.CLASSIFIED)
    routing.assign(report, agency(agency_code))
    db.session.commit()
    return report


def login(client, who: str):
    """Sign the test client in as one of USERS."""
    resp = client.post("/bo/login", data={"email": USERS[who], "password": DEMO_PASSWORD})
    assert resp.status_code == 302, resp.data
    return client


@pytest.fixture()
def reports(ctx):
    """One report for CHIEUSANG (own for staff/lead) and one for MTDT (other)."""
    own = make_report("CHIEUSANG")
    other = make_report("MTDT", "Rác thải chất đống đầu kiệt")
    return {"own": own.code, "other": other.code}
