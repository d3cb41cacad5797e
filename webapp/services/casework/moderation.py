"""Moderation: personal data redacted, photos blurred or hidden, reports taken off the public
views, abusive senders locked and unlocked."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.infra.storage import VARIANTS, photo_store
from webapp.models import OutboxMessage, Photo, Report, Resident, User
from webapp.permissions import Action, require
from webapp.services.casework import action_text, workflow
from webapp.services.intake import blocks, photo_copies, reports


def redact_text(user: User, report: Report, new_text: str) -> None:
    """Moderation: replace personal data in the description, in every copy of it.

    The search copy, the events that quoted the text (category corrections feed the NLU
    loop) and the messages still stored in the outbox all lose the old text.
    """
    require(user, Action.MODERATE, report)
    old = report.description
    new = action_text.required(new_text, "description", _l("nội dung"), minimum=5)
    report.description = new
    report.search_text = reports.search_text(new, report.address_text)
    for event in report.events:
        if event.note and old in event.note:
            event.note = event.note.replace(old, new)
        if event.data and any(isinstance(v, str) and old in v for v in event.data.values()):
            event.data = {
                k: v.replace(old, new) if isinstance(v, str) else v for k, v in event.data.items()
            }
    for message in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.report_id == report.id)
    ):
        if message.body and old in message.body:
            message.body = message.body.replace(old, new)
    workflow.record_event(
        report, "moderation", actor=user, note="Đã ẩn thông tin cá nhân trong nội dung."
    )
    db.session.commit()


def hide_from_public(user: User, report: Report, hidden: bool = True) -> None:
    """Moderation: take a report off the public views (they keep showing its status)."""
    require(user, Action.MODERATE, report)
    report.public_hidden = hidden
    note = "Đã ẩn phản ánh khỏi trang công khai." if hidden else "Đã công khai lại phản ánh."
    workflow.record_event(report, "moderation", actor=user, note=note, public=False)
    db.session.commit()


def moderate_photo(user: User, report: Report, photo: Photo, action: str) -> None:
    """Moderation: blur (the public copies are replaced) or hide a photo."""
    require(user, Action.MODERATE, report)
    if photo.report_id != report.id:
        raise ValidationError(_l("Ảnh không thuộc phản ánh này."))
    store = photo_store()
    if action == "blur":
        for variant in VARIANTS:
            blurred = photo_copies.blur_image(store.read_public(photo.key, variant))
            store.replace_public(photo.key, variant, blurred)
        photo.blurred = True
    elif action == "hide":
        photo.hidden = True
    else:
        raise ValidationError(_l("Thao tác không hợp lệ."))
    workflow.record_event(report, "moderation", actor=user, note=f"Ảnh: {action}")
    db.session.commit()


def lock_resident(user: User, report: Report) -> None:
    """Moderation: lock an abusive sender: the resident, verified contacts and the address."""
    require(user, Action.MODERATE, report)
    if report.resident is None and not report.client_hash:
        raise ValidationError(_l("Phản ánh ẩn danh."))
    blocks.lock_sender(report, user.id)
    workflow.record_event(report, "moderation", actor=user, note="Đã khóa tài khoản người gửi.")
    db.session.commit()


def unlock_sender(user: User, report: Report) -> None:
    """Moderation: lift the locks placed because of this report."""
    require(user, Action.MODERATE, report)
    blocks.unlock_report_sender(report)
    workflow.record_event(report, "moderation", actor=user, note="Đã mở khóa người gửi.")
    db.session.commit()


def unlock_resident(resident: Resident) -> None:
    """Unlock a resident account and the addresses its reports came from."""
    blocks.unlock_resident(resident)
    db.session.commit()
