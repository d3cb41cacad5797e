"""What agency staff and IOC operators do to a report. Each action checks permission,
goes through the state machine or records an event, and commits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import (
    Agency,
    Category,
    OutboxMessage,
    Photo,
    Report,
    ReportStatus,
    Resident,
    User,
)
from webapp.models.types import utcnow
from webapp.permissions import Action, require
from webapp.services import blocks, deadlines, photos, reports, routing, workflow
from webapp.services.reports import photo_limits, photo_row, photo_store

S = ReportStatus
REJECT_REASONS = {
    "not_competent": "Không thuộc thẩm quyền giải quyết của cơ quan hành chính",
    "insufficient": "Nội dung không rõ ràng, không đủ thông tin để xử lý",
    "private_dispute": "Tranh chấp dân sự, đề nghị gửi Tòa án hoặc hòa giải cơ sở",
    "abusive": "Nội dung xúc phạm, sai sự thật hoặc spam",
    "already_handled": "Vụ việc đã được xử lý trước đó",
}
URGENCIES = ("urgent", "normal", "complex")


def _text(value: str | None, field: str, what_vi: str, minimum: int = 3) -> str:
    value = (value or "").strip()
    if len(value) < minimum:
        raise ValidationError(
            f"Vui lòng nhập {what_vi}.", f"Please enter the {field}.", field=field
        )
    return value


def _first_response(report: Report) -> None:
    report.first_response_at = report.first_response_at or utcnow()


def accept(user: User, report: Report) -> None:
    """The agency takes the report in hand: assigned/reopened → in_progress."""
    require(user, Action.ACCEPT, report)
    workflow.transition(report, S.IN_PROGRESS, actor=user, note="Đã tiếp nhận xử lý.")
    _first_response(report)
    db.session.commit()


def assign_person(user: User, report: Report, assignee: User) -> None:
    """A lead gives the report to one member of the agency."""
    require(user, Action.ASSIGN_PERSON, report)
    if assignee.agency_id != report.agency_id:
        raise ValidationError(
            "Chỉ giao cho cán bộ của cơ quan đang xử lý.", "Assignee must be in the agency."
        )
    report.assignee = assignee
    workflow.record_event(
        report, "assign_person", actor=user, note=assignee.name, data={"user_id": assignee.id}
    )
    db.session.commit()


def bulk_assign(user: User, reports: list[Report], assignee: User) -> int:
    """Assign several reports at once; returns how many."""
    for report in reports:
        assign_person(user, report, assignee)
    return len(reports)


def reply(user: User, report: Report, text: str) -> None:
    """A public answer to the resident (shown on the tracking page and sent on their channel)."""
    require(user, Action.REPLY, report)
    workflow.record_event(
        report, "reply", actor=user, note=_text(text, "reply", "nội dung trả lời"), public=True
    )
    _first_response(report)
    db.session.commit()


def request_info(user: User, report: Report, question: str) -> None:
    """Ask the resident for more information; the deadline clock pauses until they answer."""
    require(user, Action.REQUEST_INFO, report)
    workflow.record_event(
        report, "info_request", actor=user, note=_text(question, "question", "câu hỏi"), public=True
    )
    report.waiting_since = report.waiting_since or utcnow()
    _first_response(report)
    db.session.commit()


def resume_clock(report: Report, note: str | None = None) -> None:
    """The resident answered: the deadline moves by the working time spent waiting."""
    if report.waiting_since is None:
        return
    now = utcnow()
    cal = deadlines.working_calendar()
    paused = max(cal.working_seconds_between(report.waiting_since, now), 0.0)
    if report.due_at is not None:
        report.due_at = cal.add_working_seconds(report.due_at, paused)
        if report.remind_at is not None and report.reminded_at is None:
            report.remind_at = cal.add_working_seconds(report.remind_at, paused)
    report.waiting_since = None
    workflow.record_event(
        report,
        "info_received",
        actor_label="resident",
        note=note,
        public=True,
        data={"paused_seconds": paused},
    )


def info_received(user: User, report: Report, note: str | None = None) -> None:
    """The resident sent what was asked (by phone, messenger or at the office): clock resumes."""
    require(user, Action.REQUEST_INFO, report)
    if report.waiting_since is None:
        raise ValidationError("Phản ánh không ở trạng thái chờ bổ sung.", "Not waiting for info.")
    resume_clock(report, (note or "").strip() or None)
    db.session.commit()


def resolve(user: User, report: Report, note: str, photo: bytes | None = None) -> None:
    """Resolved with a public note and optionally a result photo (metadata stripped)."""
    require(user, Action.RESOLVE, report)
    note = _text(note, "note", "kết quả xử lý")
    stored = None
    if photo:
        processed = photos.process_photo(photo, "ket-qua.jpg", photo_limits())
        stored = photo_store().store(processed)
        report.photos.append(photo_row(processed, stored.key, len(report.photos), kind="result"))
    try:
        report.public_note = note
        report.waiting_since = None
        workflow.transition(report, S.RESOLVED, actor=user, note=note)
        _first_response(report)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if stored:
            photo_store().delete(stored.key)
        raise


def transfer(user: User, report: Report, to_agency: Agency, reason: str) -> None:
    """Send the report to another agency; it waits for the receiver's (or IOC's) confirmation."""
    require(user, Action.TRANSFER, report)
    if to_agency.id == report.agency_id:
        raise ValidationError("Hãy chọn cơ quan khác.", "Choose another agency.", field="agency")
    workflow.transition(
        report,
        S.TRANSFERRED,
        actor=user,
        note=_text(reason, "reason", "lý do chuyển"),
        public=False,
        data={"from_agency_id": report.agency_id, "to_agency_id": to_agency.id},
    )
    db.session.commit()


def decide_transfer(user: User, report: Report, accept_it: bool, note: str | None = None) -> None:
    """The receiving agency (or the IOC) accepts the transfer, or refuses it back to triage."""
    require(user, Action.CONFIRM_TRANSFER, report)
    last = next(
        e for e in reversed(report.events) if e.kind == "status" and e.to_status == S.TRANSFERRED
    )
    if accept_it:
        agency = db.session.get(Agency, last.data["to_agency_id"])
        report.assignee = None
        routing.assign(report, agency, actor=user, note=note or "Tiếp nhận phản ánh được chuyển.")
    else:
        workflow.transition(
            report,
            S.NEEDS_TRIAGE,
            actor=user,
            note=_text(note, "note", "lý do từ chối"),
            public=False,
            data={"reason": "transfer_refused", "to_agency_id": last.data["to_agency_id"]},
        )
    db.session.commit()


def reject(user: User, report: Report, reason_code: str, note: str | None = None) -> None:
    """Not accepted, with a reason from the list (told to the resident)."""
    require(user, Action.REJECT, report)
    if reason_code not in REJECT_REASONS:
        raise ValidationError("Hãy chọn lý do.", "Choose a reason.", field="reason")
    text = REJECT_REASONS[reason_code] + (f". {note.strip()}" if note and note.strip() else "")
    workflow.transition(report, S.REJECTED, actor=user, note=text, data={"reason": reason_code})
    db.session.commit()


def mark_duplicate(user: User, report: Report, original: Report) -> None:
    """Close as a duplicate; the resident follows the original."""
    require(user, Action.MARK_DUPLICATE, report)
    if original.id == report.id:
        raise ValidationError("Không thể trùng với chính nó.", "A report cannot duplicate itself.")
    report.duplicate_of_id = original.id
    # The resident follows the original from now on and hears its news.
    if report.identity is not None:
        from webapp.services import followers

        followers.follow(
            original,
            report.identity.channel,
            report.identity.external_id,
            report.identity.display_name,
        )
    workflow.transition(
        report,
        S.DUPLICATE,
        actor=user,
        note=f"Trùng với phản ánh {original.code}.",
        data={"original": original.code},
    )
    db.session.commit()


def add_note(user: User, report: Report, text: str) -> None:
    """An internal note that residents never see."""
    require(user, Action.NOTE, report)
    workflow.record_event(report, "note", actor=user, note=_text(text, "note", "ghi chú"))
    db.session.commit()


def change_urgency(user: User, report: Report, urgency: str, reason: str) -> None:
    """Change the handling class (urgent/normal/complex) with a reason; the deadline follows."""
    require(user, Action.CHANGE_URGENCY, report)
    if urgency not in URGENCIES:
        raise ValidationError("Mức độ không hợp lệ.", "Invalid urgency.", field="urgency")
    old = report.urgency
    report.urgency = urgency
    if report.agency_id is not None and report.is_open:
        start = next(
            (e.created_at for e in reversed(report.events) if e.to_status == S.ASSIGNED),
            utcnow(),
        )
        deadlines.set_deadline(report, start)
    workflow.record_event(
        report,
        "urgency",
        actor=user,
        note=_text(reason, "reason", "lý do"),
        data={"from": old, "to": urgency},
    )
    db.session.commit()


def request_extension(user: User, report: Report, days: int, reason: str) -> None:
    """The agency asks the IOC for more time."""
    require(user, Action.REQUEST_EXTENSION, report)
    if not 1 <= days <= 30 or report.due_at is None:
        raise ValidationError("Số ngày gia hạn từ 1 đến 30.", "Extension of 1-30 days.")
    cal = deadlines.working_calendar()
    report.extension_status = "requested"
    report.extension_reason = _text(reason, "reason", "lý do gia hạn")
    report.extension_until = cal.add_working_days(report.due_at, days)
    workflow.record_event(report, "extension_request", actor=user, note=reason, data={"days": days})
    db.session.commit()


def decide_extension(user: User, report: Report, approve: bool, note: str | None = None) -> None:
    """The IOC approves (the deadline moves) or refuses an extension."""
    require(user, Action.DECIDE_EXTENSION, report)
    if report.extension_status != "requested":
        raise ValidationError("Không có yêu cầu gia hạn.", "No extension request.")
    report.extension_status = "approved" if approve else "refused"
    if approve:
        report.due_at = report.extension_until
        report.reminded_at = None
        report.remind_at = None
        if report.escalated_at is not None and report.due_at > utcnow():
            report.escalated_at = None
            report.overdue = False
    workflow.record_event(
        report,
        "extension_decision",
        actor=user,
        note=note,
        data={"approved": approve, "due_at": report.due_at.isoformat() if report.due_at else None},
    )
    db.session.commit()


def triage(user: User, report: Report, category_code: str, agency: Agency | None = None) -> None:
    """The IOC sets category and agency in one step; a changed category feeds the NLU loop."""
    require(user, Action.TRIAGE, report)
    category = db.session.get(Category, category_code)
    if category is None:
        raise ValidationError("Lĩnh vực không hợp lệ.", "Unknown category.", field="category")
    predicted = report.category_code
    if predicted != category.code and report.classified_at is not None:
        workflow.record_event(
            report,
            "category_correction",
            actor=user,
            data={"text": report.description, "predicted": predicted, "corrected": category.code},
        )
    report.category_code = category.code
    report.category = category
    report.urgency = None
    agency = agency or routing.route(category.code, report.unit_code)
    if agency is None:
        raise ValidationError("Hãy chọn cơ quan xử lý.", "Choose an agency.", field="agency")
    if report.status == S.RECEIVED:
        workflow.transition(report, S.CLASSIFIED, actor=user, public=False)
    routing.assign(report, agency, actor=user, note="Điều phối viên phân công.")
    db.session.commit()


def redact_text(user: User, report: Report, new_text: str) -> None:
    """Moderation: replace personal data in the description, in every copy of it.

    The search copy, the events that quoted the text (category corrections feed the NLU
    loop) and the messages still stored in the outbox all lose the old text.
    """
    require(user, Action.MODERATE, report)
    old = report.description
    new = _text(new_text, "description", "nội dung", minimum=5)
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
        raise ValidationError("Ảnh không thuộc phản ánh này.", "Photo not in this report.")
    store = photo_store()
    if action == "blur":
        for variant in ("web", "thumb"):
            path = store.open_public(photo.key, variant)
            path.write_bytes(photos.blur_image(path.read_bytes()))
        photo.blurred = True
    elif action == "hide":
        photo.hidden = True
    else:
        raise ValidationError("Thao tác không hợp lệ.", "Invalid action.")
    workflow.record_event(report, "moderation", actor=user, note=f"Ảnh: {action}")
    db.session.commit()


def lock_resident(user: User, report: Report) -> None:
    """Moderation: lock an abusive sender: the resident, verified contacts and the address."""
    require(user, Action.MODERATE, report)
    if report.resident is None and not report.client_hash:
        raise ValidationError("Phản ánh ẩn danh.", "Anonymous report.")
    blocks.lock_sender(report, user.id)
    workflow.record_event(report, "moderation", actor=user, note="Đã khóa tài khoản người gửi.")
    db.session.commit()


def nearby(report: Report, radius_m: float = 300, days: int = 30, limit: int = 10) -> list[Report]:
    """Open reports close to this one (same H3 neighbourhood, then exact distance)."""
    if report.lat is None:
        return []
    from webapp.services import geo

    since = utcnow() - timedelta(days=days)
    candidates = db.session.scalars(
        select(Report)
        .where(
            Report.id != report.id,
            Report.h3_r6 == report.h3_r6,
            Report.created_at >= since,
            Report.lat.is_not(None),
        )
        .limit(500)
    ).all()
    near = [
        r
        for r in candidates
        if geo.distance_m((report.lat, report.lon), (r.lat, r.lon)) <= radius_m
    ]
    return sorted(near, key=lambda r: geo.distance_m((report.lat, report.lon), (r.lat, r.lon)))[
        :limit
    ]


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


def reply_templates(category_code: str | None) -> list[str]:
    """Reply templates for a category (config/reply_templates.yml), general ones last."""
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[2] / "config" / "reply_templates.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [*data.get(category_code or "", []), *data.get("*", [])]
