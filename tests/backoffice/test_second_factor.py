"""The second factor: enrolment confirmed by a code, no replay, recovery codes once, secrets
encrypted at rest, required by role, reset by an administrator (audited)."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import time_machine
from cryptography.fernet import Fernet
from sqlalchemy import select

from tests.backoffice.conftest import USERS, login, user
from webapp.extensions import db
from webapp.models import AuditEntry, RecoveryCode
from webapp.models.types import utcnow
from webapp.services.administration.seed import DEMO_PASSWORD
from webapp.services.staff import second_factor


@pytest.fixture()
def operator_2fa_off(app):
    """The operator's second factor is off before and after the test."""

    def off():
        with app.app_context():
            u = user(USERS["operator"])
            u.totp_secret = u.totp_enabled_at = u.totp_last_step = None
            db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == u.id))
            db.session.commit()

    off()
    yield
    off()
    app.config["TOTP_REQUIRED_ROLES"] = ""


def _secret_from_page(html: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7]+)<', html)
    assert match, html[-1500:]
    return match.group(1)


def _enrol(client) -> tuple[str, list[str]]:
    secret = _secret_from_page(client.get("/bo/tai-khoan/xac-thuc-hai-buoc").get_data(as_text=True))
    resp = client.post("/bo/tai-khoan/xac-thuc-hai-buoc", data={"code": pyotp.TOTP(secret).now()})
    assert resp.status_code == 200
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", resp.get_data(as_text=True))
    return secret, codes


def _sign_in(app, code: str | None):
    data = {"email": USERS["operator"], "password": DEMO_PASSWORD}
    if code is not None:
        data["totp"] = code
    return app.test_client().post("/bo/login", data=data)


def test_enrolment_needs_a_right_code_then_the_code_is_asked_at_sign_in(app, operator_2fa_off):
    # Finding 3: nothing could turn TOTP on; a used code worked again; the secret was in clear.
    client = login(app.test_client(), "operator")
    page = client.get("/bo/tai-khoan/xac-thuc-hai-buoc").get_data(as_text=True)
    assert 'id="totp-qr" src="data:image/svg+xml' in page
    secret = _secret_from_page(page)
    wrong = client.post("/bo/tai-khoan/xac-thuc-hai-buoc", data={"code": "000000"})
    assert wrong.status_code == 422
    with app.app_context():
        u = user(USERS["operator"])
        assert not second_factor.is_enabled(u)
        assert secret not in u.totp_secret  # encrypted at rest
    # The page keeps the same secret until confirmed (a reload does not void a scan).
    assert (
        _secret_from_page(client.get("/bo/tai-khoan/xac-thuc-hai-buoc").get_data(as_text=True))
        == secret
    )
    resp = client.post("/bo/tai-khoan/xac-thuc-hai-buoc", data={"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", resp.get_data(as_text=True))
    assert len(codes) == second_factor.RECOVERY_CODES == len(set(codes))
    with app.app_context():
        u = user(USERS["operator"])
        assert second_factor.is_enabled(u)
        stored = {
            r.code_hash
            for r in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == u.id))
        }
        assert len(stored) == len(codes) and not stored & set(codes)
        assert db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "enable_2fa", AuditEntry.entity_id == str(u.id)
            )
        )
    assert _sign_in(app, None).status_code == 401
    assert _sign_in(app, "123456").status_code == 401


def test_a_code_is_accepted_once(app, operator_2fa_off):
    with time_machine.travel(utcnow(), tick=False) as clock:
        secret, _codes = _enrol(login(app.test_client(), "operator"))
        clock.shift(timedelta(seconds=30))  # the enrolment code's step is used up
        code = pyotp.TOTP(secret).now()
        assert _sign_in(app, code).status_code == 302
        assert _sign_in(app, code).status_code == 401  # replayed within its window
        clock.shift(timedelta(seconds=30))
        assert _sign_in(app, pyotp.TOTP(secret).now()).status_code == 302
        # A code older than the last one accepted is refused even inside the window.
        assert _sign_in(app, code).status_code == 401


def test_a_recovery_code_works_once(app, operator_2fa_off):
    _secret, codes = _enrol(login(app.test_client(), "operator"))
    assert _sign_in(app, codes[0].lower().replace("-", " ")).status_code == 302
    assert _sign_in(app, codes[0]).status_code == 401
    with app.app_context():
        assert second_factor.remaining_recovery_codes(user(USERS["operator"])) == len(codes) - 1


def test_a_role_that_needs_it_enrols_before_anything_else(app, operator_2fa_off):
    app.config["TOTP_REQUIRED_ROLES"] = "admin,ioc_operator"
    client = login(app.test_client(), "operator")
    for path in ("/bo/", "/bo/ioc/dieu-phoi", "/ioc/ban-do", "/bo/tai-khoan/"):
        resp = client.get(path)
        assert resp.status_code == 302, path
        assert resp.headers["Location"].endswith("/bo/tai-khoan/xac-thuc-hai-buoc"), path
    _enrol(client)
    assert client.get("/bo/").status_code == 200
    # Agency staff are not asked.
    assert login(app.test_client(), "staff").get("/bo/").status_code == 200


def test_an_administrator_resets_it_and_the_trail_keeps_it(app, operator_2fa_off):
    operator = login(app.test_client(), "operator")
    _enrol(operator)
    admin = login(app.test_client(), "admin")
    with app.app_context():
        uid = user(USERS["operator"]).id
    assert operator.post(f"/bo/quan-tri/users/{uid}/bao-mat/dat-lai-xac-thuc").status_code == 403
    assert admin.post(f"/bo/quan-tri/users/{uid}/bao-mat/dat-lai-xac-thuc").status_code == 303
    assert operator.get("/bo/").status_code == 302  # its sessions ended
    with app.app_context():
        assert not second_factor.is_enabled(user(USERS["operator"]))
        entry = db.session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "reset_2fa")
            .order_by(AuditEntry.id.desc())
        )
        assert entry.entity_id == str(uid) and entry.actor_id == user(USERS["admin"]).id
    assert _sign_in(app, None).status_code == 302
    assert "reset_2fa" in admin.get("/bo/quan-tri/").get_data(as_text=True)


def test_secrets_survive_a_key_rotation(app, operator_2fa_off):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    app.config["TOTP_ENCRYPTION_KEYS"] = old
    try:
        secret, _ = _enrol(login(app.test_client(), "operator"))
        app.config["TOTP_ENCRYPTION_KEYS"] = f"{new},{old}"
        with app.app_context():
            u = user(USERS["operator"])
            assert second_factor._secret(u) == secret
        app.config["TOTP_ENCRYPTION_KEYS"] = new  # the old key dropped too soon: no sign-in
        with time_machine.travel(utcnow() + timedelta(seconds=60), tick=False):
            assert _sign_in(app, pyotp.TOTP(secret).now()).status_code == 401
    finally:
        app.config["TOTP_ENCRYPTION_KEYS"] = ""
