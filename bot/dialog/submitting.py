"""Filing a report, the end: the category, the confirmation, and the report submitted."""

from __future__ import annotations

from bot.dialog.draft import place_text, take_media
from bot.dialog.privacy import consented
from bot.dialog.turn import Turn
from bot.dialog.vocabulary import (
    ASK_CATEGORY,
    ASK_CONFIRM,
    CATEGORY,
    CONFIRM,
    GUESS_CATEGORY,
    IDLE,
    NO_CATEGORY,
    SUBMITTED,
    YES,
    State,
    all_categories,
    confirm,
    guessed_categories,
    menu,
    short,
)
from webapp.infra.text import fold
from webapp.services.intake import categories, reports
from webapp.services.intake.serializers import tracking_url
from webapp.services.messaging import drafts


def ask_category(turn: Turn) -> State:
    """Ask the category."""
    prompt_category(turn)
    return CATEGORY


def prompt_category(turn: Turn) -> None:
    """The NLU's guesses first (then "Khác" for all), or every category."""
    names = categories.active_names(turn.language)
    guessed = [g for g in turn.draft.get("guess") or [] if g in names]
    if guessed and not turn.draft.get("all_categories"):
        turn.say(
            GUESS_CATEGORY.format(category=names[guessed[0]]),
            guessed_categories([(code, names[code]) for code in guessed]),
        )
        return
    turn.say(ASK_CATEGORY, all_categories(names))


def on_category(turn: Turn, payload: str | None) -> State:
    """A category pressed, typed by the start of its name, or "yes" to the first guess."""
    names = categories.active_names(turn.language)
    if payload == "cat:*":
        turn.draft["all_categories"] = True
        return ask_category(turn)
    code = payload[4:] if payload and payload.startswith("cat:") else None
    if code is None and turn.text:
        guessed = [g for g in turn.draft.get("guess") or [] if g in names]
        key = turn.key
        if key in YES and guessed and not turn.draft.get("all_categories"):
            code = guessed[0]
        else:
            code = next(
                (c for c, label in names.items() if key and fold(label).startswith(key)), None
            )
    if code in names:
        turn.draft["category"] = code
        return ask_confirm(turn)
    take_media(turn)
    return ask_category(turn)


def ask_confirm(turn: Turn) -> State:
    """Ask to confirm."""
    prompt_confirm(turn)
    return CONFIRM


def prompt_confirm(turn: Turn) -> None:
    """The whole draft, to send, recategorise or cancel."""
    draft = turn.draft
    names = categories.active_names(turn.language)
    turn.say(
        ASK_CONFIRM.format(
            description=short(draft.get("description", ""), 300),
            photos=turn.photo_count,
            place=place_text(turn),
            category=names.get(draft.get("category", ""), str(NO_CATEGORY)),
        ),
        confirm(),
    )


def on_confirm(turn: Turn, payload: str | None) -> State:
    """Send, or change the category."""
    if payload == "send" or (not payload and turn.key in YES):
        return submit(turn)
    if payload == "cat:*":
        turn.draft["all_categories"] = True
        return ask_category(turn)
    take_media(turn)
    return ask_confirm(turn)


def submit(turn: Turn) -> State:
    """File the report through intake and give the resident its code and link.

    The privacy notice was shown before (sending means agreeing): the report records its
    version. A notice shown only now (a new version) is read first, then asked again.
    """
    if turn.notice_shown:
        return ask_confirm(turn)
    draft = turn.draft
    place = draft.get("place") or {}
    channel, user_id = turn.who
    report_draft = reports.ReportDraft(
        channel=channel,
        description=draft.get("description", ""),
        photos=drafts.uploads(turn.conv),
        lat=place.get("lat"),
        lon=place.get("lon"),
        location_source=place.get("kind") if place.get("lat") is not None else None,
        address=place.get("address"),
        identity=reports.ChannelIdentity(channel, user_id, turn.incoming.display_name),
        category_hint=draft.get("category"),
        language=turn.language,
        consent=consented(turn),
    )
    # The conversation is back to idle in the same commit as the report.
    turn.discard_draft()
    turn.persist(IDLE)
    result = reports.submit_report(report_draft)
    report = reports.get_by_code(result.code)
    turn.say(SUBMITTED.format(code=result.code, url=tracking_url(report)), menu())
    return IDLE
