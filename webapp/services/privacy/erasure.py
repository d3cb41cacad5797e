"""Removing a resident from the system while keeping the public record of what they reported.

`erase_resident` (the resident's own request) and `detach_report` (retention, one closed report
at a time) take out: the name, phone, e-mail and messenger ids; the same words wherever they
were copied (the report's text, its events, the messages sent about it, bot conversations,
inbound webhook payloads, delivery windows, one-time codes); the original photos and the photos
never made public; and export files that could hold the text. The report stays with its code,
category, place, status, history and public photo copies, its text scrubbed as on the public
page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, or_, select

from webapp.extensions import db
from webapp.infra import storage
from webapp.models import (
    ChannelWindow,
    ContactCode,
    Conversation,
    InboundEvent,
    OutboxMessage,
    Report,
    ReportFollower,
    Resident,
    ResidentIdentity,
)
from webapp.models.types import utcnow
from webapp.services.intake import scrub
from webapp.services.intake.reports import search_text
from webapp.services.ioc.exports import jobs as export_jobs

ERASED = "[đã xoá]"
MIN_NEEDLE = 3


@dataclass
class Erased:
    """What one erasure or retention run removed."""

    reports: list[str] = field(default_factory=list)
    identities: int = 0
    photos: int = 0
    messages: int = 0
    exports: int = 0


def _phone_pattern(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("84"):
        digits = digits[2:]
    digits = digits.lstrip("0")
    spaced = r"[\s.\-]?".join(re.escape(d) for d in digits)
    return rf"(?:\+?84|0)?[\s.\-]?{spaced}"


def needles_of(resident: Resident | None, identities: Iterable[ResidentIdentity] = ()) -> list[str]:
    """Regular expressions for every way the resident's identifiers can appear in text."""
    found: list[str] = []
    words: set[str] = set()
    if resident is not None:
        words |= {w for w in (resident.display_name, resident.email) if w}
        if resident.phone:
            found.append(_phone_pattern(resident.phone))
    for identity in identities:
        words |= {w for w in (identity.display_name, identity.external_id) if w}
    found += [
        rf"(?<!\w){re.escape(w)}(?!\w)"  # whole words: "Lan" is not "lan can"… but is "Lan"
        for w in sorted(words, key=len, reverse=True)
        if len(w) >= MIN_NEEDLE
    ]
    return found


def clean_text(text: str | None, needles: list[str]) -> str | None:
    """The text with the resident's identifiers blanked, then scrubbed as for the public."""
    if not text:
        return text
    for needle in needles:
        text = re.sub(needle, ERASED, text, flags=re.IGNORECASE)
    return scrub.scrub(text)


def _clean_json(value: Any, needles: list[str]) -> Any:
    if value is None or not needles:
        return value
    raw = json.dumps(value, ensure_ascii=False)
    for needle in needles:
        raw = re.sub(needle, ERASED, raw, flags=re.IGNORECASE)
    return json.loads(raw)


def _drop_photo_files(report: Report, *, private_too: bool) -> int:
    """Delete the originals (and, with private_too, photos never made public)."""
    store = storage.photo_store()
    removed = 0
    for photo in list(report.photos):
        if private_too and photo.hidden:
            store.delete(photo.key)
            db.session.delete(photo)
        else:
            store.delete_original(photo.key)
            photo.original_name, photo.gps_lat, photo.gps_lon, photo.taken_at = (
                None,
                None,
                None,
                None,
            )
        removed += 1
    report.originals_removed_at = utcnow()
    return removed


def drop_originals(report: Report) -> int:
    """Retention of photos: the originals go, the public copies stay."""
    return _drop_photo_files(report, private_too=False)


def _clean_report(report: Report, needles: list[str], result: Erased) -> None:
    report.description = clean_text(report.description, needles) or ""
    report.address_text = clean_text(report.address_text, needles)
    report.search_text = search_text(report.description, report.address_text)
    report.nlu_entities = _clean_json(report.nlu_entities, needles)
    report.extension_reason = clean_text(report.extension_reason, needles)
    report.public_note = clean_text(report.public_note, needles)
    for event in report.events:
        event.note = clean_text(event.note, needles)
        event.data = _clean_json(event.data, needles)
    messages = db.session.scalars(select(OutboxMessage).where(OutboxMessage.report_id == report.id))
    for message in messages:
        if message.recipient_kind == "resident":
            message.address, message.subject, message.payload = None, None, None
            message.body, message.last_error = ERASED, None
        else:  # the agency's copy keeps the case, not the person
            message.subject = clean_text(message.subject, needles)
            message.body = clean_text(message.body, needles) or ""
            message.payload = _clean_json(message.payload, needles)
        result.messages += 1
    db.session.execute(delete(ContactCode).where(ContactCode.report_id == report.id))
    result.photos += _drop_photo_files(report, private_too=True)
    report.resident_id, report.identity_id, report.client_hash = None, None, None
    report.personal_data_removed_at = utcnow()
    result.reports.append(report.code or str(report.id))


