"""Back-office sign-in: password, throttling after failures, optional TOTP second factor."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy import func, select

from webapp.errors import DomainError
from webapp.extensions import db
from webapp.models import User
from webapp.models.types import utcnow

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


class LoginFailed(DomainError):
    """Wrong credentials or a locked account (one message for both: no account probing)."""

    status_code = 401
    code = "login_failed"


def authenticate(email: str, password: str, totp_code: str | None = None) -> User:
    """The user for these credentials, or LoginFailed; counts failures and locks for a while."""
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    now = utcnow()
    if user is not None and user.locked_until and user.locked_until > now:
        raise LoginFailed(
            "Tài khoản tạm khóa do đăng nhập sai nhiều lần. Vui lòng thử lại sau 15 phút.",
            "Too many failed sign-ins. Try again in 15 minutes.",
        )
    ok = user is not None and user.active and user.check_password(password or "")
    if ok and user.totp_secret:
        ok = bool(totp_code) and pyotp.TOTP(user.totp_secret).verify(totp_code, valid_window=1)
    if not ok:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILURES:
                user.locked_until = now + LOCK_FOR
                user.failed_logins = 0
            db.session.commit()
        raise LoginFailed(
            "Sai e-mail, mật khẩu hoặc mã xác thực.", "Wrong e-mail, password or code."
        )
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.commit()
    return user


def enable_totp(user: User) -> str:
    """Give the user a TOTP secret; returns the provisioning URI for an authenticator app."""
    user.totp_secret = pyotp.random_base32()
    db.session.commit()
    totp = pyotp.TOTP(user.totp_secret)
    return totp.provisioning_uri(name=user.email, issuer_name="Phản ánh")
