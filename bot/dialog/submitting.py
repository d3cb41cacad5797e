"""Filing a report, the end: the category, its questions, the confirmation, and the report
submitted.

The chosen category's questions (config/categories.yml) are asked one at a time, each
skippable unless required; the answers go with the report as on the web form and Open311.
"""

from __future__ import annotations

from bot.dialog.draft import place_text, take_media
from bot.dialog.privacy import consented
from bot.dialog.turn import Turn
from bot.dialog.vocabulary import (
    ANSWER_REQUIRED,
    ASK_CATEGORY,
    ASK_CONFIRM,
    CATEGORY,
    CHOOSE_ANSWER,
    CONFIRM,
    DONE,
    GUESS_CATEGORY,
    IDLE,
    MAY_SKIP,
    NEXT_PROBLEM,
    NO_CATEGORY,
    QUESTION,
    QUESTIONS,
    SUBMITTED,
    TYPE_ANSWER,
    TYPE_NUMBER,
    YES,
    State,
    all_categories,
    answers,
    confirm,
    guessed_categories,
    menu,
    short,
)
from webapp.errors import ValidationError
from webapp.infra.text import fold
from webapp.services.intake import categories, questions, reports
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
        if turn.draft.get("category") != code:  # another category: its own questions
            turn.draft.update(category=code, answers={}, skipped=[])
        return ask_questions(turn)
    take_media(turn)
    return ask_category(turn)


# -- the category's questions -----------------------------------------------------------------


def _pending(turn: Turn) -> tuple[list[questions.Question], int]:
    """The questions not yet answered nor skipped, and how many the category has."""
    draft = turn.draft
    asked = questions.of_code(draft.get("category"))
    done = set(draft.get("answers") or {}) | set(draft.get("skipped") or [])
    return [q for q in asked if q.code not in done], len(asked)


def ask_questions(turn: Turn) -> State:
    """The next question, or the confirmation when none is left."""
    if not _pending(turn)[0]:
        return ask_confirm(turn)
    prompt_question(turn)
    return QUESTIONS


def prompt_question(turn: Turn) -> None:
    """One question: its answers as buttons (a list), or typed; "skip" unless required."""
    pending, total = _pending(turn)
    if not pending:
        prompt_confirm(turn)
        return
    question, lang = pending[0], turn.language
    lines = [
        QUESTION.format(number=total - len(pending) + 1, total=total, question=question.label(lang))
    ]
    if question.datatype != "singlevaluelist":
        lines.append(TYPE_NUMBER if question.datatype == "number" else TYPE_ANSWER)
    if not question.required:
        lines.append(MAY_SKIP)
    values = [(key, vi if lang == "vi" else en) for key, vi, en in question.values]
    typed = question.datatype != "singlevaluelist"  # "1" is an answer, not the first button
    turn.say("\n".join(map(str, lines)), answers(values, not question.required), numbered=not typed)


def on_question(turn: Turn, payload: str | None) -> State:
    """An answer pressed or typed, checked; "skip" for a question that is not required."""
    pending, _total = _pending(turn)
    if not pending:
        return ask_confirm(turn)
    question, draft = pending[0], turn.draft
    if payload == "skip" or (not payload and turn.key in DONE and question.datatype != "number"):
        if question.required:
            turn.say(ANSWER_REQUIRED)
            return ask_questions(turn)
        draft.setdefault("skipped", []).append(question.code)
        return ask_questions(turn)
    if payload and payload.startswith("ans:"):
        value = payload[4:]
    elif turn.text and question.datatype != "singlevaluelist":
        value = turn.text
    else:  # a photo, a location, or words that are none of the answers
        take_media(turn)
        if turn.text:
            turn.say(CHOOSE_ANSWER)
        return ask_questions(turn)
    try:
        draft.setdefault("answers", {})[question.code] = questions.check(question, value)
    except ValidationError:  # only a number can be refused (a list's answers are buttons)
        turn.say(TYPE_NUMBER)
    return ask_questions(turn)


def ask_confirm(turn: Turn) -> State:
    """Ask to confirm."""
    prompt_confirm(turn)
    return CONFIRM


def prompt_confirm(turn: Turn) -> None:
    """The whole draft, to send, recategorise or cancel."""
    draft = turn.draft
    names = categories.active_names(turn.language)
    category = names.get(draft.get("category", ""), str(NO_CATEGORY))
    given = draft.get("answers") or {}
    for question in questions.of_code(draft.get("category")):
        if question.code in given:
            answer = question.value_label(str(given[question.code]), turn.language)
            category += f"\n   – {question.label(turn.language)} {answer}"
    turn.say(
        ASK_CONFIRM.format(
            description=short(draft.get("description", ""), 300),
            photos=turn.photo_count,
            place=place_text(turn),
            category=category,
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
    if any(q.required for q in _pending(turn)[0]):  # e.g. a question added since it was asked
        return ask_questions(turn)
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
        attributes=draft.get("answers") or None,
        # The update that sent it: delivered again, it is the same report.
        client_key=f"{channel}:{event.event_id}" if (event := turn.claimed.event) else None,
        language=turn.language,
        consent=consented(turn),
    )
    following = draft.get("next_problems") or []
    # The conversation is back to idle in the same commit as the report.
    turn.discard_draft()
    turn.persist(IDLE)
    result = reports.submit_report(report_draft)
    report = reports.get_by_code(result.code)
    if following:  # a message split into several problems: the next one, at the same place
        turn.say(SUBMITTED.format(code=result.code, url=tracking_url(report)))
        (part, category), rest = following[0], following[1:]
        turn.data["draft"] = {
            "description": part,
            "guess": [category],
            "place": draft.get("place"),
            "next_problems": rest,
        }
        turn.say(NEXT_PROBLEM.format(description=short(part, 200)))
        return ask_category(turn)
    turn.say(SUBMITTED.format(code=result.code, url=tracking_url(report)), menu())
    return IDLE
