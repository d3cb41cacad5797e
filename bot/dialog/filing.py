"""Filing a report, up to its place: describe, photos, place, a report nearby to follow.

A message outside any flow starts here too (`on_idle`): a code is looked up, chit-chat is
answered, and anything that reads like a problem starts a draft. The category and the
confirmation follow in `submitting`.
"""

from __future__ import annotations

from bot.dialog import talk, tracking
from bot.dialog.draft import (
    add_photo,
    guess,
    max_photos,
    names_a_problem,
    place_in_text,
    set_place,
    take_media,
    unit_name,
)
from bot.dialog.submitting import ask_category
from bot.dialog.turn import Turn
from bot.dialog.vocabulary import (
    ADDED_TO_DESCRIPTION,
    ASK_DESCRIPTION,
    ASK_MORE_PHOTOS,
    ASK_PHOTOS,
    ASK_PLACE,
    CODE_RE,
    DESCRIBE,
    DONE,
    FILE_ANYWAY,
    FOLLOWING,
    IDLE,
    NEARBY,
    NEARBY_FOOTER,
    NEARBY_HEADER,
    NEARBY_LINE,
    PHOTOS,
    PHOTOS_ENOUGH,
    PLACE,
    PLACE_IN_PHOTO,
    PLACE_IN_TEXT,
    PLACE_NOT_FOUND,
    SPLIT,
    STALE_CHOICE,
    TOO_SHORT,
    TWO_PROBLEMS,
    UNCLASSIFIED,
    YES,
    NluAnswer,
    State,
    cancel_draft,
    follow_or_file,
    keep_address,
    photos_done,
    place_choices,
    short,
    split_or_keep,
)
from nlu import problems
from webapp.errors import NotFound
from webapp.services.geography import places
from webapp.services.intake import categories, followers, reports
from webapp.services.intake.serializers import public_url, status_label

# -- starting ---------------------------------------------------------------------------------


def on_idle(turn: Turn, payload: str | None) -> State:
    """A message outside any flow: a code, chit-chat, help, or the start of a report."""
    inc = turn.incoming
    if payload:
        turn.say(STALE_CHOICE)
        talk.show_help(turn)
        return IDLE
    if inc.photo is not None or inc.location is not None:
        turn.start_draft()
        return on_describe(turn, None)
    text = turn.text
    if not text:
        talk.show_help(turn)
        return IDLE
    code = CODE_RE.search(text)
    if code and len(turn.key.split()) <= 5:
        tracking.show_status(turn, code.group())
        return IDLE
    # Greetings are known without the NLU; anything else is asked to it.
    answer = None if talk.chat_intent(turn, None) else turn.classify(text)
    intent = talk.chat_intent(turn, answer)
    if intent:
        return talk.chat(turn, intent, IDLE)
    if len(text) < turn.cfg["DESCRIPTION_MIN_LENGTH"] and not names_a_problem(answer):
        talk.show_help(turn)
        return IDLE
    turn.start_draft()
    return take_description(turn, text, answer)


def start_report(turn: Turn, arg: str) -> State:
    """/baocao: a new draft (any draft before is dropped)."""
    turn.start_draft()
    prompt_describe(turn)
    return DESCRIBE


# -- description ------------------------------------------------------------------------------


def prompt_describe(turn: Turn) -> None:
    """Ask for the description."""
    turn.say(ASK_DESCRIPTION, cancel_draft())


def on_describe(turn: Turn, payload: str | None) -> State:
    """The description (photos and a location are kept too)."""
    take_media(turn)
    if turn.text and not payload:
        return take_description(turn, turn.text, None)
    prompt_describe(turn)
    return DESCRIBE


