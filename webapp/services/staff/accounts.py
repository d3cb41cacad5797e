"""Back-office sign-in and password changes: growing delays after failures, a second factor.

No outsider can lock an account. Failures are counted in the rate-limit storage, keyed on the
typed e-mail (known or not, so the answer never tells which exist):

- per e-mail and client address (LOGIN_FAILURES_PER_ADDRESS, e.g. 3/min, 10/h, 30/day): the
  windows grow, so a guesser waits longer and longer;
- per e-mail from devices it has never signed in on (LOGIN_FAILURES_NEW_DEVICES): a
  distributed guess slows down for new devices only. A browser that signed in before carries
  a signed device cookie (OWASP's "device cookies") and keeps its own, per-device budget, so
  the real user signs in from their usual browser while someone else hammers the account.

An unknown e-mail costs the same password hash as a known one (no timing tell). The second
factor (webapp.services.staff.second_factor) is checked only after a right password, so a guess
cannot use up a code.
"""

from __future__ import annotations

import contextlib

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.errors import DomainError, ValidationError
from webapp.extensions import db
from webapp.models import User
from webapp.models.types import utcnow
from webapp.ratelimit import RateLimited, hit_identity, retry_after
from webapp.services.staff import passwords, second_factor, sessions

DEVICE_COOKIE = "bo_device"
DEVICE_DAYS = 365
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")


class LoginFailed(DomainError):
    """Wrong credentials (one message for an unknown e-mail, a wrong password or code)."""

    status_code = 401
    code = "login_failed"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="bo-device")


def device_token(user: User) -> str:
    """The value of the device cookie set after a successful sign-in."""
    return _signer().dumps({"u": user.id})


def _device_user(token: str | None) -> int | None:
    if not token:
        return None
    try:
        data = _signer().loads(token, max_age=DEVICE_DAYS * 86400)
        return int(data["u"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def _buckets(
    email: str, address: str, user: User | None, device: str | None
) -> list[tuple[str, str, str]]:
    """The failure budgets this attempt draws on: (scope, key, setting)."""
    if user is not None and _device_user(device) == user.id:
        return [("login-device", f"{email}|{device}", "LOGIN_FAILURES_PER_DEVICE")]
    return [
        ("login-address", f"{email}|{address}", "LOGIN_FAILURES_PER_ADDRESS"),
        ("login-new-devices", email, "LOGIN_FAILURES_NEW_DEVICES"),
    ]


def authenticate(
    email: str,
    password: str,
    totp_code: str | None = None,
    *,
    address: str = "unknown",
    device: str | None = None,
) -> User:
    """The user for these credentials, or LoginFailed / RateLimited (429 with Retry-After)."""
    email = (email or "").strip().lower()[:200]
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    buckets = _buckets(email, address, user, device)
    wait = max(retry_after(scope, key, setting) for scope, key, setting in buckets)
    if wait:
        raise RateLimited(wait, "signin")
    password_ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
    ok = user is not None and user.active and password_ok
    if user is not None and ok and second_factor.is_enabled(user):
        ok = second_factor.verify(user, totp_code)
    if user is None or not ok:  # (ok implies a user: the check narrows the type)
        for scope, key, setting in buckets:
            # A failure that fills a window raises: the next attempt is the one that waits.
            with contextlib.suppress(RateLimited):
                hit_identity(scope, key, setting, what="request")
        if user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
            db.session.commit()
        raise LoginFailed(_l("Sai e-mail, mật khẩu hoặc mã xác thực."))
    user.failed_logins = 0
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password under the policy; every session of the user ends (after commit)."""
    passwords.check(password, email=user.email or "", name=user.name or "")
    user.set_password(password)
    user.password_changed_at = utcnow()


def change_password(user: User, current: str, new: str, keep_token: str | None) -> int:
    """The user changes their own password; their other sessions end. Returns how many."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationError(_l("Mật khẩu hiện tại không đúng."), field="current")
    if new == current:
        raise ValidationError(_l("Mật khẩu mới phải khác mật khẩu cũ."), field="password")
    set_password(user, new)
    db.session.commit()
    return sessions.end_all(user.id, "password", keep_token=keep_token)
