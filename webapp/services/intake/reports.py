"""Intake: the one way a report enters the system, from any channel."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from config.settings import VN_TZ
from webapp.errors import NotFound
from webapp.extensions import db
from webapp.infra import i18n, queue, task_names
from webapp.infra.storage import photo_store
from webapp.infra.text import fold
from webapp.models import (
    LocationSource,
    Photo,
    Report,
    ReportStatus,
    Resident,
    ResidentIdentity,
)
from webapp.models.types import utcnow
from webapp.services.casework import workflow
from webapp.services.geography import places
from webapp.services.intake import checks, contacts, idempotency
from webapp.services.intake.checks import photo_limits
from webapp.services.intake.photo_copies import ProcessedPhoto
from webapp.services.intake.submission import (
    ChannelIdentity,
    Contact,
    IntakeResult,
    PhotoUpload,
    ReportDraft,
)
from webapp.services.privacy import notice

# Re-exported: channels and tests import the draft's parts and the photo limits from here.
__all__ = [
    "ChannelIdentity",
    "Contact",
    "IntakeResult",
    "PhotoUpload",
    "ReportDraft",
    "get_by_code",
    "get_by_token",
    "photo_limits",
    "photo_row",
    "public_code",
    "search_text",
    "submit_report",
    "typed_address",
]

log = logging.getLogger(__name__)
LOCAL_TZ = VN_TZ
CODE_RE = re.compile(r"[A-Z]{1,8}-\d{4}-\d{6,12}")
# On PostgreSQL the id is drawn from the reports' sequence before the INSERT, so the public
# code (which quotes it) goes in with the row: no second statement rewriting the row.
NEXT_REPORT_ID = text("SELECT nextval(pg_get_serial_sequence('reports', 'id'))")


def _resident_for(
    draft: ReportDraft, contact: Contact | None
) -> tuple[Resident | None, ResidentIdentity | None]:
    """The resident and the identity the answers go back to.

    A messenger id is verified by the platform: it finds the same resident again. A phone or
    e-mail typed on the web, the API or by a hotline operator is only a claim: it is kept on a
    new resident of this report and never selects, merges or overwrites anyone.
    """
    if draft.identity:
        identity = db.session.scalar(
            select(ResidentIdentity).filter_by(
                channel=draft.identity.channel, external_id=draft.identity.external_id
            )
        )
        if identity is None:
            resident = Resident(display_name=draft.identity.display_name)
            identity = ResidentIdentity(
                resident=resident,
                channel=draft.identity.channel,
                external_id=draft.identity.external_id,
                display_name=draft.identity.display_name,
            )
            db.session.add(identity)
        if identity.resident.locked:
            raise checks.locked_out()
        return identity.resident, identity
    if contact is None:
        return None, None
    resident = Resident(display_name=contact.name, phone=contact.phone, email=contact.email)
    db.session.add(resident)
    return resident, None


@dataclass(frozen=True)
class Location:
    """Where a report is: its point (None: nowhere), how it was found, and its placement."""

    point: tuple[float, float] | None
    source: str
    placement: places.Placement | None = None


def locate(draft: ReportDraft, description: str, processed: list[ProcessedPhoto]) -> Location:
    """The point: pin, then photo GPS, then typed address, then names in the text."""
    point = checks.check_point(draft.lat, draft.lon)
    source = draft.location_source or LocationSource.PIN
    if point is None:
        gps = next((p.gps for p in processed if p.gps), None)
        if gps:
            point, source = gps, LocationSource.EXIF
    address = typed_address(draft)
    if point is None and address:
        match = places.geocode(address)
        if match:
            point, source = (match.lat, match.lon), LocationSource.ADDRESS
    if point is None:
        match = places.find_place_names(description)
        if match:
            point, source = (match.lat, match.lon), LocationSource.TEXT
    if point is None:
        return Location(None, LocationSource.NONE)
    return Location(point, source, places.place(*point))


def _put(report: Report, location: Location) -> None:
    report.location_source = location.source
    if location.point is None or location.placement is None:
        return
    placement = location.placement
    report.lat, report.lon = location.point
    report.unit_code = placement.unit_code
    report.province_code = placement.province_code
    report.outside_area = not placement.inside
    for name, cell in placement.cells.items():
        setattr(report, name, cell)


def typed_address(draft: ReportDraft) -> str | None:
    """The address the resident typed, trimmed to what the report keeps (None: none)."""
    return (draft.address or "").strip()[:500] or None


def photo_row(
    item: ProcessedPhoto,
    key: str,
    position: int,
    *,
    kind: str = "report",
    filename: str | None = None,
) -> Photo:
    """The database row of a stored photo (a resident's, or an agency's result photo)."""
    taken_at = item.taken_at
    if taken_at is not None and taken_at.tzinfo is None:
        # Cameras without an offset record local time; here that is Vietnam's.
        taken_at = taken_at.replace(tzinfo=LOCAL_TZ)
    return Photo(
        key=key,
        kind=kind,
        position=position,
        mime=item.mime,
        width=item.width,
        height=item.height,
        size_bytes=len(item.original),
        sha256=item.sha256,
        gps_lat=item.gps[0] if item.gps else None,
        gps_lon=item.gps[1] if item.gps else None,
        taken_at=taken_at,
        original_name=(filename or "")[:200] or None,
    )


def public_code(report_id: int, created: datetime, prefix: str) -> str:
    """The code residents quote, e.g. PA-2611-000123 (year, month, number)."""
    return f"{prefix}-{created.astimezone(LOCAL_TZ):%y%m}-{report_id:06d}"


def submit_report(draft: ReportDraft) -> IntakeResult:
    """Validate and store a report with its photos in one transaction, then queue it."""
    description = checks.check_form(draft)
    client_key = None
    if draft.client_key:
        client_key = idempotency.digest(draft.channel, draft.client_key, description)
        found = idempotency.earlier(client_key)
        if found is not None:  # sent before: that report, not a second one (nor a limit)
            return _replayed(found)
    checked = checks.check_sender(draft)
    contact, client_hash, processed = checked.contact, checked.client_hash, checked.processed
    address = typed_address(draft)

    stored_keys: list[str] = []
    try:
        now = utcnow()
        report = Report(
            channel=draft.channel,
            language=i18n.normalise(draft.language),
            description=description,
            address_text=address,
            search_text=search_text(description, address),
            category_hint=draft.category_hint,
            created_by_id=draft.created_by.id if draft.created_by else None,
            created_at=now,
            tracking_token=secrets.token_urlsafe(32),
            client_hash=client_hash,
            client_key=client_key,
            consent_version=notice.version() if draft.consent else None,
            attributes=checked.answers,
            partner_id=draft.partner_id,
        )
        _put(report, locate(draft, description, processed))
        if draft.split_from is not None:  # the same person, not a copy of their contact
            report.resident = draft.split_from.resident
            report.identity = draft.split_from.identity
        else:
            report.resident, report.identity = _resident_for(draft, contact)
        db.session.add(report)
        # PostgreSQL: the id from the sequence, so the code goes in with the row. SQLite (the
        # embedded default) has no sequence: the INSERT gives the id, the code follows.
        sequence = db.session.get_bind().dialect.name == "postgresql"
        if sequence:
            report.id = int(db.session.scalar(NEXT_REPORT_ID))
            _give_code(report, now)
        _store_photos(report, draft.photos, processed, stored_keys)
        workflow.transition(
            report,
            ReportStatus.RECEIVED,
            actor=draft.created_by,
            actor_label=None if draft.created_by else "resident",
            data={"channel": draft.channel, "photos": len(processed)},
        )
        if report.lat is not None and report.outside_area:
            workflow.transition(
                report,
                ReportStatus.NEEDS_TRIAGE,
                note="Vị trí nằm ngoài địa bàn tỉnh/thành phố.",
                data={"reason": "outside_area"},
            )
        if not sequence:
            db.session.flush()
            _give_code(report, now)
        if report.resident is not None and report.identity is None and not draft.split_from:
            contacts.send_confirmation(report.resident, report)
        # Read what the caller needs before the commit expires the row (no reload after it).
        report_id, code, status = report.id, str(report.code), report.status
        token = report.tracking_token or ""
        db.session.commit()
    except BaseException as error:
        db.session.rollback()
        for key in stored_keys:
            photo_store().delete(key)
        same = client_key and isinstance(error, IntegrityError)
        found = idempotency.earlier(client_key) if same and client_key else None
        if found is not None:  # the same submission, stored meanwhile by another request
            return _replayed(found)
        raise
    queued = queue.enqueue(task_names.CLASSIFY_REPORT, report_id)
    log.info("report %s stored (%s), queued=%s", report_id, status, queued)
    return IntakeResult(report_id, code, status, queued, token)


def _replayed(report: Report) -> IntakeResult:
    log.info("report %s sent again with its idempotency key", report.id)
    return IntakeResult(
        report.id, str(report.code), report.status, False, report.tracking_token or "", True
    )


def _give_code(report: Report, now: datetime) -> None:
    report.code = public_code(report.id, now, current_app.config["PUBLIC_CODE_PREFIX"])


def _store_photos(
    report: Report,
    uploads: list[PhotoUpload],
    processed: list[ProcessedPhoto],
    stored_keys: list[str],
) -> None:
    """Write the photos' files and attach their rows; `stored_keys` says what to delete."""
    if not processed:
        return
    store = photo_store()
    for position, (upload, item) in enumerate(zip(uploads, processed, strict=True)):
        saved = store.store(item)
        stored_keys.append(saved.key)
        report.photos.append(photo_row(item, saved.key, position, filename=upload.filename))


def search_text(description: str, address: str | None) -> str:
    """The folded copy of the text that staff search ("duong" finds "đường")."""
    return fold(f"{description} {address or ''}")


def get_by_token(token: str) -> Report:
    """A report by the secret token of its tracking link, or NotFound."""
    report = None
    if token and len(token) <= 64:
        report = db.session.scalar(select(Report).where(Report.tracking_token == token))
    if report is None:
        raise NotFound(_l("Liên kết theo dõi không đúng."), field="token")
    return report


def get_by_code(code: str) -> Report:
    """A report by its public code, or NotFound."""
    code = (code or "").strip().upper()
    report = None
    if CODE_RE.fullmatch(code):
        report = db.session.scalar(select(Report).where(Report.code == code))
    if report is None:
        shown = code if CODE_RE.fullmatch(code) else code[:20]
        raise NotFound(_l("Không tìm thấy phản ánh có mã %(shown)s.", shown=shown), field="code")
    return report
