"""Rating a resolved report, and asking for it to be handled again.

The "rate" buttons come with the "resolved" message, at any step: a low rating steps aside
to offer reopening, then comes back to the draft being written, if any.
"""

from __future__ import annotations

from bot.dialog.turn import Turn
from bot.dialog.vocabulary import (
    ASK_REOPEN,
    ASK_REOPEN_REASON,
    COORDINATORS,
    NO,
    RATED,
    RATED_LOW,
    REOPEN_ASK,
    REOPEN_CANCELLED,
    REOPEN_REASON,
    REOPENED,
    REOPENED_DUE,
    THANKS_FOR_FEEDBACK,
    YES,
    State,
    cancel_reopen,
    local_time,
    reopen,
)
from webapp.services.casework import feedback
from webapp.services.intake import reports


def rate(turn: Turn, code_and_stars: str) -> State:
    """The "rate:<code>:<stars>" button: thank, and offer reopening after a low rating."""
    code, _, stars = code_and_stars.rpartition(":")
    count = int(stars) if stars.isdigit() else 0
    report = reports.get_by_code(code)
    channel, user_id = turn.who
    low = feedback.rate(report, channel, user_id, count)
    if not low:
        turn.say(RATED.format(stars=count))
        return turn.remind(turn.state)
    turn.data["reopen"] = report.code
    turn.say(RATED_LOW.format(stars=count))
    prompt_reopen(turn)
    return turn.suspend(REOPEN_ASK)


def prompt_reopen(turn: Turn) -> None:
    """Ask whether the report should be handled again."""
    code = turn.data.get("reopen", "")
    turn.say(ASK_REOPEN.format(code=code), reopen(code))


def on_reopen_ask(turn: Turn, payload: str | None) -> State:
    """Yes asks for the reason; no thanks and goes back."""
    if turn.key in YES:
        return ask_reopen_reason(turn, turn.data.get("reopen", ""))
    if payload == "noreopen" or turn.key in NO:
        turn.say(THANKS_FOR_FEEDBACK)
        return turn.resume()
    prompt_reopen(turn)
    return REOPEN_ASK


def no_reopen(turn: Turn) -> State:
    """The "Không" button pressed later, outside the question: thank; stay."""
    turn.say(THANKS_FOR_FEEDBACK)
    return turn.state


def ask_reopen_reason(turn: Turn, code: str) -> State:
    """Step aside to ask what is still wrong with the report (also the "reopen:<code>"
    button)."""
    report = reports.get_by_code(code)
    turn.data["reopen"] = report.code
    prompt_reopen_reason(turn)
    return turn.suspend(REOPEN_REASON)


def prompt_reopen_reason(turn: Turn) -> None:
    """Ask what is still wrong."""
    turn.say(ASK_REOPEN_REASON, cancel_reopen())


def on_reopen_reason(turn: Turn, payload: str | None) -> State:
    """The reason given: the report is reopened with it, and the resident told the new due
    time; then back to what was being done."""
    if payload == "noreopen":
        turn.say(REOPEN_CANCELLED)
        return turn.resume()
    if not turn.text:
        prompt_reopen_reason(turn)
        return REOPEN_REASON
    report = reports.get_by_code(turn.data.get("reopen", ""))
    channel, user_id = turn.who
    feedback.reopen(report, channel, user_id, turn.text)
    agency = report.agency.name if report.agency else str(COORDINATORS)
    due = REOPENED_DUE.format(local_time(report.due_at)) if report.due_at else ""
    turn.say(REOPENED.format(code=report.code, agency=agency, due=due))
    return turn.resume()
