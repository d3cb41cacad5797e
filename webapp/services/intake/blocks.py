"""Locks on abusive senders: verified identities and client addresses, as keyed hashes.

A moderator's lock covers the resident's messenger identity (`Resident.locked`), the e-mail
or phone the resident verified, and the address the report came from, for
LOCK_ADDRESS_HOURS (a mobile carrier's address is shared by many). Addresses and contacts
are stored as HMAC-SHA256 under SECRET_KEY: a lock can be matched, never read back.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select

from webapp.extensions import db
from webapp.models import IntakeBlock, Report, Resident
from webapp.models.types import utcnow


def key_hash(kind: str, value: str) -> str:
    """The keyed hash of an address, e-mail or phone (normalised by the caller)."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def is_blocked(hashes: list[tuple[str, str]]) -> bool:
    """Whether any of these (kind, keyed hash) is locked now; one query for all of them."""
    if not hashes:
        return False
    stmt = select(IntakeBlock.id).where(
        or_(*[(IntakeBlock.kind == k) & (IntakeBlock.key_hash == h) for k, h in hashes]),
        or_(IntakeBlock.expires_at.is_(None), IntakeBlock.expires_at > utcnow()),
    )
    return db.session.scalar(stmt.limit(1)) is not None


def _add(kind: str, hashed: str, report: Report, user_id: int | None, hours: float | None) -> None:
    expires = utcnow() + timedelta(hours=hours) if hours else None
    row = db.session.scalar(
        select(IntakeBlock).where(IntakeBlock.kind == kind, IntakeBlock.key_hash == hashed)
    )
    if row is None:
        row = IntakeBlock(kind=kind, key_hash=hashed)
        db.session.add(row)
    row.expires_at, row.report_id, row.created_by_id = expires, report.id, user_id


def lock_sender(report: Report, user_id: int | None) -> None:
    """Lock what sent this report: the resident, their verified contacts, its address."""
    resident = report.resident
    if resident is not None:
        resident.locked = True
        if resident.email and resident.email_confirmed_at:
            _add("email", key_hash("email", resident.email), report, user_id, None)
        if resident.phone and resident.phone_verified_at:
            _add("phone", key_hash("phone", resident.phone), report, user_id, None)
    if report.client_hash:
        hours = float(current_app.config["LOCK_ADDRESS_HOURS"])
        _add("address", report.client_hash, report, user_id, hours)


def unlock_report_sender(report: Report) -> None:
    """Lift the locks placed because of this report (and its resident's, if any)."""
    if report.resident is not None:
        unlock_resident(report.resident)
    db.session.execute(delete(IntakeBlock).where(IntakeBlock.report_id == report.id))


def unlock_resident(resident: Resident) -> None:
    """Lift the locks of a resident and of the reports' addresses they came from."""
    resident.locked = False
    report_ids = select(Report.id).where(Report.resident_id == resident.id)
    db.session.execute(delete(IntakeBlock).where(IntakeBlock.report_id.in_(report_ids)))
