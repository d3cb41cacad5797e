"""Sign-in: growing delays per address and account, no lock an outsider can trigger."""

from __future__ import annotations

import re

import pytest

from tests.backoffice.conftest import USERS, user
from webapp.extensions import db
from webapp.services.administration.seed import DEMO_PASSWORD
from webapp.services.staff import accounts


def _attempt(client, email: str, password: str, address: str = "198.51.100.20"):
    return client.post(
        "/bo/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _error(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r'id="login-error">([^<]+)<', html)
    assert match, html[-1500:]
    return match.group(1).strip()


def test_failures_from_one_address_are_slowed_down_for_known_and_unknown_emails(limits_on, client):
    answers = {}
    for email in (USERS["viewer"], "nobody@demo.vn"):
        statuses = [_attempt(client, email, "wrong").status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        answers[email] = _attempt(client, email, DEMO_PASSWORD)
    known, unknown = answers.values()
    assert known.status_code == unknown.status_code == 429
    assert int(known.headers["Retry-After"]) > 0
    # The same words whether the account exists or not.
    assert _error(known) == _error(unknown)
    assert "đăng nhập sai nhiều lần" in _error(known)


def test_an_outsider_cannot_lock_the_real_user_out(limits_on, app, client):
    for _ in range(10):
        _attempt(client, USERS["viewer"], "wrong", "203.0.113.66")
    assert _attempt(client, USERS["viewer"], DEMO_PASSWORD, "192.0.2.10").status_code == 302


def test_a_distributed_guess_slows_new_devices_but_not_the_users_own_browser(limits_on, app):
    app.config["LOGIN_FAILURES_NEW_DEVICES"] = "5 per hour"
    try:
        own = app.test_client()
        assert _attempt(own, USERS["staff"], DEMO_PASSWORD, "192.0.2.10").status_code == 302
        assert own.get_cookie(accounts.DEVICE_COOKIE, path="/bo") is not None
        own.post("/bo/logout")
        attacker = app.test_client()
        for n in range(8):
            _attempt(attacker, USERS["staff"], f"guess{n}", f"203.0.113.{n}")
        refused = _attempt(app.test_client(), USERS["staff"], DEMO_PASSWORD, "203.0.113.99")
        assert refused.status_code == 429
        assert _attempt(own, USERS["staff"], DEMO_PASSWORD, "192.0.2.10").status_code == 302
    finally:
        app.config["LOGIN_FAILURES_NEW_DEVICES"] = "20 per hour;100 per day"


def test_a_forged_device_cookie_is_a_new_device(limits_on, app):
    with app.app_context():
        forged = accounts.device_token(user(USERS["staff"]))[:-4] + "AAAA"
        assert accounts._device_user(forged) is None


def test_sign_in_attempts_per_address_are_limited(limits_on, app, client):
    app.config["RATELIMIT_LOGIN_ADDRESS"] = "4 per minute"
    try:
        emails = [f"probe{n}@demo.vn" for n in range(6)]
        statuses = [_attempt(client, e, "x", "198.51.100.30").status_code for e in emails]
    finally:
        app.config["RATELIMIT_LOGIN_ADDRESS"] = "10 per minute;100 per hour"
    assert statuses == [401, 401, 401, 401, 429, 429]


def test_an_unknown_email_costs_the_same_password_hash(ctx, monkeypatch):
    calls = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    for email in (USERS["viewer"], "nobody@demo.vn"):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(email, "wrong")
    assert len(calls) == 2 and all(h.startswith("scrypt:") for h in calls)
    db.session.rollback()
