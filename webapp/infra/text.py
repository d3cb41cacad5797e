"""Text folding for matching and search: Vietnamese words without diacritics, abbreviations
expanded ("P." → "phuong"), tone marks placed one way ("hoà" = "hòa").

The gazetteer matches place names with these keys; search copies of reports and bot
lookups use `fold`; anything comparing typed text with stored text uses this module.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass


def ascii_name(text: str) -> str:
    """The text without Vietnamese diacritics ("Hoà Khánh" → "Hoa Khanh")."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in text if not unicodedata.combining(c)))


TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
WORD = re.compile(r"[^\W_]+")

# Abbreviations written with a dot ("P.Hải Châu", "Q. Hải Châu", "TP. Đà Nẵng").
DOTTED = {
    "p": ("phuong",),
    "ph": ("phuong",),
    "x": ("xa",),
    "q": ("quan",),
    "tp": ("thanh", "pho"),
    "tx": ("thi", "xa"),
    "tt": ("thi", "tran"),
    "d": ("duong",),
}
# Abbreviations common enough to expand without a dot: "p hai chau", "tp da nang".
BARE = {"p": ("phuong",), "tp": ("thanh", "pho")}

VOWELS = frozenset("aăâeêioôơuưy")


def i_for_y(word: str) -> str:
    # "Kỳ"/"Kì", "Mỹ"/"Mĩ", "Quy"/"Qui": a final y after a consonant (or "qu") is
    # also spelt i; after a vowel ("tay", "thuy") it is part of the rhyme and stays.
    if word.endswith("y") and (len(word) == 1 or word[-2] not in VOWELS or word.endswith("quy")):
        return word[:-1] + "i"
    return word


def match_key(word: str) -> str:
    """A folded word (no diacritics) for comparison, with final y spelt i."""
    return i_for_y(word)


def exact_key(word: str) -> str:
    """Lower-case word with diacritics for comparison, tone mark moved to the end.

    "hoà"/"hòa" and "kỳ"/"kì" are the same word spelt by two conventions; the key
    makes them equal while keeping "hải" ≠ "hai".
    """
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = [c for c in decomposed if c in TONE_MARKS]
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
    return i_for_y(base) + "".join(tones)


@dataclass(frozen=True)
class Token:
    folded: str
    key: str
    exact: str
    start: int
    end: int


# Vietnamese syllables are at most 7 letters; longer "words" (numbers, foreign words, an
# attacker's 2,000-letter token) are worked out each time, so the cache stays small.
CACHED_WORD_LENGTH = 16


def _keys(word: str) -> tuple[str, str, str]:
    folded = ascii_name(word).lower()
    return folded, match_key(folded), exact_key(word)


_cached_keys = functools.lru_cache(maxsize=32768)(_keys)


def _word_keys(word: str) -> tuple[str, str, str]:
    """(folded, match key, exact key) of one word: residents' texts repeat a few thousand
    syllables, so each short one is worked out once (the normalisations cost ~1 µs a
    character)."""
    return _cached_keys(word) if len(word) <= CACHED_WORD_LENGTH else _keys(word)


def split_words(text: str) -> list[Token]:
    text = unicodedata.normalize("NFC", text or "")
    words = list(WORD.finditer(text))
    out: list[Token] = []
    for i, match in enumerate(words):
        word = match.group()
        folded, key, exact = _word_keys(word)
        after = text[match.end() : match.end() + 1]
        expansion: tuple[str, ...] | None = None
        if after == "." and folded in DOTTED:
            expansion = DOTTED[folded]
        elif folded in BARE and i + 1 < len(words) and after.isspace():
            expansion = BARE[folded]
        if expansion:
            out.extend(Token(w, w, w, match.start(), match.end()) for w in expansion)
        else:
            out.append(Token(folded, key, exact, match.start(), match.end()))
    return out


def fold(text: str) -> str:
    """Text as a comparison key: lower-case, no diacritics, abbreviations expanded, one space."""
    return " ".join(t.folded for t in split_words(text))
