"""Intent names of the NLU model: the 16 report categories and the chat intents."""

from __future__ import annotations

# Stable category codes shared with routing and statistics (see config/ categories).
CATEGORY_CODES: tuple[str, ...] = (
    "road_damage",
    "traffic",
    "waste",
    "pollution",
    "noise",
    "street_lighting",
    "water_supply",
    "drainage_flooding",
    "trees",
    "illegal_construction",
    "encroachment",
    "public_security",
    "electricity",
    "food_health",
    "public_service",
    "other",
)

# Intents that are not a report: the bot answers them instead of filing anything.
CHAT_INTENTS: tuple[str, ...] = ("greet", "thanks", "goodbye", "ask_status", "out_of_scope")

ALL_INTENTS: tuple[str, ...] = CATEGORY_CODES + CHAT_INTENTS


def is_category(intent: str | None) -> bool:
    """True when the intent is one of the 16 report categories."""
    return intent in CATEGORY_CODES
