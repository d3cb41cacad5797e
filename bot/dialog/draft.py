"""The report being written: its photos, its place, and what the NLU guessed of it.

Shared by the filing steps (`filing`, `submitting`); nothing here moves the conversation
to another state.
"""

from __future__ import annotations

from bot.dialog.turn import Turn
from bot.dialog.vocabulary import (
    LOCATION_RECEIVED,
    OUTSIDE_PROVINCE,
    PHOTO_RECEIVED,
    PHOTO_REFUSED,
    PLACE_SOURCES,
    PLACE_UNKNOWN,
    NluAnswer,
)
from webapp.errors import DomainError
from webapp.services.geography import places, units
from webapp.services.intake import categories, photos, reports
from webapp.services.messaging import conversations


def names_a_problem(answer: NluAnswer | None) -> bool:
    """Whether the NLU recognised a kind of problem (even in a few words: "ổ gà")."""
    return answer is not None and answer.is_report and answer.category not in (None, "other")


def guess(answer: NluAnswer | None) -> list[str]:
    """The NLU's three likeliest categories, best first ("other" is no guess: it is
    in the full list behind "Khác")."""
    if answer is None:
        return []
    known = categories.active_names()
    codes = [answer.category] if answer.category else []
    codes += [code for code, _ in answer.ranking]
    unique = list(dict.fromkeys(c for c in codes if c in known and c != "other"))
    return unique[:3]


def place_in_text(text: str, answer: NluAnswer | None) -> dict | None:
    """Ward and street names in the description (gazetteer, then the NLU's entities)."""
    match = places.find_place_names(text)
    if match is None and answer is not None:
        match = places.find_entity_place(answer.entities or {})
    if match is None:
        return None
    return {"lat": match.lat, "lon": match.lon, "label": match.matched_text[:60]}


def max_photos(turn: Turn) -> int:
    """How many photos a report may have."""
    return int(turn.cfg["PHOTO_MAX_COUNT"])


def add_photo(turn: Turn) -> bool:
    """Keep the photo sent, with its GPS position; False (and why) when refused."""
    inc = turn.incoming
    assert inc.photo is not None
    limits = reports.photo_limits()
    if turn.photo_count >= limits.max_count:
        turn.say(PHOTO_REFUSED.format(maximum=limits.max_count))
        return False
    try:
        processed = photos.process_photo(inc.photo, inc.photo_name, limits)
    except DomainError as error:
        turn.say(error.message(turn.language))
        return False
    conversations.add_photo(turn.conv, inc.photo, inc.photo_name)
    if processed.gps and not turn.draft.get("photo_gps"):
        turn.draft["photo_gps"] = list(processed.gps)
    return True


def take_media(turn: Turn) -> None:
    """A photo or a location sent at any step of the draft is kept."""
    inc = turn.incoming
    if inc.photo is not None and add_photo(turn):
        turn.say(PHOTO_RECEIVED.format(count=turn.photo_count))
    if inc.location is not None:
        set_place(turn, "pin", *inc.location)
        turn.say(LOCATION_RECEIVED.format(place=place_text(turn)))


def set_place(turn: Turn, kind: str, lat: float, lon: float, address: str | None = None) -> None:
    """The draft's place: a point, how it was given, its ward and any address typed."""
    placement = places.place(lat, lon)
    turn.draft["place"] = {
        "kind": kind,
        "lat": lat,
        "lon": lon,
        "unit_code": placement.unit_code,
        "address": address,
    }


def unit_name(unit_code: str | None) -> str:
    """The ward's name, or "outside the province"."""
    return units.full_name(unit_code) or str(OUTSIDE_PROVINCE)


def place_text(turn: Turn) -> str:
    """The draft's place as the resident reads it: address, ward, and how it was given."""
    place = turn.draft.get("place") or {}
    if place.get("lat") is None:
        return place.get("address") or str(PLACE_UNKNOWN)
    ward = unit_name(place.get("unit_code"))
    how = str(PLACE_SOURCES.get(place["kind"], ""))
    address = f"{place['address']}, " if place.get("address") else ""
    return f"{address}{ward} ({how})" if how else f"{address}{ward}"
