"""Tracking: a report's status by its code, and the list of one's own reports.

A look-up started in the middle of a draft steps aside and comes back to it.
"""

from __future__ import annotations

from bot.dialog.turn import Turn
from bot.dialog.vocabulary import (
    ASK_CODE,
    CODE_FORMAT,
    CODE_RE,
    LOOKUP,
    MINE_FOLLOWED,
    MINE_HEADER,
    MINE_LINE,
    NO_REPORTS,
    STATUS,
    STATUS_AGENCY,
    STATUS_CATEGORY,
    STATUS_DUE,
    STATUS_LATEST,
    STATUS_LINK,
    STATUS_RESULT,
    STATUS_UNIT,
    State,
    local_time,
    lookup,
    new_report,
    short,
    statuses,
)
from webapp.errors import DomainError
from webapp.infra.storage import public_photo_bytes
from webapp.models import Report
from webapp.services.intake import followers, public_notes, reports
from webapp.services.intake.serializers import public_url, status_label, tracking_url
from webapp.services.messaging.notifications import result_photo_key


def look_up(turn: Turn, arg: str) -> State:
    """/tracuu [code]: the status at once, or ask for the code."""
    match = CODE_RE.search(arg)
    if match:
        show_status(turn, match.group())
        return turn.remind(turn.state)
    prompt_lookup(turn)
    return turn.suspend(LOOKUP)


def prompt_lookup(turn: Turn) -> None:
    """Ask for a report's code."""
    turn.say(ASK_CODE, lookup())


def on_lookup(turn: Turn, payload: str | None) -> State:
    """A code was asked for: show its status and go back, or explain what a code is."""
    match = CODE_RE.search(turn.text)
    if match:
        show_status(turn, match.group())
        return turn.remind(turn.resumed())
    turn.say(CODE_FORMAT)
    prompt_lookup(turn)
    return LOOKUP


def status(turn: Turn, code: str) -> State:
    """The "status:<code>" button: the report's status; a draft is asked for again."""
    show_status(turn, code)
    return turn.remind(turn.state)


def list_mine(turn: Turn, arg: str) -> State:
    """/cuatoi: one's own and followed reports; a draft is asked for again."""
    show_mine(turn)
    return turn.remind(turn.state)


def link_for(turn: Turn, report: Report) -> str:
    """The secret link for the resident who sent the report; the public page for others."""
    identity = report.identity
    if identity is not None and (identity.channel, identity.external_id) == turn.who:
        return tracking_url(report)
    return public_url(report)


def show_status(turn: Turn, code: str) -> None:
    """Where the report stands, with the photo of the result once it is closed."""
    report = reports.get_by_code(code)
    lines = [STATUS.format(code=report.code, status=status_label(report.status, turn.language))]
    if report.category:
        lines.append(STATUS_CATEGORY.format(report.category.label(turn.language)))
    if report.unit:
        lines.append(STATUS_UNIT.format(report.unit.full_name))
    if report.agency:
        lines.append(STATUS_AGENCY.format(report.agency.name))
    if report.due_at and report.is_open:
        lines.append(STATUS_DUE.format(local_time(report.due_at)))
    latest = public_notes.latest(report)
    if report.public_note and not report.is_open:
        lines.append(STATUS_RESULT.format(report.public_note))
    elif latest:
        lines.append(STATUS_LATEST.format(latest))
    lines.append(STATUS_LINK.format(link_for(turn, report)))
    key = result_photo_key(report) if not report.is_open else None
    photo = None
    if key:
        try:
            photo = public_photo_bytes(key)
        except (DomainError, OSError):
            key = None
    turn.say("\n".join(map(str, lines)), photo_key=key, photo=photo)


def show_mine(turn: Turn) -> None:
    """The resident's reports, newest first, with a status button for the first five."""
    items = followers.reports_of(*turn.who)
    if not items:
        turn.say(NO_REPORTS, new_report())
        return
    lines = [MINE_HEADER]
    for report, own in items:
        lines.append(
            MINE_LINE.format(
                code=report.code,
                status=status_label(report.status, turn.language),
                mark="" if own else MINE_FOLLOWED,
                description=short(report.description, 60),
            )
        )
    turn.say("\n".join(map(str, lines)), statuses([r.code for r, _ in items[:5] if r.code]))
