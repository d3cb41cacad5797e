"""What intake checks before it writes anything: the form, the sender and the photos.

A report that fails here leaves nothing behind; `reports.submit_report` runs these, then
writes. They are separate so the intake benchmark can time them on their own (bench/).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

from webapp import ratelimit
from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import Category, Channel
from webapp.services.intake import blocks, photos, questions
from webapp.services.intake.photo_copies import ProcessedPhoto
from webapp.services.intake.photo_limits import PhotoLimits
from webapp.services.intake.submission import Contact, ReportDraft
from webapp.services.privacy import notice

PHONE_RE = re.compile(r"^(\+84|84|0)(\d{9,10})$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_SEPARATORS_RE = re.compile(r"[\s.\-()]")
CHANNELS = frozenset(c.value for c in Channel)
CONSENT_REQUIRED = frozenset({Channel.WEB.value, Channel.HOTLINE.value})


def photo_limits() -> PhotoLimits:
    """Photo limits from the app config (bytes, pixels, request budget, decode slots)."""
    return PhotoLimits.from_config(current_app.config)


def clean_description(text: str | None) -> str:
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


def check_point(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise ValidationError(_l("Vị trí thiếu vĩ độ hoặc kinh độ."), field="lat")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError(_l("Vị trí không hợp lệ."), field="lat")
    return float(lat), float(lon)


def check_contact(contact: Contact | None) -> Contact | None:
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


def locked_out() -> ValidationError:
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
        raise locked_out()
    if draft.created_by is not None:
        return
    if draft.identity:
        ratelimit.hit_identity("intake", f"{draft.identity.channel}:{draft.identity.external_id}")
    for kind, value in keys:
        ratelimit.hit_identity("intake", f"{kind}:{value}")


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


@dataclass(frozen=True)
class Checked:
    """A draft that passed every check intake makes before it writes: nothing stored yet."""

    contact: Contact | None
    client_hash: str | None
    answers: dict[str, Any] | None
    processed: list[ProcessedPhoto]


def check_form(draft: ReportDraft) -> str:
    """The form's own checks (text, channel, consent); returns the cleaned description."""
    description = clean_description(draft.description)
    if draft.channel not in CHANNELS:
        raise ValidationError(_l("Kênh gửi không hợp lệ."), field="channel")
    if draft.channel in CONSENT_REQUIRED and not draft.consent:
        raise ValidationError(notice.CONSENT_MISSING, field="consent")
    return description


def check_sender(draft: ReportDraft) -> Checked:
    """The sender's checks (contact, locks, limits), the category's answers and the photos.

    Every photo's header is checked against the budgets, then decoded and re-encoded in a
    bounded pool, before the database is touched: a bad photo refuses the whole report.
    """
    contact = check_contact(draft.contact)
    client_hash = blocks.key_hash("address", draft.client_address) if draft.client_address else None
    _check_limits(draft, contact, client_hash)
    answers = _answers(draft)
    uploads = [(p.data, p.filename) for p in draft.photos]
    processed = photos.process_photos(uploads, photo_limits()) if uploads else []
    return Checked(contact, client_hash, answers, processed)
