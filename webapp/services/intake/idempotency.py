"""One report per submission, however often it is sent: the client's idempotency key.

A client that cannot know whether its report arrived (a phone losing the signal mid-upload,
a queued offline draft sent again, a double tap) sends the same key again; the report
stored the first time is answered instead of a second one. The key comes as the form field
`client_key` or the `Idempotency-Key` header (web form, hotline, /api/v1, Open311) or is the
messenger's update id (bots).

Only a digest of (channel, key, description) is stored: the same key with other words is a
new report (a client that reuses keys by mistake loses nothing), and the key itself, which
opens the report's private link on a replay, is never kept. Written here because it is a
lookup and a digest; the libraries for it are HTTP middlewares that cache whole responses.
"""

from __future__ import annotations

import hashlib
import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import Report

KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{16,100}$")
HEADER = "Idempotency-Key"
FIELD = "client_key"


def checked(raw: str | None) -> str | None:
    """The key as sent, or None when none was; garbage is refused (a key of 16–100 letters,
    digits and - _ . :, e.g. a UUID)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not KEY_RE.match(raw):
        raise ValidationError(
            _l("Mã gửi (Idempotency-Key) không hợp lệ: 16–100 chữ, số hoặc - _ . :"),
            field=FIELD,
        )
    return raw


def digest(channel: str, key: str, description: str) -> str:
    """What is stored and looked up for a key."""
    material = "\x1f".join((channel, key, description)).encode("utf-8")
    return hashlib.sha256(material).hexdigest()


def earlier(client_key: str) -> Report | None:
    """The report already stored for this digest, if any."""
    return db.session.scalar(select(Report).where(Report.client_key == client_key))
