"""What residents and agencies are told, and on which channel; written to the outbox.

Events are collected as they are written and turned into outbox rows just before the
transaction commits, when the report has its code and every id is known; `init_app` installs
the hooks that do it.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from config.settings import VN_TZ
from webapp.models import Report, ReportEvent
from webapp.services.casework import workflow
from webapp.services.intake import followers, serializers
from webapp.services.messaging import outbox

LOCAL_TZ = VN_TZ
RESIDENT_STATUSES = frozenset({"received", "assigned", "resolved", "rejected", "duplicate"})
RESIDENT_KINDS = frozenset({"reply", "info_request"})
MESSENGERS = frozenset({"telegram", "zalo"})
RATING_PROMPT = (
    "Bạn đánh giá kết quả xử lý thế nào? (1 sao: rất không hài lòng, 5 sao: rất hài lòng)"
)


def _when(value) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y") if value else ""


def resident_route(report: Report) -> tuple[str, str | None]:
    """The channel and address that reach the resident who sent the report."""
    identity = report.identity
    if identity is not None and identity.channel in ("telegram", "zalo", "email"):
        return identity.channel, identity.external_id
    resident = report.resident
    if resident is not None and resident.email and resident.email_confirmed_at is not None:
        return "email", resident.email
    return "tracking", None


def resident_text(report: Report, event: ReportEvent, url: str | None = None) -> str | None:
    """The message for the resident about this event, or None when there is nothing to say.

    The author's link carries the secret token; followers get the public page (`url`).
    """
    code, url = report.code, url or serializers.tracking_url(report)
    if event.kind == "status":
        status = event.to_status
        if status == "received":
            return (
                f"Phản ánh của bạn đã được tiếp nhận. Mã phản ánh: {code}.\n"
                f"Theo dõi kết quả xử lý tại: {url}"
            )
        if status == "assigned" and report.agency is not None:
            due = f", hạn xử lý {_when(report.due_at)}" if report.due_at else ""
            return f"Phản ánh {code} đã được chuyển đến {report.agency.name}{due}.\n{url}"
        if status == "resolved":
            note = f"\nKết quả: {report.public_note}" if report.public_note else ""
            return (
                f"Phản ánh {code} đã được xử lý xong.{note}\n"
                f"Bạn có hài lòng với kết quả không? Xem và đánh giá tại: {url}"
            )
        if status == "rejected":
            return (
                f"Phản ánh {code} không được tiếp nhận. Lý do: {event.note or 'không nêu'}.\n{url}"
            )
        if status == "duplicate":
            return (
                f"Phản ánh {code} trùng với một phản ánh đang được xử lý; "
                f"bạn sẽ được thông báo theo phản ánh đó.\n{url}"
            )
        return None
    if event.kind == "reply" and event.public:
        agency = report.agency.name if report.agency else "Cơ quan xử lý"
        return f"{agency} trả lời phản ánh {code}:\n{event.note}\n{url}"
    if event.kind == "info_request":
        return f"Cơ quan xử lý cần thêm thông tin về phản ánh {code}:\n{event.note}\n{url}"
    return None


def _agency_messages(report: Report, event: ReportEvent) -> None:
    if event.kind == "status" and event.to_status == "assigned" and report.agency is not None:
        agency = report.agency
        category = report.category.name_vi if report.category else report.category_code
        outbox.add_message(
            dedupe_key=f"evt:{event.id}:agency",
            recipient_kind="agency",
            channel="email",
            address=agency.email,
            report_id=report.id,
            subject=f"[{report.code}] Phản ánh mới: {category}",
            body=(
                f"{agency.name} nhận phản ánh {report.code} ({category}).\n"
                f"Địa bàn: {report.unit.full_name if report.unit else 'chưa xác định'}\n"
                f"Hạn xử lý: {_when(report.due_at)}\n\n{report.description}"
            ),
        )


def result_photo_key(report: Report) -> str | None:
    """The latest public photo of the result, if the agency attached one."""
    results = [p for p in report.public_photos if p.kind == "result"]
    return results[-1].key if results else None


def rating_buttons(report: Report) -> list[list[dict[str, str]]]:
    """Buttons 1–5 under the "resolved" message; the bot's dialog handles the press."""
    return [
        [{"label": f"{n} ⭐", "payload": f"rate:{report.code}:{n}"} for n in range(1, 6)],
    ]


def build_messages(report: Report, event: ReportEvent) -> None:
    """Write the outbox rows this event calls for."""
    is_resident_event = (event.kind == "status" and event.to_status in RESIDENT_STATUSES) or (
        event.kind in RESIDENT_KINDS
    )
    if is_resident_event:
        text = resident_text(report, event)
        if text:
            channel, address = resident_route(report)
            payload = {"event_id": event.id, "kind": event.kind, "status": event.to_status}
            resolved = event.kind == "status" and event.to_status == "resolved"
            photo_key = result_photo_key(report) if resolved else None
            if photo_key:
                payload["photo_key"] = photo_key
            author_payload = dict(payload)
            if resolved and channel in MESSENGERS:
                author_payload["buttons"] = rating_buttons(report)
                author_payload["buttons_prompt"] = RATING_PROMPT
            outbox.add_message(
                dedupe_key=f"evt:{event.id}:resident",
                recipient_kind="resident",
                channel=channel,
                address=address,
                report_id=report.id,
                subject=f"Phản ánh {report.code}",
                body=text,
                payload=author_payload,
            )
            # Residents who follow the report get the same news (the rating is the author's).
            public_text = resident_text(report, event, serializers.public_url(report))
            for identity in followers.follower_identities(report):
                outbox.add_message(
                    dedupe_key=f"evt:{event.id}:follower:{identity.id}",
                    recipient_kind="resident",
                    channel=identity.channel,
                    address=identity.external_id,
                    report_id=report.id,
                    subject=f"Phản ánh {report.code}",
                    body=f"Cập nhật phản ánh bạn đang theo dõi:\n{public_text}",
                    payload=payload,
                )
    _agency_messages(report, event)


def _collect(report: Report, event: ReportEvent) -> None:
    from webapp.extensions import db

    db.session.info.setdefault("notify", []).append((report, event))


def _write_messages(session: Session) -> None:
    pending = session.info.pop("notify", None)
    if not pending:
        return
    session.flush()  # event ids for the dedupe keys
    for report, event in pending:
        build_messages(report, event)


def _forget(session: Session) -> None:
    session.info.pop("notify", None)


_SESSION_HOOKS = (("before_commit", _write_messages), ("after_rollback", _forget))


def init_app(app: Flask) -> None:
    """Turn every workflow event into its messages when the transaction commits (once)."""
    workflow.on_transition(_collect)
    for name, hook in _SESSION_HOOKS:
        if not sa_event.contains(Session, name, hook):
            sa_event.listen(Session, name, hook)
