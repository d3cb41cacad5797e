"""Issuing, checking and revoking partners' API keys.

A key is 32 random bytes (URL-safe) shown once; the database keeps an HMAC-SHA256 of it under
SECRET_KEY (a stolen table gives no key) and its first characters, so that administrators and
logs can tell keys apart. Each use is counted (uses, last_used_at) and limited per key
(RATELIMIT_PARTNER); each issue and revocation is a line of the audit trail.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from webapp.errors import PermissionDenied, ValidationError
from webapp.extensions import db
from webapp.models import Agency, AuditEntry, Partner, User
from webapp.models.types import utcnow
from webapp.ratelimit import hit_identity

SCOPES = ("submit", "read")
AGENCY_SCOPE = re.compile(r"^agency:(\d{1,9})$")
PREFIX_LENGTH = 8


def digest(key: str) -> str:
    """The keyed hash stored for a key."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def check_scopes(scopes: list[str]) -> list[str]:
    """The scopes, checked (agency:<id> must name an agency)."""
    cleaned = []
    for scope in (s.strip() for s in scopes):
        if not scope:
            continue
        match = AGENCY_SCOPE.match(scope)
        if scope not in SCOPES and not (match and db.session.get(Agency, int(match.group(1)))):
            raise ValidationError(_l("Phạm vi không hợp lệ: %(scope)s", scope=scope), field="scope")
        cleaned.append(scope)
    if not cleaned:
        raise ValidationError(_l("Cần ít nhất một phạm vi."), field="scope")
    return sorted(set(cleaned))


def issue(name: str, scopes: list[str], actor: User | None = None) -> tuple[Partner, str]:
    """A new partner and its key (the only time the key is seen); the caller commits."""
    name = (name or "").strip()[:120]
    if not name:
        raise ValidationError(_l("Cần tên của hệ thống đối tác."), field="name")
    key = f"pa_{secrets.token_urlsafe(32)}"
    partner = Partner(
        name=name,
        key_prefix=key[:PREFIX_LENGTH],
        key_hash=digest(key),
        scopes=",".join(check_scopes(scopes)),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(partner)
    db.session.flush()
    _audit(actor, "create", partner, after={"name": name, "scopes": partner.scopes})
    return partner, key


def revoke(partner: Partner, actor: User | None = None) -> None:
    """The key stops working at once; the caller commits."""
    partner.active, partner.revoked_at = False, utcnow()
    _audit(actor, "revoke", partner, after={"active": False})


def _audit(actor: User | None, action: str, partner: Partner, after: dict) -> None:
    db.session.add(
        AuditEntry(
            actor_id=actor.id if actor else None,
            action=action,
            entity="partners",
            entity_id=str(partner.id),
            after={**after, "key_prefix": partner.key_prefix},
        )
    )


def authenticate(key: str | None, scope: str) -> Partner:
    """The active partner holding this key and scope, its use counted and limited.

    PermissionDenied (403, as Open311 says for a bad api_key) otherwise; RateLimited (429)
    past RATELIMIT_PARTNER.
    """
    key = (key or "").strip()[:200]
    found = select(Partner).where(Partner.key_hash == digest(key))
    partner = db.session.scalar(found) if key else None
    if partner is None or not partner.active:
        raise PermissionDenied(_l("Khóa API không hợp lệ hoặc đã bị thu hồi."))
    if not has_scope(partner, scope):
        raise PermissionDenied(_l("Khóa API không có quyền này."))
    hit_identity("partner", str(partner.id), "RATELIMIT_PARTNER", what="request")
    db.session.execute(
        update(Partner)
        .where(Partner.id == partner.id)
        .values(uses=Partner.uses + 1, last_used_at=utcnow())
    )
    return partner


def has_scope(partner: Partner, scope: str) -> bool:
    """Whether the partner holds this scope."""
    return scope in partner.scope_list


def agency_ids(partner: Partner | None) -> set[int]:
    """Agencies whose private fields this partner may read."""
    if partner is None:
        return set()
    return {int(m.group(1)) for s in partner.scope_list if (m := AGENCY_SCOPE.match(s))}
