"""This month's use of the paid channels to residents against their budgets, for administrators.

The figures come from the outbox: a message counts against its channel's budget once it is
sent (as `fallback.within_budget` counts it); failed and dead rows are those given up or
waiting for another try whose last attempt was this month; "no way left" counts the
residents' messages whose last way ended with `fallback.NO_WAY_LEFT` (the IOC calls back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import OutboxMessage, OutboxStatus
from webapp.models.types import utcnow
from webapp.services.messaging import fallback

CHANNEL_LABELS = {
    "zalo_transaction": _l("Tin giao dịch Zalo OA"),
    "zns": _l("Tin ZNS (Zalo Notification Service)"),
    "sms": _l("Tin nhắn SMS"),
}


@dataclass(frozen=True)
class ChannelBudget:
    """One paid channel this month: its budget (None: unlimited) and what was spent."""

    channel: str
    label: str
    budget: int | None
    sent: int
    failed: int

    @property
    def unlimited(self) -> bool:
        """No figure in MESSAGE_BUDGETS for this channel."""
        return self.budget is None

    @property
    def remaining(self) -> int | None:
        """Messages left this month (never below zero); None when unlimited."""
        return None if self.budget is None else max(self.budget - self.sent, 0)

    @property
    def share_used(self) -> float | None:
        """Sent over budget, from 0 to 1 (a budget of 0 is all used); None when unlimited."""
        if self.budget is None:
            return None
        if self.budget <= 0:
            return 1.0
        return min(self.sent / self.budget, 1.0)

    @property
    def percent_used(self) -> int | None:
        """Sent over budget in whole percent, may pass 100 (two workers at the very end)."""
        if self.budget is None:
            return None
        if self.budget <= 0:
            return 100
        return round(100 * self.sent / self.budget)

    @property
    def exhausted(self) -> bool:
        """Nothing more is sent on this channel this month (as `fallback.within_budget`)."""
        return self.budget is not None and self.sent >= self.budget


@dataclass(frozen=True)
class BudgetSummary:
    """The budget page: each paid channel, and residents' messages that found no way."""

    month_start: datetime
    channels: list[ChannelBudget]
    no_way_left: int
    # Channels named in MESSAGE_BUDGETS that are not paid channels (a typo means unlimited).
    unknown: list[str]

    @property
    def any_exhausted(self) -> bool:
        """Some paid channel has no messages left this month."""
        return any(c.exhausted for c in self.channels)


def failed_this_month(now: datetime | None = None) -> dict[str, int]:
    """Failed or dead rows on each paid channel whose last attempt was this month."""
    rows = db.session.execute(
        select(OutboxMessage.channel, func.count())
        .where(
            OutboxMessage.channel.in_(fallback.PAID_CHANNELS),
            OutboxMessage.status.in_([OutboxStatus.FAILED, OutboxStatus.DEAD]),
            OutboxMessage.updated_at >= fallback.month_start(now),
        )
        .group_by(OutboxMessage.channel)
    )
    return {channel: int(count) for channel, count in rows}


def no_way_left_this_month(now: datetime | None = None) -> int:
    """Residents' messages this month after which no way to the resident was left.

    `fallback.next_way` appends NO_WAY_LEFT (and why each other way was skipped) to the last
    row's error, on any channel, so the error contains it rather than equals it.
    """
    count = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.recipient_kind == "resident",
            OutboxMessage.status != OutboxStatus.SENT,
            OutboxMessage.last_error.contains(fallback.NO_WAY_LEFT, autoescape=True),
            OutboxMessage.updated_at >= fallback.month_start(now),
        )
    )
    return int(count or 0)


def budget_summary(now: datetime | None = None) -> BudgetSummary:
    """Per paid channel: budget, sent and failed this month, remaining, share used, exhausted;
    and the count of residents' messages this month that found no way at all."""
    now = now or utcnow()
    limits = fallback.budgets()
    sent = fallback.used_this_month(now)
    failed = failed_this_month(now)
    channels = [
        ChannelBudget(
            channel=channel,
            label=str(CHANNEL_LABELS.get(channel, channel)),
            budget=limits.get(channel),
            sent=sent.get(channel, 0),
            failed=failed.get(channel, 0),
        )
        for channel in fallback.PAID_CHANNELS
    ]
    return BudgetSummary(
        month_start=fallback.month_start(now),
        channels=channels,
        no_way_left=no_way_left_this_month(now),
        unknown=sorted(set(limits) - set(fallback.PAID_CHANNELS)),
    )
