"""The second factor: TOTP (pyotp) with a QR code (segno), recovery codes, no replays.

- Enrolment makes a secret, shows it as a QR code and as text, and turns it on only when the
  user types a code it produced. Then ten one-time recovery codes are shown once; only their
  SHA-256 is kept (80 random bits each: no dictionary to run against the hashes).
- A TOTP code is accepted once: the time step of the last accepted code is stored, and a
  code of that step or an earlier one is refused (an atomic UPDATE, so two requests racing
  with the same code cannot both pass).
- Secrets are encrypted at rest with Fernet (cryptography) under TOTP_ENCRYPTION_KEYS from
  the environment (MultiFernet: the first key encrypts, any listed key decrypts, so keys
  rotate); outside production, without keys, one is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any, cast

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, delete, or_, update

from webapp.errors import DomainError, ValidationError
from webapp.extensions import db
from webapp.models import AuditEntry, RecoveryCode, User
from webapp.models.types import utcnow

RECOVERY_CODES = 10
CODE_RE = re.compile(r"^\d{6}$")
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I


class SecondFactorError(DomainError):
    """A code that does not turn the second factor on."""

    status_code = 400
    code = "second_factor"


def _fernet() -> MultiFernet:
    raw = [k.strip() for k in (current_app.config.get("TOTP_ENCRYPTION_KEYS") or "").split(",")]
    keys = [Fernet(k.encode()) for k in raw if k]
    if not keys:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"phananh-totp-secrets"
        ).derive(str(current_app.config["SECRET_KEY"]).encode())
        keys = [Fernet(base64.urlsafe_b64encode(derived))]
    return MultiFernet(keys)


def _secret(user: User) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # encrypted under a key no longer configured
        current_app.logger.error("TOTP secret of user %s cannot be decrypted", user.id)
        return None


def is_enabled(user: User) -> bool:
    """Whether the user signs in with a second factor."""
    return user.totp_enabled_at is not None


def required_for(user: User) -> bool:
    """Whether the user's role must use a second factor (TOTP_REQUIRED_ROLES)."""
    roles = current_app.config.get("TOTP_REQUIRED_ROLES") or ""
    return user.role in {r.strip() for r in roles.split(",") if r.strip()}


def begin(user: User) -> str:
    """The pending secret of an enrolment (made on first call, kept until confirmed)."""
    if is_enabled(user):
        raise SecondFactorError(_l("Xác thực hai bước đã được bật."))
    secret = _secret(user)
    if secret is None:
        secret = pyotp.random_base32()
        user.totp_secret = _fernet().encrypt(secret.encode()).decode()
        user.totp_last_step = None
        db.session.commit()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    issuer = current_app.config.get("TOTP_ISSUER") or "Phản ánh"
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """The QR code of a URI as an SVG data: URI (an <img>, no script, no CDN)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def _accept_totp(user: User, code: str) -> bool:
    secret = _secret(user)
    if secret is None or not CODE_RE.match(code):
        return False
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(utcnow())
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            # Atomic: only a step later than the last accepted one is taken.
            result = db.session.execute(
                update(User)
                .where(
                    User.id == user.id,
                    or_(User.totp_last_step.is_(None), User.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
            taken = cast(CursorResult[Any], result).rowcount  # an UPDATE's result
            db.session.commit()
            return taken == 1
    return False


def _normalise_recovery(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def _recovery_hash(code: str) -> str:
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def _accept_recovery(user: User, code: str) -> bool:
    if not 10 <= len(_normalise_recovery(code)) <= 32:
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    used = cast(CursorResult[Any], result).rowcount  # an UPDATE's result
    db.session.commit()
    return used == 1


def verify(user: User, code: str | None) -> bool:
    """Whether a code (TOTP or recovery) is good for this user now; a good code is used up."""
    code = (code or "").strip()
    if not code or not is_enabled(user):
        return False
    if CODE_RE.match(code):
        return _accept_totp(user, code)
    return _accept_recovery(user, code)


def _new_recovery_codes(user: User) -> list[str]:
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(4))
        for _ in range(RECOVERY_CODES)
    ]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(c)) for c in codes)
    return codes


def confirm(user: User, code: str) -> list[str]:
    """Turn the second factor on with a first code; returns the recovery codes (shown once)."""
    if is_enabled(user) or not user.totp_secret:
        raise SecondFactorError(_l("Chưa bắt đầu đăng ký xác thực hai bước."))
    if not _accept_totp(user, (code or "").strip()):
        raise ValidationError(
            _l("Mã không đúng. Nhập mã 6 chữ số đang hiện trong ứng dụng xác thực."),
            field="code",
        )
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    db.session.add(AuditEntry(actor_id=user.id, action="enable_2fa", entity="users",
                              entity_id=str(user.id)))  # fmt: skip
    db.session.commit()
    return codes


def remaining_recovery_codes(user: User) -> int:
    """How many recovery codes the user has left."""
    return db.session.query(RecoveryCode).filter_by(user_id=user.id, used_at=None).count()


def reset(actor: User, user: User) -> None:
    """An administrator turns a user's second factor off (lost phone); audited."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add(AuditEntry(actor_id=actor.id, action="reset_2fa", entity="users",
                              entity_id=str(user.id)))  # fmt: skip
    db.session.commit()
