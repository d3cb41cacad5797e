"""What residents and agencies are told, and on which channel; written to the outbox.

Events are collected as they are written and turned into outbox rows just before the
transaction commits, when the report has its code and every id is known; `init_app` installs
the hooks that do it.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from config.settings import VN_TZ
from webapp.infra import i18n
from webapp.models import Report, ReportEvent
from webapp.services.casework import workflow
from webapp.services.intake import followers, serializers
from webapp.services.messaging import conversations, fallback, outbox
from webapp.services.partners import delivery

LOCAL_TZ = VN_TZ
RESIDENT_STATUSES = frozenset({"received", "assigned", "resolved", "rejected", "duplicate"})
RESIDENT_KINDS = frozenset({"reply", "info_request"})
MESSENGERS = frozenset({"telegram", "zalo"})
# Agencies are written to in Vietnamese; residents in the language they filed in.
AGENCY_LANGUAGE = "vi"
RATING_PROMPT = _l(
    "Bạn đánh giá kết quả xử lý thế nào? (1 sao: rất không hài lòng, 5 sao: rất hài lòng)"
)


def _when(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y") if value else ""


def resident_route(report: Report) -> tuple[str, str | None]:
    """The channel and address that reach the resident who sent the report."""
    identity = report.identity
    if identity is not None and identity.channel in ("telegram", "zalo", "email"):
        return identity.channel, identity.external_id
    resident = report.resident
    if resident is not None and resident.email and resident.email_confirmed_at is not None:
        return "email", resident.email
    phone, channel = fallback.phone_address(report), fallback.first_phone_channel()
    if phone is not None and channel is not None:
        return channel, phone
    return "tracking", None


def resident_text(
    report: Report, event: ReportEvent, url: str | None = None, language: str | None = None
) -> str | None:
    """The message for the resident about this event, or None when there is nothing to say.

    The author's link carries the secret token; followers get the public page (`url`).
    Written in `language`, by default the one the report was filed in.
    """
    with force_locale(i18n.normalise(language or report.language)):
        return _resident_text(report, event, url or serializers.tracking_url(report))


def _resident_text(report: Report, event: ReportEvent, url: str) -> str | None:
    code = report.code
    if event.kind == "status":
        status = event.to_status
        if status == "received":
            return _(
                "Phản ánh của bạn đã được tiếp nhận. Mã phản ánh: %(code)s.\n"
                "Theo dõi kết quả xử lý tại: %(url)s",
                code=code,
                url=url,
            )
        if status == "assigned" and report.agency is not None:
            if report.due_at:
                return _(
                    "Phản ánh %(code)s đã được chuyển đến %(agency)s, hạn xử lý %(due)s.\n%(url)s",
                    code=code,
                    agency=report.agency.name,
                    due=_when(report.due_at),
                    url=url,
                )
            return _(
                "Phản ánh %(code)s đã được chuyển đến %(agency)s.\n%(url)s",
                code=code,
                agency=report.agency.name,
                url=url,
            )
        if status == "resolved":
            note = (
                "\n" + _("Kết quả: %(note)s", note=report.public_note) if report.public_note else ""
            )
            return _(
                "Phản ánh %(code)s đã được xử lý xong.%(note)s\n"
                "Bạn có hài lòng với kết quả không? Xem và đánh giá tại: %(url)s",
                code=code,
                note=note,
                url=url,
            )
        if status == "rejected":
            return _(
                "Phản ánh %(code)s không được tiếp nhận. Lý do: %(reason)s.\n%(url)s",
                code=code,
                reason=event.note or _("không nêu"),
                url=url,
            )
        if status == "duplicate":
            return _(
                "Phản ánh %(code)s trùng với một phản ánh đang được xử lý; "
                "bạn sẽ được thông báo theo phản ánh đó.\n%(url)s",
                code=code,
                url=url,
            )
        return None
    if event.kind == "reply" and event.public:
        agency = report.agency.name if report.agency else _("Cơ quan xử lý")
        return _(
            "%(agency)s trả lời phản ánh %(code)s:\n%(note)s\n%(url)s",
            agency=agency,
            code=code,
            note=event.note,
            url=url,
        )
    if event.kind == "info_request":
        return _(
            "Cơ quan xử lý cần thêm thông tin về phản ánh %(code)s:\n%(note)s\n%(url)s",
            code=code,
            note=event.note,
            url=url,
        )
    return None


def _agency_messages(report: Report, event: ReportEvent, new: bool = False) -> None:
    if report.agency is not None and delivery.write_messages(report, event, report.agency):
        return  # the agency works in its own system
    if event.kind == "status" and event.to_status == "assigned" and report.agency is not None:
        agency = report.agency
        with force_locale(AGENCY_LANGUAGE):
            category = report.category.label(AGENCY_LANGUAGE) if report.category else None
            category = category or report.category_code or ""
            subject = _(
                "[%(code)s] Phản ánh mới: %(category)s", code=report.code, category=category
            )
            body = _(
                "%(agency)s nhận phản ánh %(code)s (%(category)s).\n"
                "Địa bàn: %(unit)s\n"
                "Hạn xử lý: %(due)s\n\n%(description)s",
                agency=agency.name,
                code=report.code,
                category=category,
                unit=report.unit.full_name if report.unit else _("chưa xác định"),
                due=_when(report.due_at),
                description=report.description,
            )
        outbox.add_message(
            dedupe_key=f"evt:{event.id}:agency",
            recipient_kind="agency",
            channel="email",
            address=agency.email,
            report_id=report.id,
            subject=subject,
            body=body,
            key_is_new=new,
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


def build_messages(report: Report, event: ReportEvent, *, new: bool = False) -> None:
    """Write the outbox rows this event calls for.

    `new`: the event was written in this transaction, so no stored message is keyed on it
    (the outbox skips its lookups).
    """
    is_resident_event = (event.kind == "status" and event.to_status in RESIDENT_STATUSES) or (
        event.kind in RESIDENT_KINDS
    )
    if is_resident_event:
        _author_message(report, event, new)
        # "received" is written with the report itself: nobody can follow it yet.
        if not (event.kind == "status" and event.to_status == "received"):
            _follower_messages(report, event)
    _agency_messages(report, event, new)


def _author_message(report: Report, event: ReportEvent, new: bool = False) -> None:
    text = resident_text(report, event)
    if not text:
        return
    channel, address = resident_route(report)
    resolved = event.kind == "status" and event.to_status == "resolved"
    payload = _payload(report, event, resolved)
    if resolved and channel in MESSENGERS:
        payload["buttons"] = rating_buttons(report)
        payload["buttons_prompt"] = i18n.in_language(RATING_PROMPT, report.language)
    outbox.add_message(
        dedupe_key=f"evt:{event.id}:resident",
        recipient_kind="resident",
        channel=channel,
        address=address,
        report_id=report.id,
        subject=_subject(report, report.language),
        body=text,
        payload=payload,
        key_is_new=new,
    )


def _follower_messages(report: Report, event: ReportEvent) -> None:
    """Residents who follow the report get the same news (the rating is the author's)."""
    resolved = event.kind == "status" and event.to_status == "resolved"
    for identity in followers.follower_identities(report):
        language = conversations.language(identity.channel, identity.external_id)
        text = resident_text(report, event, serializers.public_url(report), language)
        if not text:
            return
        with force_locale(language):
            body = _("Cập nhật phản ánh bạn đang theo dõi:\n%(text)s", text=text)
        outbox.add_message(
            dedupe_key=f"evt:{event.id}:follower:{identity.id}",
            recipient_kind="resident",
            channel=identity.channel,
            address=identity.external_id,
            report_id=report.id,
            subject=_subject(report, language),
            body=body,
            payload=_payload(report, event, resolved),
        )


def _payload(report: Report, event: ReportEvent, resolved: bool) -> dict:
    payload: dict = {"event_id": event.id, "kind": event.kind, "status": event.to_status}
    photo_key = result_photo_key(report) if resolved else None
    if photo_key:
        payload["photo_key"] = photo_key
    return payload


def _subject(report: Report, language: str) -> str:
    with force_locale(i18n.normalise(language)):
        return _("Phản ánh %(code)s", code=report.code)


def _collect(report: Report, event: ReportEvent) -> None:
    from webapp.extensions import db

    db.session.info.setdefault("notify", []).append((report, event))


def _write_messages(session: Session) -> None:
    pending = session.info.pop("notify", None)
    if not pending:
        return
    session.flush()  # event ids for the dedupe keys
    for report, event in pending:
        build_messages(report, event, new=True)  # collected as they were written


def _forget(session: Session) -> None:
    session.info.pop("notify", None)


_SESSION_HOOKS = (("before_commit", _write_messages), ("after_rollback", _forget))


def init_app(app: Flask) -> None:
    """Turn every workflow event into its messages when the transaction commits (once)."""
    workflow.on_transition(_collect)
    for name, hook in _SESSION_HOOKS:
        if not sa_event.contains(Session, name, hook):
            sa_event.listen(Session, name, hook)
