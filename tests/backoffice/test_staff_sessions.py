"""Server-side staff sessions: ended on logout, password change, deactivation or role change;
idle and absolute lifetimes; "sign out everywhere"; an administrator ends a user's sessions.
Every test runs with the sessions in the database and in Redis."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import redis
import time_machine
from sqlalchemy import select

from tests.backoffice.conftest import USERS, login, user
from tests.conftest import REDIS_URL
from webapp.extensions import db
from webapp.models import AuditEntry, StaffSession
from webapp.models.types import utcnow
from webapp.services.administration.seed import DEMO_PASSWORD
from webapp.services.staff import sessions

SESSION_REDIS = REDIS_URL.rsplit("/", 1)[0] + "/5"
NEW_PASSWORD = "mưa-phùn trên cầu Rồng 47"


@pytest.fixture(params=["database", "redis"])
def store(request, app):
    """Sessions in the database, then in Redis (the store is picked at app start)."""
    url = SESSION_REDIS if request.param == "redis" else ""
    if url:
        redis.Redis.from_url(url).flushdb()
    app.config["SESSION_STORE_URL"] = url
    sessions.init_app(app)
    yield request.param
    app.config["SESSION_STORE_URL"] = ""
    sessions.init_app(app)


def _copy(app, client):
    """A second browser holding a copy of the client's cookies."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _signed_in(client) -> bool:
    return client.get("/bo/").status_code == 200


def test_a_cookie_copied_before_logout_opens_nothing_after(store, app):
    # Finding 4: the cookie alone used to keep working after logout.
    client = login(app.test_client(), "staff")
    thief = _copy(app, client)
    assert _signed_in(thief)
    client.post("/bo/logout")
    assert not _signed_in(client)
    assert client.get("/bo/").headers["Location"].startswith("/bo/login")
    assert not _signed_in(thief)


def test_changing_ones_password_ends_the_other_sessions(store, app):
    here = login(app.test_client(), "operator")
    elsewhere = login(app.test_client(), "operator")
    try:
        resp = here.post(
            "/bo/tai-khoan/mat-khau",
            data={"current": DEMO_PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert resp.status_code == 303
        page = here.get(resp.headers["Location"]).get_data(as_text=True)
        assert re.search(r"[1-9]\d* phiên khác đã được đăng xuất", page)
        assert _signed_in(here)
        assert not _signed_in(elsewhere)
    finally:
        with app.app_context():
            user(USERS["operator"]).set_password(DEMO_PASSWORD)
            db.session.commit()


def test_a_weak_new_password_is_refused_and_nothing_ends(store, app):
    here = login(app.test_client(), "staff")
    elsewhere = login(app.test_client(), "staff")
    resp = here.post(
        "/bo/tai-khoan/mat-khau",
        data={"current": DEMO_PASSWORD, "password": "Matkhau@2026", "confirm": "Matkhau@2026"},
        follow_redirects=True,
    )
    assert "quá phổ biến" in resp.get_data(as_text=True)
    assert _signed_in(elsewhere)
    assert here.post("/bo/login", data={"email": USERS["staff"], "password": DEMO_PASSWORD})


def test_sessions_lapse_when_idle_and_at_their_absolute_lifetime(store, app):
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        client = login(app.test_client(), "staff")
        clock.shift(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1))
        assert _signed_in(client)  # used: the idle clock starts again
        clock.shift(timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1))
        assert not _signed_in(client)

        busy, born = login(app.test_client(), "staff"), utcnow()
        hours = app.config["SESSION_ABSOLUTE_HOURS"]
        step = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] / 2)
        while utcnow() - born < timedelta(hours=hours) - step:
            clock.shift(step)
            assert _signed_in(busy)
        clock.shift(step * 2)
        assert not _signed_in(busy)


def test_sign_out_everywhere(store, app):
    phone = login(app.test_client(), "staff")
    desk = login(app.test_client(), "staff")
    resp = desk.post("/bo/tai-khoan/phien", data={})
    assert resp.status_code == 303 and resp.headers["Location"].startswith("/bo/login")
    assert not _signed_in(phone)
    assert not _signed_in(desk)


