"""What agency staff and IOC operators do to a report in hand: accept, assign, reply, ask
for information, resolve, transfer, reject, note, triage. Each action checks permission,
goes through the state machine or records an event, and commits.

The other families of staff actions live beside this module: `deadline_changes` (urgency,
extensions), `moderation`, `duplicates` (and nearby reports), `identity_views`,
`reply_templates`.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.infra.storage import photo_store
from webapp.models import Agency, Category, Report, ReportStatus, User
from webapp.models.types import utcnow
from webapp.permissions import Action, require
from webapp.services.casework import action_text, routing, workflow
from webapp.services.intake import photos
from webapp.services.intake.reports import photo_limits, photo_row
from webapp.services.sla import deadlines

S = ReportStatus
REJECT_REASONS = {
    "not_competent": "Không thuộc thẩm quyền giải quyết của cơ quan hành chính",
    "insufficient": "Nội dung không rõ ràng, không đủ thông tin để xử lý",
    "private_dispute": "Tranh chấp dân sự, đề nghị gửi Tòa án hoặc hòa giải cơ sở",
    "abusive": "Nội dung xúc phạm, sai sự thật hoặc spam",
    "already_handled": "Vụ việc đã được xử lý trước đó",
}


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
        raise ValidationError(_l("Chỉ giao cho cán bộ của cơ quan đang xử lý."))
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
        report,
        "reply",
        actor=user,
        note=action_text.required(text, "reply", _l("nội dung trả lời")),
        public=True,
    )
    _first_response(report)
    db.session.commit()


def request_info(user: User, report: Report, question: str) -> None:
    """Ask the resident for more information; the deadline clock pauses until they answer."""
    require(user, Action.REQUEST_INFO, report)
    workflow.record_event(
        report,
        "info_request",
        actor=user,
        note=action_text.required(question, "question", _l("câu hỏi")),
        public=True,
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
        raise ValidationError(_l("Phản ánh không ở trạng thái chờ bổ sung."))
    resume_clock(report, (note or "").strip() or None)
    db.session.commit()


def resolve(user: User, report: Report, note: str, photo: bytes | None = None) -> None:
    """Resolved with a public note and optionally a result photo (metadata stripped)."""
    require(user, Action.RESOLVE, report)
    note = action_text.required(note, "note", _l("kết quả xử lý"))
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
        raise ValidationError(_l("Hãy chọn cơ quan khác."), field="agency")
    workflow.transition(
        report,
        S.TRANSFERRED,
        actor=user,
        note=action_text.required(reason, "reason", _l("lý do chuyển")),
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
    data = last.data or {}  # a transfer's event always names the agency (transfer())
    if accept_it:
        agency = db.session.get(Agency, data["to_agency_id"])
        if agency is None:  # agencies are never deleted
            raise LookupError(f"report {report.id} was transferred to an unknown agency")
        report.assignee = None
        routing.assign(report, agency, actor=user, note=note or "Tiếp nhận phản ánh được chuyển.")
    else:
        workflow.transition(
            report,
            S.NEEDS_TRIAGE,
            actor=user,
            note=action_text.required(note, "note", _l("lý do từ chối")),
            public=False,
            data={"reason": "transfer_refused", "to_agency_id": data["to_agency_id"]},
        )
    db.session.commit()


def reject(user: User, report: Report, reason_code: str, note: str | None = None) -> None:
    """Not accepted, with a reason from the list (told to the resident)."""
    require(user, Action.REJECT, report)
    if reason_code not in REJECT_REASONS:
        raise ValidationError(_l("Hãy chọn lý do."), field="reason")
    text = REJECT_REASONS[reason_code] + (f". {note.strip()}" if note and note.strip() else "")
    workflow.transition(report, S.REJECTED, actor=user, note=text, data={"reason": reason_code})
    db.session.commit()


def add_note(user: User, report: Report, text: str) -> None:
    """An internal note that residents never see."""
    require(user, Action.NOTE, report)
    workflow.record_event(
        report, "note", actor=user, note=action_text.required(text, "note", _l("ghi chú"))
    )
    db.session.commit()


def triage(user: User, report: Report, category_code: str, agency: Agency | None = None) -> None:
    """The IOC sets category and agency in one step; a changed category feeds the NLU loop."""
    require(user, Action.TRIAGE, report)
    category = db.session.get(Category, category_code)
    if category is None:
        raise ValidationError(_l("Lĩnh vực không hợp lệ."), field="category")
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
        raise ValidationError(_l("Hãy chọn cơ quan xử lý."), field="agency")
    if report.status == S.RECEIVED:
        workflow.transition(report, S.CLASSIFIED, actor=user, public=False)
    routing.assign(report, agency, actor=user, note="Điều phối viên phân công.")
    db.session.commit()
