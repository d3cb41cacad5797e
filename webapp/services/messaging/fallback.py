"""The next way to a resident when a channel cannot carry a message.

A status update for a Zalo resident outside the free reply window, or for a resident whose
only contact is a phone, goes down RESIDENT_FALLBACK in order (by default a Zalo transaction
message, then ZNS, then SMS): each way tried is its own outbox row with its own outcome,
keyed `<first key>><channel>` so it happens once. Phone channels need a verified phone; a
paid channel stops at its monthly budget (MESSAGE_BUDGETS). When no way is left, the last row
says so and the report page shows that nobody could be reached (the IOC calls back).
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from config.settings import TIMEZONE
from webapp.extensions import db
from webapp.models import OutboxMessage, OutboxStatus, Report
from webapp.models.types import utcnow
from webapp.services.intake import serializers

PHONE_CHANNELS = ("zns", "sms")
PAID_CHANNELS = ("zalo_transaction", "zns", "sms")
NO_WAY_LEFT = "no way left to reach the resident"


def chain() -> list[str]:
    """RESIDENT_FALLBACK as a list of channels."""
    return [c.strip() for c in current_app.config["RESIDENT_FALLBACK"].split(",") if c.strip()]


def budgets() -> dict[str, int]:
    """Messages a month per paid channel (MESSAGE_BUDGETS); a channel absent is unlimited."""
    found: dict[str, int] = {}
    for item in current_app.config["MESSAGE_BUDGETS"].split(","):
        channel, _, figure = item.partition("=")
        if figure.strip().isdigit():
            found[channel.strip()] = int(figure)
    return found


def month_start(now: datetime | None = None) -> datetime:
    """The first moment of this month in the province's time zone."""
    local = (now or utcnow()).astimezone(ZoneInfo(TIMEZONE))
    return datetime.combine(local.date().replace(day=1), time(0), tzinfo=local.tzinfo)


def used_this_month(now: datetime | None = None) -> dict[str, int]:
    """Messages sent this month on each paid channel."""
    rows = db.session.execute(
        select(OutboxMessage.channel, func.count())
        .where(
            OutboxMessage.channel.in_(PAID_CHANNELS),
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at >= month_start(now),
        )
        .group_by(OutboxMessage.channel)
    )
    return {channel: int(count) for channel, count in rows}


def within_budget(channel: str) -> bool:
    """True while the channel has messages left this month (checked when a row is written
    and again before it is sent; two workers at the very end may overshoot by one each)."""
    if channel not in PAID_CHANNELS:
        return True
    limit = budgets().get(channel)
    return limit is None or used_this_month().get(channel, 0) < limit


def template_data(report: Report) -> dict[str, str]:
    """The parameters of a ZNS template about a report: its code, status and page."""
    return {
        "code": report.code or "",
        "status": str(report.status),
        "url": serializers.public_url(report),
    }


def phone_address(report: Report | None) -> str | None:
    """The resident's phone, once verified (a typed number is only a claim until then)."""
    resident = report.resident if report is not None else None
    if resident is None or not resident.phone or resident.phone_verified_at is None:
        return None
    return resident.phone


def first_phone_channel() -> str | None:
    """The first phone channel of the chain (for residents whose only contact is a phone)."""
    return next((c for c in chain() if c in PHONE_CHANNELS), None)


def _address(channel: str, message: OutboxMessage, report: Report | None) -> str | None:
    if channel == "zalo_transaction":
        return message.address if message.channel == "zalo" else None
    if channel in PHONE_CHANNELS:
        return phone_address(report)
    return None


def next_way(message: OutboxMessage) -> dict | None:
    """The outbox row (add_message's arguments) for the next way to this message's
    resident; None, and the message says so, when none is left. Only residents' messages
    about a report go on."""
    if message.recipient_kind != "resident" or message.report_id is None:
        return None
    report = db.session.get(Report, message.report_id)
    payload = dict(message.payload or {})
    tried = [*payload.get("tried", []), message.channel]
    first_key = message.dedupe_key.split(">", 1)[0]
    skipped = []
    for channel in chain():
        if channel in tried:
            continue
        address = _address(channel, message, report)
        if address is None:
            skipped.append(f"{channel}: no address")
            continue
        if not within_budget(channel):
            skipped.append(f"{channel}: monthly budget spent")
            continue
        return {
            "dedupe_key": f"{first_key}>{channel}",
            "recipient_kind": "resident",
            "channel": channel,
            "address": address,
            "report_id": message.report_id,
            "subject": message.subject,
            "body": message.body,
            "payload": {**payload, "tried": tried},
        }
    note = "; ".join([NO_WAY_LEFT, *skipped])
    message.last_error = f"{message.last_error or ''} | {note}"[:2000]
    return None


def deliveries(report_id: int) -> tuple[list[OutboxMessage], bool]:
    """Every message to the report's residents, oldest first, and whether some update found
    no way to them (the IOC then calls the resident back)."""
    rows = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.report_id == report_id, OutboxMessage.recipient_kind == "resident")
            .order_by(OutboxMessage.id)
        )
    )
    groups: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault(row.dedupe_key.split(">", 1)[0], []).append(row)
    unreachable = any(
        all(m.status != OutboxStatus.SENT for m in group)
        and NO_WAY_LEFT in (group[-1].last_error or "")
        for group in groups.values()
    )
    return rows, unreachable