def test_a_user_ends_one_of_their_other_sessions(store, app):
    phone = login(app.test_client(), "staff")
    desk = login(app.test_client(), "staff")
    page = desk.get("/bo/tai-khoan/").get_data(as_text=True)
    hashes = re.findall(r'name="session" value="([0-9a-f]{64})"', page)
    assert len(hashes) >= 2
    with app.app_context():
        phone_hash = sessions.token_hash(_session_token(app, phone))
    assert phone_hash in hashes
    desk.post("/bo/tai-khoan/phien", data={"session": phone_hash})
    assert not _signed_in(phone)
    assert _signed_in(desk)
    # Someone else's session cannot be ended through one's own page.
    other = login(app.test_client(), "operator")
    with app.app_context():
        other_hash = sessions.token_hash(_session_token(app, other))
    desk.post("/bo/tai-khoan/phien", data={"session": other_hash})
    assert _signed_in(other)


def _session_token(app, client) -> str:
    with client.session_transaction() as sess:
        return sess[sessions.COOKIE_KEY]


def test_an_administrator_sees_and_ends_a_users_sessions(store, app):
    staff = login(app.test_client(), "staff")
    admin = login(app.test_client(), "admin")
    with app.app_context():
        staff_id = user(USERS["staff"]).id
    page = admin.get(f"/bo/quan-tri/users/{staff_id}/bao-mat")
    assert page.status_code == 200
    assert "session-table" in page.get_data(as_text=True)
    # Not for anyone else.
    assert (
        login(app.test_client(), "operator")
        .get(f"/bo/quan-tri/users/{staff_id}/bao-mat")
        .status_code
        == 403
    )
    resp = admin.post(f"/bo/quan-tri/users/{staff_id}/bao-mat/phien", data={})
    assert resp.status_code == 303
    assert not _signed_in(staff)
    assert _signed_in(admin)
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "end_sessions")
            .order_by(AuditEntry.id.desc())
        )
        assert entry.entity_id == str(staff_id) and entry.after["ended"] >= 1


@pytest.mark.parametrize(
    "change", [{"active": ""}, {"role": "ioc_viewer"}, {"password": NEW_PASSWORD}]
)
def test_deactivation_role_or_password_set_by_an_administrator_ends_sessions(store, app, change):
    staff = login(app.test_client(), "staff")
    admin = login(app.test_client(), "admin")
    with app.app_context():
        u = user(USERS["staff"])
        form = {"email": u.email, "name": u.name, "role": u.role,
                "agency_id": str(u.agency_id), "active": "on"}  # fmt: skip
    form.update(change)
    if form["active"] == "":
        del form["active"]
    try:
        resp = admin.post(f"/bo/quan-tri/users/sua/{u.id}", data=form)
        assert resp.status_code == 302, resp.get_data(as_text=True)[-800:]
        assert not _signed_in(staff)
    finally:
        with app.app_context():
            u = user(USERS["staff"])
            u.active, u.role = True, "agency_staff"
            u.set_password(DEMO_PASSWORD)
            db.session.commit()


def test_only_a_hash_of_the_token_is_stored(app):
    client = login(app.test_client(), "staff")
    token = _session_token(app, client)
    with app.app_context():
        row = db.session.scalar(
            select(StaffSession).where(StaffSession.token_hash == sessions.token_hash(token))
        )
        assert row is not None and row.user_id == user(USERS["staff"]).id
        assert (
            db.session.scalar(select(StaffSession).where(StaffSession.token_hash == token)) is None
        )


def test_guessing_the_current_password_through_the_account_page_is_limited(limits_on, app):
    # A borrowed session must not become a way to guess the password (each try costs a hash).
    client = login(app.test_client(), "viewer")
    form = {"current": "wrong-guess", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    statuses = [client.post("/bo/tai-khoan/mat-khau", data=form).status_code for _ in range(12)]
    assert statuses[0] == 303 and statuses[-1] == 429
    codes = [
        client.post("/bo/tai-khoan/xac-thuc-hai-buoc", data={"code": "000000"}).status_code
        for _ in range(3)
    ]
    assert codes[-1] == 429