def take_description(turn: Turn, text: str, answer: NluAnswer | None) -> State:
    """Keep the description with the NLU's guesses of category and place; ask for photos."""
    if answer is None:
        answer = turn.classify(text)
    intent = talk.chat_intent(turn, answer)
    if intent in ("greet", "thanks", "goodbye", "ask_status"):
        return talk.chat(turn, intent, DESCRIBE)
    minimum = turn.cfg["DESCRIPTION_MIN_LENGTH"]
    if len(text) < minimum:
        turn.say(TOO_SHORT.format(minimum=minimum))
        return DESCRIBE
    draft = turn.draft
    draft["description"] = text[: turn.cfg["DESCRIPTION_MAX_LENGTH"]]
    draft["guess"] = guess(answer)
    draft["text_place"] = place_in_text(text, answer)
    found = problems.split(text, turn.classify) if names_a_problem(answer) else []
    if found:
        draft["problems"] = [[part, category] for part, category in found]
        prompt_split(turn)
        return SPLIT
    prompt_photos(turn)
    return PHOTOS


# -- two problems in one message --------------------------------------------------------------


def prompt_split(turn: Turn) -> None:
    """The problems found, to file as as many reports or keep as one."""
    found = turn.draft.get("problems") or []
    names = categories.active_names(turn.language)
    lines = "\n".join(
        f"{n}. {short(part, 80)} ({names.get(category, category)})"
        for n, (part, category) in enumerate(found, 1)
    )
    turn.say(TWO_PROBLEMS.format(count=len(found), lines=lines), split_or_keep(len(found)))


def on_split(turn: Turn, payload: str | None) -> State:
    """Split: this draft is the first problem, the others follow it with the same place."""
    draft = turn.draft
    found = draft.pop("problems", None) or []
    if found and (payload == "split:yes" or (not payload and turn.key in YES)):
        (first, category), rest = found[0], found[1:]
        draft.update(description=first, guess=[category], next_problems=rest)
    elif found and payload != "split:no" and turn.key not in DONE:
        draft["problems"] = found
        take_media(turn)
        prompt_split(turn)
        return SPLIT
    prompt_photos(turn)
    return PHOTOS


# -- photos -----------------------------------------------------------------------------------


def prompt_photos(turn: Turn) -> None:
    """Ask for photos (more of them once one was sent)."""
    count = turn.photo_count
    if count:
        text = ASK_MORE_PHOTOS.format(count=count, maximum=max_photos(turn))
    else:
        text = ASK_PHOTOS.format(maximum=max_photos(turn))
    turn.say(text, photos_done(count))


def on_photos(turn: Turn, payload: str | None) -> State:
    """Photos until done or the limit; a location or an address moves on to the place,
    other text is added to the description."""
    inc = turn.incoming
    if payload in ("done", "skip"):
        return ask_place(turn)
    if inc.photo is not None:
        if add_photo(turn) and turn.photo_count >= max_photos(turn):
            turn.say(PHOTOS_ENOUGH.format(maximum=max_photos(turn)))
            return ask_place(turn)
        prompt_photos(turn)
        return PHOTOS
    if inc.location is not None:
        set_place(turn, "pin", *inc.location)
        return after_place(turn)
    if not turn.text or turn.key in DONE:
        return ask_place(turn)
    match = places.geocode(turn.text)
    if match is not None:
        set_place(turn, "address", match.lat, match.lon, address=turn.text)
        return after_place(turn)
    turn.draft["description"] = f"{turn.draft.get('description', '')}\n{turn.text}".strip()
    turn.say(ADDED_TO_DESCRIPTION)
    prompt_photos(turn)
    return PHOTOS


# -- place ------------------------------------------------------------------------------------


def ask_place(turn: Turn) -> State:
    """Ask where it is, unless the draft already has a place."""
    if turn.draft.get("place"):
        return after_place(turn)
    prompt_place(turn)
    return PLACE


