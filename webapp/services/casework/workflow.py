"""The one state machine: every status change of a report goes through `transition`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from webapp.errors import IllegalTransition
from webapp.extensions import db
from webapp.infra import bulk
from webapp.models import Report, ReportEvent, ReportStatus, User
from webapp.models.types import utcnow

S = ReportStatus

ALLOWED: dict[ReportStatus | None, frozenset[ReportStatus]] = {
    None: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.CLASSIFIED, S.ASSIGNED, S.NEEDS_TRIAGE, S.REJECTED, S.DUPLICATE}),
    S.CLASSIFIED: frozenset({S.ASSIGNED, S.NEEDS_TRIAGE, S.REJECTED, S.DUPLICATE}),
    S.NEEDS_TRIAGE: frozenset({S.CLASSIFIED, S.ASSIGNED, S.REJECTED, S.DUPLICATE}),
    S.ASSIGNED: frozenset(
        {S.IN_PROGRESS, S.TRANSFERRED, S.RESOLVED, S.REJECTED, S.DUPLICATE, S.NEEDS_TRIAGE}
    ),
    S.IN_PROGRESS: frozenset({S.TRANSFERRED, S.RESOLVED, S.REJECTED, S.DUPLICATE}),
    # A transfer is confirmed (assigned to the new agency) or refused (back to triage).
    S.TRANSFERRED: frozenset({S.ASSIGNED, S.NEEDS_TRIAGE}),
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.TRANSFERRED, S.NEEDS_TRIAGE}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REJECTED: frozenset({S.REOPENED}),
    S.DUPLICATE: frozenset({S.REOPENED}),
}

# Called with every new event inside the same transaction (e.g. to queue notifications).
TransitionHook = Callable[[Report, ReportEvent], None]
_hooks: list[TransitionHook] = []


def on_transition(hook: TransitionHook) -> TransitionHook:
    """Register a function called with (report, event) for every event written."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def can_transition(current: str | None, target: str) -> bool:
    """Whether the state machine allows current → target."""
    key = ReportStatus(current) if current else None
    return ReportStatus(target) in ALLOWED.get(key, frozenset())


def transition(
    report: Report,
    to: ReportStatus | str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    note: str | None = None,
    public: bool = True,
    data: dict[str, Any] | None = None,
) -> ReportEvent:
    """Move the report to `to` if allowed, stamp the times, and record the event."""
    target = ReportStatus(to)
    current = report._status
    if not can_transition(current, target):
        raise IllegalTransition(
            _l(
                "Không thể chuyển phản ánh từ trạng thái “%(current)s” sang “%(target)s”.",
                current=current,
                target=target,
            ),
        )
    now = utcnow()
    report._status = target.value
    if target is S.RESOLVED:
        report.resolved_at = now
    elif target is S.CLOSED:
        report.closed_at = now
    elif target is S.REOPENED:
        report.resolved_at = report.closed_at = None
    event = ReportEvent(
        report=report,
        kind="status",
        from_status=current,
        to_status=target.value,
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.role if actor else "system"),
        note=note,
        public=public,
        data=data,
        created_at=now,
    )
    db.session.add(event)
    for hook in list(_hooks):
        hook(report, event)
    return event


def record_event(
    report: Report,
    kind: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    note: str | None = None,
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> ReportEvent:
    """Record a history entry that does not change the status (note, reply, reminder)."""
    if kind == "status":
        raise ValueError("status events are written by transition()")
    event = ReportEvent(
        report=report,
        kind=kind,
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.role if actor else "system"),
        note=note,
        public=public,
        data=data,
        created_at=utcnow(),
    )
    db.session.add(event)
    for hook in list(_hooks):
        hook(report, event)
    return event


# Internal bookkeeping events the sweep writes in bulk: nobody is notified through the hooks
# (the sweep writes its own e-mails), so they can skip the ORM's one object per row.
INTERNAL_KINDS = frozenset({"reminder", "escalation"})


def record_internal_events(kind: str, entries: list[tuple[int, str]]) -> None:
    """Write one internal (non-public) `kind` event per (report id, note) in one INSERT."""
    if kind not in INTERNAL_KINDS:
        raise ValueError(f"{kind!r} events go through record_event() and its hooks")
    if not entries:
        return
    at = utcnow()
    bulk.insert_rows(
        ReportEvent.__table__,
        [
            {
                "report_id": report_id,
                "kind": kind,
                "actor_label": "system",
                "note": note,
                "public": False,
                "data": None,
                "created_at": at,
            }
            for report_id, note in entries
        ],
    )
