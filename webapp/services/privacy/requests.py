"""Residents' requests about their data from a messenger bot (/dulieu, /xoadulieu).

The messenger vouches for who is asking (a Telegram or Zalo user id is the platform's own), so
no code is needed: /dulieu answers with a link to the JSON copy, valid DATA_LINK_MINUTES;
/xoadulieu, once confirmed in the chat, erases the resident everywhere. Both are audited.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from webapp.errors import NotFound
from webapp.extensions import db
from webapp.models import Resident, ResidentIdentity
from webapp.services.intake.serializers import absolute_url
from webapp.services.privacy import erasure, export

SALT = "resident-data-link"
DATA_LINK_MINUTES = 60


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _identity(channel: str, external_id: str) -> ResidentIdentity | None:
    return db.session.scalar(
        select(ResidentIdentity).filter_by(channel=channel, external_id=str(external_id))
    )


def data_link(channel: str, external_id: str) -> str | None:
    """A link to the messenger user's data (None: we hold nothing about them); audited."""
    identity = _identity(channel, external_id)
    if identity is None:
        return None
    export.audit("data_export", identity.resident_id, channel, [])  # the turn commits it
    token = _signer().dumps({"r": identity.resident_id, "i": identity.id})
    return absolute_url(f"/du-lieu/{token}")


def data_for_link(token: str) -> dict:
    """The JSON copy a data link opens; NotFound when the link is bad, old or erased."""
    data: dict = {}
    resident = None
    try:
        data = _signer().loads(token[:500], max_age=DATA_LINK_MINUTES * 60)
        resident = db.session.get(Resident, int(data["r"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        pass
    if resident is None or not any(i.id == data.get("i") for i in resident.identities):
        raise NotFound(_l("Liên kết tải dữ liệu không hợp lệ hoặc đã hết hạn."))
    return export.resident_data(resident)


def erase_messenger_user(channel: str, external_id: str) -> list[str] | None:
    """Erase the messenger user's data; the codes of their reports (None: they never sent or
    followed a report; their conversation, if any, is erased all the same)."""
    identity = _identity(channel, external_id)
    if identity is None:
        erasure.forget_chat(channel, str(external_id))
        db.session.commit()
        return None
    resident = identity.resident
    resident_id = resident.id
    done = erasure.erase_resident(resident)
    export.audit("data_erase", resident_id, channel, done.reports)
    db.session.commit()
    return done.reports