def forget_chat(channel: str, user_id: str) -> None:
    """A messenger user's conversation (draft text and photos), reply window and stored
    webhook events, whether or not they ever sent a report."""
    db.session.execute(
        delete(Conversation).where(Conversation.channel == channel, Conversation.user_id == user_id)
    )
    db.session.execute(
        delete(ChannelWindow).where(
            ChannelWindow.address == user_id,
            ChannelWindow.channel.in_((channel, f"{channel}_transaction")),
        )
    )
    db.session.execute(
        delete(InboundEvent).where(
            InboundEvent.channel == channel,
            or_(
                cast(InboundEvent.payload, String).contains(user_id),
                InboundEvent.event_id.like(f"%:{user_id}:%"),  # msg:<chat id>:<message id>
            ),
        )
    )


def _forget_identity(identity: ResidentIdentity, result: Erased) -> None:
    forget_chat(identity.channel, identity.external_id)
    db.session.execute(delete(ReportFollower).where(ReportFollower.identity_id == identity.id))
    _forget_addresses([identity.external_id], result)
    for report in db.session.scalars(select(Report).where(Report.identity_id == identity.id)):
        report.identity_id = None
    db.session.delete(identity)
    result.identities += 1


def _forget_addresses(addresses: list[str], result: Erased) -> None:
    """Messages and codes sent to these addresses, whatever the report."""
    addresses = [a for a in addresses if a]
    if not addresses:
        return
    for message in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.address.in_(addresses))
    ):
        message.address, message.subject, message.payload = None, None, None
        message.body, message.last_error = ERASED, None
        result.messages += 1
    db.session.execute(delete(ContactCode).where(ContactCode.address.in_(addresses)))


def _withdraw_exports(since: datetime | None, result: Erased) -> None:
    if since is not None:
        result.exports += export_jobs.withdraw_since(since)


def erase_resident(resident: Resident) -> Erased:
    """Everything that identifies this resident, on every report they sent or followed.

    The caller records the request in the audit trail and commits.
    """
    result = Erased()
    identities = list(resident.identities)
    needles = needles_of(resident, identities)
    reports = list(
        db.session.scalars(
            select(Report).where(
                or_(
                    Report.resident_id == resident.id,
                    Report.identity_id.in_([i.id for i in identities] or [-1]),
                )
            )
        )
    )
    for report in reports:
        _clean_report(report, needles, result)
    db.session.flush()
    for identity in identities:
        _forget_identity(identity, result)
    db.session.execute(delete(ContactCode).where(ContactCode.resident_id == resident.id))
    _forget_addresses([resident.phone or "", resident.email or ""], result)
    _withdraw_exports(min((r.created_at for r in reports), default=None), result)
    db.session.flush()
    db.session.delete(resident)
    return result


def erase_report(report: Report) -> Erased:
    """A report sent without any contact: its text scrubbed, its private photos deleted."""
    result = Erased()
    _clean_report(report, [], result)
    return result


def detach_report(report: Report) -> Erased:
    """Retention of one closed report: its resident's identifiers leave it; the resident goes
    too once no report of theirs is left to answer."""
    result = Erased()
    resident = report.resident
    identities = list(resident.identities) if resident is not None else []
    needles = needles_of(resident, identities)
    _clean_report(report, needles, result)
    db.session.flush()
    if resident is not None:
        left = db.session.scalar(
            select(Report.id).where(Report.resident_id == resident.id).limit(1)
        )
        if left is None:
            for identity in identities:
                _forget_identity(identity, result)
            db.session.execute(delete(ContactCode).where(ContactCode.resident_id == resident.id))
            _forget_addresses([resident.phone or "", resident.email or ""], result)
            db.session.flush()
            db.session.delete(resident)
    _withdraw_exports(report.created_at, result)
    return result
