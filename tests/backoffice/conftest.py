"""Back-office fixtures: users of every role, reports assigned to two agencies."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import AssignedReportFactory
from webapp.extensions import db
from webapp.models import Agency, User
from webapp.services.administration.seed import DEMO_PASSWORD

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


def user(email: str) -> User:
    """A demo user by e-mail."""
    return db.session.scalar(select(User).where(User.email == email))


def agency(code: str) -> Agency:
    """An agency by code."""
    return db.session.scalar(select(Agency).where(Agency.code == code))


def login(client, who: str):
    """Sign the test client in as one of USERS."""
    resp = client.post("/bo/login", data={"email": USERS[who], "password": DEMO_PASSWORD})
    assert resp.status_code == 302, resp.data
    return client


@pytest.fixture()
def reports(ctx):
    """One report for CHIEUSANG (own for staff/lead) and one for MTDT (other)."""
    own = AssignedReportFactory(agency="CHIEUSANG")
    other = AssignedReportFactory(agency="MTDT", description="Rác thải chất đống đầu kiệt")
    return {"own": own.code, "other": other.code}
