"""What agency staff and IOC operators do to a report. Each action checks permission,
goes through the state machine or records an event, and commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from config.settings import ROOT
from webapp.errors import NotFound, PermissionDenied, ValidationError
from webapp.extensions import db
from webapp.models import (
    Agency,
    Category,
    OutboxMessage,
    Photo,
    Report,
    ReportEvent,
    ReportStatus,
    Resident,
    Role,
    User,
)
from webapp.models.audit import IdentityView
from webapp.models.types import utcnow
from webapp.permissions import Action, can_see, require
from webapp.services.casework import routing, workflow
from webapp.services.intake import blocks, photos, reports
from webapp.services.intake.reports import photo_limits, photo_row, photo_store
from webapp.services.sla import calendar, deadlines

S = ReportStatus
REJECT_REASONS = {
    "not_competent": "Không thuộc thẩm quyền giải quyết của cơ quan hành chính",
    "insufficient": "Nội dung không rõ ràng, không đủ thông tin để xử lý",
    "private_dispute": "Tranh chấp dân sự, đề nghị gửi Tòa án hoặc hòa giải cơ sở",
    "abusive": "Nội dung xúc phạm, sai sự thật hoặc spam",
    "already_handled": "Vụ việc đã được xử lý trước đó",
}
URGENCIES = ("urgent", "normal", "complex")
MAX_EXTENSION_DAYS = 30  # working days one request may ask for (params.MAX_EXTENSION_DAYS)
# Where the agency holds the report and its clock runs: the only time more time makes sense.
EXTENDABLE = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.REOPENED})


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


def find_original(user: User, code: str) -> Report:
    """The report a duplicate would point to, by its code, among those the user may see.

    An unknown code and a report the user may not see get the same answer: the form must not
    tell an agency which codes exist elsewhere.
    """
    try:
        original = reports.get_by_code(code)
    except NotFound:
        original = None
    if original is None or not can_see(user, original):
        raise _no_original()
    return original


def _no_original() -> ValidationError:
    return ValidationError(
        "Không tìm thấy phản ánh gốc có mã này.",
        "No original report with this code.",
        field="original",
    )


def _duplicate_root(original: Report) -> tuple[Report, set[int]]:
    """Follow the chain of reports closed as duplicates to the one still standing."""
    node, chain = original, {original.id}
    while node.status == S.DUPLICATE and node.duplicate_of_id is not None:
        node = db.session.get(Report, node.duplicate_of_id)
        if node is None or node.id in chain:
            raise ValidationError(
                "Chuỗi phản ánh trùng bị vòng lặp.", "The duplicate chain loops.", field="original"
            )
        chain.add(node.id)
    return node, chain


def mark_duplicate(user: User, report: Report, original: Report) -> None:
    """Close as a duplicate; the resident follows the original.

    The original must be visible to the user and, for an agency, its own agency's report
    (across agencies only the IOC decides); a report closed as a duplicate stands for the
    report it points to, and a chain may never come back to this report.
    """
    require(user, Action.MARK_DUPLICATE, report)
    if original.id == report.id:
        raise ValidationError("Không thể trùng với chính nó.", "A report cannot duplicate itself.")
    root, chain = _duplicate_root(original)
    if report.id in chain:
        raise ValidationError(
            "Phản ánh gốc đã được đánh dấu trùng với phản ánh này.",
            "The original is itself closed as a duplicate of this report.",
            field="original",
        )
    for target in {original, root}:
        if not can_see(user, target):
            raise _no_original()
        if target.agency_id != report.agency_id and not user.role_enum.is_ioc:
            raise ValidationError(
                "Chỉ IOC mới đánh dấu trùng với phản ánh của cơ quan khác.",
                "Only the IOC marks a report as a duplicate of another agency's report.",
                field="original",
            )
    original = root
    report.duplicate_of_id = original.id
    # The resident follows the original from now on and hears its news.
    if report.identity is not None:
        from webapp.services.intake import followers

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


def _assigned_at(report: Report) -> datetime:
    """When the agency holding the report received it (its deadline counts from then)."""
    return next(
        (
            e.created_at
            for e in reversed(report.events)
            if e.kind == "status" and e.to_status == S.ASSIGNED
        ),
        utcnow(),
    )


def _reclassified_due(report: Report, old: str | None, new: str) -> datetime | None:
    """The deadline under the new urgency, keeping the time already granted.

    The SLA of the new class counts from the assignment, as the first deadline did; the
    working time added to the old deadline since (the clock paused for the resident's
    answer, an approved extension) is added to the new one.
    """
    category = report.category or (
        db.session.get(Category, report.category_code) if report.category_code else None
    )
    if category is None:
        return None
    cal = deadlines.working_calendar()
    start = _assigned_at(report)
    new_sla = calendar.due_at(category, new, start, cal)
    if report.due_at is None:
        return new_sla
    granted = cal.working_seconds_between(calendar.due_at(category, old, start, cal), report.due_at)
    return cal.add_working_seconds(new_sla, granted) if granted > 0 else new_sla


def change_urgency(user: User, report: Report, urgency: str, reason: str) -> None:
    """The IOC reclassifies the report (urgent/normal/complex) with a reason.

    The deadline follows the new class, but the past stays: the overdue and escalation
    stamps are never cleared, and a report already past its deadline keeps that deadline
    when the new class would give a later one (it stays on the overdue list; more time for
    a late report is an extension, asked by the agency, decided by the IOC and counted as
    such). An earlier deadline always applies.
    """
    require(user, Action.CHANGE_URGENCY, report)
    if urgency not in URGENCIES:
        raise ValidationError("Mức độ không hợp lệ.", "Invalid urgency.", field="urgency")
    if urgency == report.urgency:
        raise ValidationError(
            "Mức độ không thay đổi.", "The urgency is unchanged.", field="urgency"
        )
    note = _text(reason, "reason", "lý do")
    now = utcnow()
    old, old_due = report.urgency, report.due_at
    was_overdue = (
        report.overdue
        or report.escalated_at is not None
        or (old_due is not None and old_due <= now)
    )
    kept = False
    if report.agency_id is not None and report.is_open:
        new_due = _reclassified_due(report, old, urgency)
        if was_overdue and old_due is not None and (new_due is None or new_due > old_due):
            kept = True
        elif new_due is not None:
            report.due_at = new_due
            report.original_due_at = report.original_due_at or new_due
            if report.reminded_at is None:
                cal = deadlines.working_calendar()
                start = _assigned_at(report)
                total = max(cal.working_seconds_between(start, new_due), 0.0)
                share = current_app.config["REMINDER_AT_FRACTION"]
                report.remind_at = cal.add_working_seconds(start, total * share)
    report.urgency = urgency
    workflow.record_event(
        report,
        "urgency",
        actor=user,
        note=note,
        data={
            "from": old,
            "to": urgency,
            "due_before": _iso(old_due),
            "due_after": _iso(report.due_at),
            "was_overdue": was_overdue,
            "deadline_kept": kept,
        },
    )
    db.session.commit()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _open_extension_request(report: Report) -> ReportEvent | None:
    """The event of the extension request waiting for a decision, if any."""
    if report.extension_status != "requested":
        return None
    return next((e for e in reversed(report.events) if e.kind == "extension_request"), None)


def request_extension(user: User, report: Report, days: int, reason: str) -> None:
    """The agency asks the IOC for more working days; nothing moves until the IOC decides.

    One request at a time (a waiting request cannot be replaced under the IOC's eyes), of
    1 to MAX_EXTENSION_DAYS working days, while the agency holds the report.
    """
    require(user, Action.REQUEST_EXTENSION, report)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValidationError(
            f"Số ngày gia hạn từ 1 đến {MAX_EXTENSION_DAYS} ngày làm việc.",
            f"An extension is 1 to {MAX_EXTENSION_DAYS} working days.",
            field="days",
        )
    if report.extension_status == "requested":
        raise ValidationError(
            "Đã có một yêu cầu gia hạn đang chờ IOC quyết định.",
            "An extension request is already waiting for the IOC's decision.",
        )
    if report.due_at is None or report.status not in EXTENDABLE:
        raise ValidationError(
            "Chỉ xin gia hạn khi phản ánh đang được xử lý và có hạn xử lý.",
            "An extension can only be asked for a report in hand with a deadline.",
        )
    reason = _text(reason, "reason", "lý do gia hạn")
    cal = deadlines.working_calendar()
    report.extension_status = "requested"
    report.extension_reason = reason
    # What the IOC is asked to approve (shown to it); due_at moves only on its decision.
    report.extension_until = cal.add_working_days(report.due_at, days)
    workflow.record_event(
        report,
        "extension_request",
        actor=user,
        note=reason,
        data={"days": days, "due_at": _iso(report.due_at), "until": _iso(report.extension_until)},
    )
    db.session.commit()


def decide_extension(user: User, report: Report, approve: bool, note: str | None = None) -> None:
    """The IOC approves (the deadline moves) or refuses an extension; never its requester.

    The approved days count from the deadline as it is at the decision (it may have moved
    since the request, e.g. while waiting for the resident). The report keeps its overdue
    mark; only the sweep's escalation stamp is reset, so a new deadline missed is escalated
    again (the escalation event stays in the history).
    """
    require(user, Action.DECIDE_EXTENSION, report)
    request = _open_extension_request(report)
    if report.extension_status != "requested":
        raise ValidationError("Không có yêu cầu gia hạn.", "No extension request.")
    if request is not None and request.actor_id == user.id:
        raise PermissionDenied(
            "Người xin gia hạn không thể tự quyết định yêu cầu của mình.",
            "The requester of an extension cannot decide on it.",
        )
    report.extension_status = "approved" if approve else "refused"
    data: dict[str, Any] = {"approved": approve}
    if approve:
        days = (request.data or {}).get("days") if request is not None else None
        if isinstance(days, int) and report.due_at is not None:
            report.extension_until = deadlines.working_calendar().add_working_days(
                report.due_at, days
            )
        report.original_due_at = report.original_due_at or report.due_at
        data["due_before"] = _iso(report.due_at)
        report.due_at = report.extension_until or report.due_at
        report.reminded_at = None
        report.remind_at = None
        if report.escalated_at is not None and report.due_at and report.due_at > utcnow():
            data["escalated_at"] = _iso(report.escalated_at)
            report.escalated_at = None
    data["due_at"] = _iso(report.due_at)
    workflow.record_event(report, "extension_decision", actor=user, note=note, data=data)
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


def _near(report: Report, radius_m: float, days: int) -> list[Report]:
    """Reports close to this one (same H3 neighbourhood, then exact distance), nearest first."""
    if report.lat is None:
        return []
    from webapp.services.geography import geo

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
    distance = {r.id: geo.distance_m((report.lat, report.lon), (r.lat, r.lon)) for r in candidates}
    return sorted(
        (r for r in candidates if distance[r.id] <= radius_m), key=lambda r: distance[r.id]
    )


@dataclass(frozen=True)
class Nearby:
    """What a user may be shown of the reports near one report."""

    reports: list[Report]  # those the user may see: code, text, status
    others: int  # those of other agencies: a count only


def nearby_for(
    user: User, report: Report, radius_m: float = 300, days: int = 30, limit: int = 10
) -> Nearby:
    """Nearby reports the user may see, and how many others (other agencies') are near.

    An agency learns that other agencies have reports close by, never their code, text or
    status; IOC roles see them all.
    """
    near = _near(report, radius_m, days)
    visible = [r for r in near if can_see(user, r)]
    return Nearby(visible[:limit], len(near) - len(visible))


@dataclass(frozen=True)
class IdentityCard:
    """The resident's identity as shown to the IOC on a report."""

    name: str | None
    phone: str | None
    phone_verified: bool
    email: str | None
    email_confirmed: bool
    channel: str | None
    external_id: str | None
    locked: bool

    @property
    def fields(self) -> list[str]:
        """Which kinds of personal data the card shows."""
        shown = (
            ("name", self.name),
            ("phone", self.phone),
            ("email", self.email),
            ("messenger", self.external_id),
        )
        return [kind for kind, value in shown if value]


def identity_card(user: User, report: Report, context: str = "report_page") -> IdentityCard | None:
    """The resident's identity for a user allowed to see it; every look is recorded.

    Returns None for an anonymous report. The record (who, when, which report and resident,
    which fields) is committed before the identity is handed out.
    """
    require(user, Action.VIEW_IDENTITY, report)
    resident, identity = report.resident, report.identity
    if resident is None and identity is None:
        return None
    card = IdentityCard(
        name=(resident.display_name if resident else None)
        or (identity.display_name if identity else None),
        phone=resident.phone if resident else None,
        phone_verified=bool(resident and resident.phone_verified_at),
        email=resident.email if resident else None,
        email_confirmed=bool(resident and resident.email_confirmed_at),
        channel=identity.channel if identity else None,
        external_id=identity.external_id if identity else None,
        locked=bool(resident and resident.locked),
    )
    if card.fields:
        db.session.add(
            IdentityView(
                user_id=user.id,
                report_id=report.id,
                report_code=report.code,
                resident_id=resident.id if resident else None,
                context=context,
                fields=card.fields,
            )
        )
        db.session.commit()
    return card


@dataclass
class IdentityViewFilter:
    """The filters of the identity-view log: whose looks, and from/to which local day."""

    user_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


def identity_view_log(viewer: User, f: IdentityViewFilter, page: int = 1, per_page: int = 50):
    """One page of the identity-view log, newest first; for administrators only."""
    from webapp.services.ioc import queries

    if viewer.role_enum is not Role.ADMIN:
        raise PermissionDenied("Chỉ dành cho quản trị viên.", "Administrators only.")
    stmt = select(IdentityView)
    if f.user_id:
        stmt = stmt.where(IdentityView.user_id == f.user_id)
    if f.date_from:
        start = datetime.combine(f.date_from, time(), queries.LOCAL_TZ)
        stmt = stmt.where(IdentityView.created_at >= start)
    if f.date_to:
        end = datetime.combine(f.date_to + timedelta(days=1), time(), queries.LOCAL_TZ)
        stmt = stmt.where(IdentityView.created_at < end)
    stmt = stmt.order_by(IdentityView.created_at.desc(), IdentityView.id.desc())
    return queries.paginate(stmt, page, per_page)


def identity_viewers() -> list[User]:
    """Accounts that may see identities (the IOC roles), for the log's filter."""
    roles = [r.value for r in Role if r.is_ioc]
    return list(db.session.scalars(select(User).where(User.role.in_(roles)).order_by(User.name)))


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

    import yaml

    path = ROOT / "config" / "reply_templates.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [*data.get(category_code or "", []), *data.get("*", [])]