def prompt_place(turn: Turn) -> None:
    """Ask where it is, offering the photo's position and a place named in the text."""
    draft = turn.draft
    lines = [ASK_PLACE]
    gps = draft.get("photo_gps")
    if gps:
        lines.append(PLACE_IN_PHOTO.format(ward=unit_name(places.place(*gps).unit_code)))
    text_place = draft.get("text_place")
    if text_place:
        lines.append(PLACE_IN_TEXT.format(label=text_place["label"]))
    label = text_place["label"] if text_place else None
    turn.say("\n".join(map(str, lines)), place_choices(bool(gps), label), ask_location=True)


def on_place(turn: Turn, payload: str | None) -> State:
    """A pin, an offered place, an address (kept even when the map does not know it), or
    none."""
    inc, draft = turn.incoming, turn.draft
    if payload == "place:photo" and draft.get("photo_gps"):
        set_place(turn, "exif", *draft["photo_gps"])
    elif payload == "place:text" and draft.get("text_place"):
        set_place(turn, "text", draft["text_place"]["lat"], draft["text_place"]["lon"])
    elif payload == "place:keep" and draft.get("pending_address"):
        draft["place"] = {"kind": "address", "address": draft.pop("pending_address")}
    elif payload == "skip" or (turn.text and turn.key in DONE):
        draft["place"] = {"kind": "none"}
    elif inc.location is not None:
        set_place(turn, "pin", *inc.location)
    elif inc.photo is not None:
        add_photo(turn)
        return ask_place(turn)
    elif turn.text:
        match = places.geocode(turn.text)
        if match is None:
            draft["pending_address"] = turn.text[:500]
            turn.say(
                PLACE_NOT_FOUND.format(address=turn.text[:100]), keep_address(), ask_location=True
            )
            return PLACE
        set_place(turn, "address", match.lat, match.lon, address=turn.text[:500])
    else:
        return ask_place(turn)
    return after_place(turn)


def after_place(turn: Turn) -> State:
    """Offer reports already filed nearby (not one's own), once; else ask the category."""
    draft = turn.draft
    place = draft.get("place") or {}
    if place.get("lat") is not None and "nearby" not in draft:
        found = followers.nearby(
            place["lat"],
            place["lon"],
            radius_m=turn.cfg["BOT_NEARBY_METERS"],
            categories=draft.get("guess") or None,
        )
        mine = {r.id for r, _ in followers.reports_of(*turn.who, limit=50)}
        draft["nearby"] = [
            [n.report.code, round(n.distance_m)] for n in found if n.report.id not in mine
        ]
        if draft["nearby"]:
            show_nearby(turn)
            return NEARBY
    return ask_category(turn)


# -- a report nearby --------------------------------------------------------------------------


def show_nearby(turn: Turn) -> None:
    """The reports nearby, each to follow, or file a new one anyway."""
    lines = [NEARBY_HEADER]
    codes = []
    for number, (code, distance) in enumerate(turn.draft.get("nearby") or [], 1):
        try:
            report = reports.get_by_code(code)
        except NotFound:
            continue
        lines.append(
            NEARBY_LINE.format(
                number=number,
                code=code,
                category=categories.shown_name(report, turn.language) or UNCLASSIFIED,
                status=status_label(report.status, turn.language),
                distance=distance,
                description=short(report.description, 80),
            )
        )
        codes.append(code)
    lines.append(NEARBY_FOOTER)
    turn.say("\n".join(map(str, lines)), follow_or_file(codes))


def on_nearby(turn: Turn, payload: str | None) -> State:
    """Follow a report nearby (the draft is dropped), or go on with the new one."""
    if payload and payload.startswith("follow:"):
        report = reports.get_by_code(payload.split(":", 1)[1])
        channel, user_id = turn.who
        followers.follow(report, channel, user_id, turn.incoming.display_name)
        turn.discard_draft()
        turn.say(FOLLOWING.format(code=report.code, url=public_url(report)))
        return IDLE
    if payload == "file_new" or turn.key in FILE_ANYWAY:
        return ask_category(turn)
    take_media(turn)
    show_nearby(turn)
    return NEARBY
