"""Intake: the one way a report enters the system, from any channel."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from config.settings import VN_TZ
from webapp import ratelimit
from webapp.errors import NotFound, ValidationError
from webapp.extensions import db
from webapp.infra import i18n, queue, task_names
from webapp.infra.storage import photo_store
from webapp.infra.text import fold
from webapp.models import (
    Category,
    Channel,
    LocationSource,
    Photo,
    Report,
    ReportStatus,
    Resident,
    ResidentIdentity,
    User,
)
from webapp.models.types import utcnow
from webapp.services.casework import workflow
from webapp.services.geography import places
from webapp.services.intake import blocks, contacts, idempotency, photos, questions
from webapp.services.intake.photo_copies import ProcessedPhoto
from webapp.services.intake.photo_limits import PhotoLimits
from webapp.services.privacy import notice

log = logging.getLogger(__name__)
LOCAL_TZ = VN_TZ
PHONE_RE = re.compile(r"^(\+84|84|0)(\d{9,10})$")
CODE_RE = re.compile(r"[A-Z]{1,8}-\d{4}-\d{6,12}")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_SEPARATORS_RE = re.compile(r"[\s.\-()]")
CHANNELS = frozenset(c.value for c in Channel)
CONSENT_REQUIRED = frozenset({Channel.WEB.value, Channel.HOTLINE.value})
# On PostgreSQL the id is drawn from the reports' sequence before the INSERT, so the public
# code (which quotes it) goes in with the row: no second statement rewriting the row.
NEXT_REPORT_ID = text("SELECT nextval(pg_get_serial_sequence('reports', 'id'))")


@dataclass
class PhotoUpload:
    """Bytes of one uploaded photo and the name the resident's device gave it."""

    data: bytes
    filename: str | None = None


@dataclass
class ChannelIdentity:
    """Who sent the report on a messenger (Telegram or Zalo user id)."""

    channel: str
    external_id: str
    display_name: str | None = None


