"""Help, chit-chat and cancelling: the answers that belong to no flow."""

from __future__ import annotations

from flask_babel import force_locale

from bot.dialog import tracking
from bot.dialog.turn import Turn
from bot.dialog.vocabulary import (
    ASIDE_STATES,
    BYE,
    CANCELLED,
    CHAT_INTENTS,
    DRAFT_CANCELLED,
    DRAFT_STATES,
    GOODBYE,
    GREET,
    GREETINGS,
    HELP,
    HELP_PRIVACY,
    IDLE,
    LANGUAGE_CHOSEN,
    LOOKUP,
    NO_DRAFT,
    OUT_OF_SCOPE,
    SOME_PROVINCE,
    THANKS,
    YOU_ARE_WELCOME,
    NluAnswer,
    State,
    menu,
)
from webapp.services.geography import units


def province() -> str:
    """The province's name, as the bot introduces itself."""
    return units.province_name() or str(SOME_PROVINCE)


def show_help(turn: Turn) -> None:
    """What the bot does (and the resident's data commands), and the menu."""
    turn.say(f"{HELP.format(province=province())}\n\n{HELP_PRIVACY}", menu())


def give_help(turn: Turn, arg: str) -> State:
    """/help: what the bot does; a draft is asked for again."""
    show_help(turn)
    return turn.remind(turn.state)


def choose_language(turn: Turn, language: str) -> State:
    """/english, /tiengviet: answer in that language from now on; a draft is asked again."""
    turn.data["lang"] = language
    with force_locale(language):
        turn.say(LANGUAGE_CHOSEN)
        show_help(turn)
        return turn.remind(turn.state)


def speak_english(turn: Turn, arg: str) -> State:
    """/english."""
    return choose_language(turn, "en")


def speak_vietnamese(turn: Turn, arg: str) -> State:
    """/tiengviet."""
    return choose_language(turn, "vi")


def cancel(turn: Turn, arg: str) -> State:
    """/huy: leave a step taken aside, or drop the draft."""
    if turn.state in ASIDE_STATES:
        turn.say(CANCELLED)
        return turn.resume()
    had_draft = turn.state in DRAFT_STATES
    turn.discard_draft()
    turn.say(DRAFT_CANCELLED if had_draft else NO_DRAFT, menu())
    return IDLE


def chat_intent(turn: Turn, answer: NluAnswer | None) -> str | None:
    """The chit-chat intent of the message, if it is chit-chat and not a report."""
    key = turn.key
    if key in GREETINGS:
        return "greet"
    if key in THANKS:
        return "thanks"
    if key in BYE:
        return "goodbye"
    if answer is not None and not answer.is_report and answer.intent in CHAT_INTENTS:
        return answer.intent
    return None


def chat(turn: Turn, intent: str, current: State) -> State:
    """Answer chit-chat in the step `current` (the menu when idle, the draft asked again)."""
    name = f" {turn.incoming.display_name}" if turn.incoming.display_name else ""
    if intent == "greet":
        turn.say(GREET.format(name=name, province=province()), menu() if current == IDLE else None)
    elif intent == "thanks":
        turn.say(YOU_ARE_WELCOME)
    elif intent == "goodbye":
        turn.say(GOODBYE)
    elif intent == "ask_status":
        tracking.prompt_lookup(turn)
        return turn.suspend(LOOKUP, current)
    else:
        turn.say(OUT_OF_SCOPE, menu() if current == IDLE else None)
    return turn.remind(current)
