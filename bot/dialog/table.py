"""The dialog as a table: which function answers a message, by state.

A message is first offered to the commands and buttons that work at any step (`COMMANDS`,
`BUTTONS`); otherwise the handler of the conversation's state answers it (`HANDLERS`). Every
handler returns the state the conversation is left in. `PROMPTS` ask again what a step
needs, after an answer given aside or a refusal.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.dialog import filing, privacy, rating, submitting, talk, tracking
from bot.dialog.turn import Turn
from bot.dialog.vocabulary import (
    CATEGORY,
    CONFIRM,
    DESCRIBE,
    ERASE_ASK,
    IDLE,
    LOOKUP,
    NEARBY,
    PHOTOS,
    PLACE,
    QUESTIONS,
    REOPEN_ASK,
    REOPEN_REASON,
    SPLIT,
    State,
)

# (turn, the button's payload or None) → the next state.
Handler = Callable[[Turn, str | None], State]
# (turn, what follows the command or the button's "kind:") → the next state.
Command = Callable[[Turn, str], State]

HANDLERS: dict[State, Handler] = {
    IDLE: filing.on_idle,
    DESCRIBE: filing.on_describe,
    SPLIT: filing.on_split,
    PHOTOS: filing.on_photos,
    PLACE: filing.on_place,
    NEARBY: filing.on_nearby,
    CATEGORY: submitting.on_category,
    QUESTIONS: submitting.on_question,
    CONFIRM: submitting.on_confirm,
    LOOKUP: tracking.on_lookup,
    REOPEN_ASK: rating.on_reopen_ask,
    REOPEN_REASON: rating.on_reopen_reason,
    ERASE_ASK: privacy.on_erase_ask,
}

PROMPTS: dict[State, Callable[[Turn], None]] = {
    DESCRIBE: filing.prompt_describe,
    SPLIT: filing.prompt_split,
    PHOTOS: filing.prompt_photos,
    PLACE: filing.prompt_place,
    NEARBY: filing.show_nearby,
    CATEGORY: submitting.prompt_category,
    QUESTIONS: submitting.prompt_question,
    CONFIRM: submitting.prompt_confirm,
    LOOKUP: tracking.prompt_lookup,
    REOPEN_ASK: rating.prompt_reopen,
    REOPEN_REASON: rating.prompt_reopen_reason,
    ERASE_ASK: privacy.prompt_erase,
}

# Typed (/baocao, "tra cuu …") or pressed (the menu's payloads), at any step.
COMMANDS: dict[str, Command] = {
    "new": filing.start_report,
    "cancel": talk.cancel,
    "help": talk.give_help,
    "mine": tracking.list_mine,
    "lookup": tracking.look_up,
    "english": talk.speak_english,
    "vietnamese": talk.speak_vietnamese,
    "mydata": privacy.my_data,
    "erase": privacy.ask_erase,
}

# Buttons "kind:rest" sent with notifications, pressed at any step.
BUTTONS: dict[str, Command] = {
    "status": tracking.status,
    "rate": rating.rate,
    "reopen": rating.ask_reopen_reason,
}


def dispatch(turn: Turn) -> State:
    """Commands and buttons valid at any step first, then the handler of the state."""
    payload = turn.incoming.button or turn.typed_choice()
    if payload:
        if payload in COMMANDS:
            return COMMANDS[payload](turn, "")
        kind, _, rest = payload.partition(":")
        if kind in BUTTONS:
            return BUTTONS[kind](turn, rest)
        if payload == "noreopen" and turn.state not in (REOPEN_ASK, REOPEN_REASON):
            return rating.no_reopen(turn)
        if payload in privacy.ERASE_ANSWERS and turn.state != ERASE_ASK:
            return privacy.stale_answer(turn)
    else:
        command, arg = turn.command()
        if command:
            return COMMANDS[command](turn, arg)
    # A state no longer in the table (renamed since it was saved) is answered as idle.
    handler = HANDLERS.get(turn.state, HANDLERS[IDLE])
    return handler(turn, payload)