@dataclass
class Contact:
    """Optional contact details typed by the resident on the web form or to the hotline."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class ReportDraft:
    """A channel-neutral report as an adapter hands it to intake."""

    channel: str
    description: str
    photos: list[PhotoUpload] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    location_source: str | None = None  # pin | device; default pin when lat/lon given
    address: str | None = None
    contact: Contact | None = None
    identity: ChannelIdentity | None = None
    category_hint: str | None = None
    created_by: User | None = None
    client_address: str | None = None  # the HTTP client's address (web, API), for locks
    language: str = "vi"  # the resident's language (catalog locale), for what they are told
    # The resident accepted the privacy notice (webapp.services.privacy.notice): required on the
    # web form and the hotline; the bots show it first and sending means agreeing.
    consent: bool = False
    # Answers to the category's questions, and the partner system that sent it (Open311).
    attributes: dict[str, Any] | None = None
    partner_id: int | None = None
    # The client's idempotency key (intake.idempotency): sent again, the same report answers.
    client_key: str | None = None
    # A problem split off this report by an operator: the same resident, no questions asked.
    split_from: Report | None = None


@dataclass(frozen=True)
class IntakeResult:
    """What the resident is told: the code and the status."""

    report_id: int
    code: str
    status: str
    queued: bool
    tracking_token: str = ""
    replayed: bool = False  # the report stored the first time this submission was sent


def photo_limits() -> PhotoLimits:
    """Photo limits from the app config (bytes, pixels, request budget, decode slots)."""
    return PhotoLimits.from_config(current_app.config)


def _clean_description(text: str | None) -> str:
    text = (text or "").strip()
    cfg = current_app.config
    if not text:
        raise ValidationError(
            _l("Vui lòng mô tả vấn đề bạn muốn phản ánh."),
            field="description",
        )
    if len(text) < cfg["DESCRIPTION_MIN_LENGTH"]:
        raise ValidationError(
            _l(
                "Mô tả quá ngắn: vui lòng viết ít nhất %(minimum)s ký tự.",
                minimum=cfg["DESCRIPTION_MIN_LENGTH"],
            ),
            field="description",
        )
    if len(text) > cfg["DESCRIPTION_MAX_LENGTH"]:
        raise ValidationError(
            _l("Mô tả quá dài: tối đa %(maximum)s ký tự.", maximum=cfg["DESCRIPTION_MAX_LENGTH"]),
            field="description",
        )
    return text


def _check_point(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ValidationError(_l("Vị trí thiếu vĩ độ hoặc kinh độ."), field="lat")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(_l("Vị trí không hợp lệ."), field="lat")
    return float(lat), float(lon)


def _check_contact(contact: Contact | None) -> Contact | None:
    if contact is None:
        return None
    phone = PHONE_SEPARATORS_RE.sub("", contact.phone or "") or None
    email = (contact.email or "").strip().lower() or None
    if phone and not PHONE_RE.match(phone):
        raise ValidationError(_l("Số điện thoại không hợp lệ."), field="contact")
    if email and not EMAIL_RE.match(email):
        raise ValidationError(_l("Địa chỉ e-mail không hợp lệ."), field="contact")
    name = (contact.name or "").strip() or None
    if not (phone or email or name):
        return None
    return Contact(name=name, phone=phone, email=email)


def _locked_out() -> ValidationError:
    return ValidationError(
        _l("Tài khoản của bạn đã bị tạm khóa do vi phạm quy định. Vui lòng gọi đường dây 1022."),
    )


def _check_limits(draft: ReportDraft, contact: Contact | None, client_hash: str | None) -> None:
    """Refuse locked senders and count the report against each identity's limit.

    Staff typing a hotline call are not limited: the limits protect against residents' clients.
    """
    keys = [(kind, getattr(contact, kind)) for kind in ("email", "phone") if contact]
    keys = [(kind, value) for kind, value in keys if value]
    hashes = [(kind, blocks.key_hash(kind, value)) for kind, value in keys]
    if blocks.is_blocked(hashes + ([("address", client_hash)] if client_hash else [])):
        raise _locked_out()
    if draft.created_by is not None:
        return
    if draft.identity:
        ratelimit.hit_identity("intake", f"{draft.identity.channel}:{draft.identity.external_id}")
    for kind, value in keys:
        ratelimit.hit_identity("intake", f"{kind}:{value}")


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
            raise _locked_out()
        return identity.resident, identity
    if contact is None:
        return None, None
    resident = Resident(display_name=contact.name, phone=contact.phone, email=contact.email)
    db.session.add(resident)
    return resident, None


def _locate(report: Report, draft: ReportDraft, processed: list[ProcessedPhoto]) -> None:
    """Fill the point: pin, then photo GPS, then typed address, then names in the text."""
    point = _check_point(draft.lat, draft.lon)
    source = draft.location_source or LocationSource.PIN
    if point is None:
        gps = next((p.gps for p in processed if p.gps), None)
        if gps:
            point, source = gps, LocationSource.EXIF
    if point is None and report.address_text:
        match = places.geocode(report.address_text)
        if match:
            point, source = (match.lat, match.lon), LocationSource.ADDRESS
    if point is None:
        match = places.find_place_names(report.description)
        if match:
            point, source = (match.lat, match.lon), LocationSource.TEXT
    if point is None:
        report.location_source = LocationSource.NONE
        return
    report.lat, report.lon = point
    report.location_source = source
    placement = places.place(*point)
    report.unit_code = placement.unit_code
    report.province_code = placement.province_code
    report.outside_area = not placement.inside
    for name, cell in placement.cells.items():
        setattr(report, name, cell)


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


# Where the sender chooses the category and is asked its questions.
CATEGORY_CHOSEN = frozenset(
    c.value for c in (Channel.OPEN311, Channel.WEB, Channel.TELEGRAM, Channel.ZALO)
)


def _answers(draft: ReportDraft) -> dict[str, Any] | None:
    """The category questions' answers; required ones only where the sender chose the
    category (Open311's service_code, the web form's "Lĩnh vực", a bot's category step)."""
    chosen = (
        draft.category_hint is not None
        and draft.channel in CATEGORY_CHOSEN
        and draft.split_from is None  # chosen by the operator, not asked of the resident
    )
    if not draft.attributes and not chosen:
        return None
    category = db.session.get(Category, draft.category_hint) if draft.category_hint else None
    return questions.clean(category, draft.attributes or {}, enforce_required=chosen)


def submit_report(draft: ReportDraft) -> IntakeResult:
    """Validate and store a report with its photos in one transaction, then queue it."""
    description = _clean_description(draft.description)
    if draft.channel not in CHANNELS:
        raise ValidationError(_l("Kênh gửi không hợp lệ."), field="channel")
    if draft.channel in CONSENT_REQUIRED and not draft.consent:
        raise ValidationError(notice.CONSENT_MISSING, field="consent")
    client_key = None
    if draft.client_key:
        client_key = idempotency.digest(draft.channel, draft.client_key, description)
        found = idempotency.earlier(client_key)
        if found is not None:  # sent before: that report, not a second one (nor a limit)
            return _replayed(found)
    contact = _check_contact(draft.contact)
    client_hash = blocks.key_hash("address", draft.client_address) if draft.client_address else None
    _check_limits(draft, contact, client_hash)
    answers = _answers(draft)
    # Check every photo's header against the budgets, then decode and re-encode them in a
    # bounded pool, before touching the database: a bad photo refuses the whole report.
    uploads = [(p.data, p.filename) for p in draft.photos]
    processed = photos.process_photos(uploads, photo_limits()) if uploads else []
    address = (draft.address or "").strip()[:500] or None

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
            attributes=answers,
            partner_id=draft.partner_id,
        )
        _locate(report, draft, processed)
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
