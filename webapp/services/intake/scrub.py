"""Automatic scrubbing of personal data from the public text of a report.

Pure module (no Flask, no database). The public view shows ``scrub(report.description)``;
the back office can call ``find()`` to highlight what the public will not see.

What is replaced, and by which placeholder:

* phone numbers -> ``[số điện thoại]``: Vietnamese mobiles and landlines in the usual
  spellings (``0905123456``, ``0905 123 456``, ``0905.123.456``, ``090 512 3456``,
  ``+84 905 123 456``, ``(+84) 905-123-456``, ``0084 905…``, ``84905123456``,
  ``(0236) 3822123``, ``0236.3.822.123``…), also glued to words (``sdt0905123456``,
  ``ĐT0905 123 456``) or to each other (``0905123456-0914222333``);
* e-mail addresses -> ``[email]``: ordinary ones (dots, plus, subdomains, any case) and
  the spoken forms ``nam (at) gmail.com`` / ``nam [a còng] gmail.com``;
* ID numbers -> ``[số giấy tờ]``: 9 digits (CMND) or 12 digits (CCCD, số định danh),
  after a keyword (CMND, CCCD, căn cước, số định danh, chứng minh…; then also with dots or
  dashes between the digits) and standalone (contiguous or in space-separated groups
  ``079 096 001 234`` / ``0790 9600 1234`` / ``201 234 567``);
* licence plates -> ``[biển số xe]``: cars ``43A-123.45``, ``43LD-012.34``, ``51F-12345``,
  ``43AA-123.45``, old ``43A-1234``; motorbikes ``43-B1 234.56``, ``43B123456``…

What is deliberately left alone:

* hotlines and short numbers: 1800/1900 numbers (toll-free and premium-rate lines are
  businesses and public services, not people) and short codes such as 113, 1022;
* anything shorter than 9 digits: house numbers, lamp posts, road kilometres, counts,
  years, landlines written without their area code (``3822123``);
* dates, times, money (``1.200.000đ``, ``900000000 đồng``), measurements, report codes
  (``PA-2611-000123``): dates, times and report codes are masked before phone numbers
  are searched, so that no phone number can be read across them;
* dotted groups without a keyword (``123.456.789`` reads as money, not as a CMND).
  A standalone 9- or 12-digit number is taken for an ID number: a meter or serial number
  of exactly that length is hidden too - for the public text that is the cheaper mistake.

Why some of it is written by hand (project rule: only what no good library does):

* Phone numbers come from ``phonenumbers.PhoneNumberMatcher(text, "VN")`` at the
  ``VALID`` leniency: it knows every VN prefix and grouping, and its validity check keeps
  most dates and money out. Small additions cover what it misses or gets wrong:
  (1) at ``VALID`` it rejects a number touching a letter (``sdt0905123456``), so a second
  run sees the text with letters blanked and keeps only full national/international
  numbers that really touched a letter; (2) a number followed by more digits reads as one
  invalid candidate (``0905123456-0914222333``, ``0905 123 456 789``), so contiguous runs
  of 10-11 digits and 4-3-3 mobiles are also checked one by one with
  ``phonenumbers.parse``; (3) it reads ``08.12.2026 09:30`` as a mobile and
  ``PA-2611-000123`` as a landline, so dates, times and report codes are blanked before it
  runs, and thousands-grouped money (``905.123.456``, ``900000000 đồng``) is dropped
  afterwards; (4) being pure Python it is slow, so it only sees the stretches of digits and
  punctuation that hold at least 9 digits (a 4,000-character report takes a few ms).
* E-mails, Vietnamese ID numbers and licence plates: no maintained library finds them in
  free text (e-mail validators check a whole string; nothing knows CMND/CCCD or VN
  plates), hence the regular expressions below. They use possessive quantifiers and
  fixed repetition counts, so a long run of digits, dots and spaces costs linear time.

``scrub`` finds and replaces again until nothing more is found, so that
``scrub(scrub(x)) == scrub(x)``. A placeholder holds no digit and no ``@``, so this ends;
only odd digit soups, where a replacement separates digits that had read as one longer
number, need a second pass (the passes are capped at 10 all the same).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher, PhoneNumberType

PHONE, EMAIL, ID_NUMBER, PLATE = "phone", "email", "id_number", "plate"

PLACEHOLDERS = {
    PHONE: "[số điện thoại]",
    EMAIL: "[email]",
    ID_NUMBER: "[số giấy tờ]",
    PLATE: "[biển số xe]",
}

REGION = "VN"
# Numbers of businesses and public services (1800 xxxx, 1900 xxxx): left readable.
_PUBLIC_TYPES = frozenset(
    {
        PhoneNumberType.TOLL_FREE,
        PhoneNumberType.PREMIUM_RATE,
        PhoneNumberType.SHARED_COST,
        PhoneNumberType.UAN,
    }
)
# A scrubbed text normally needs no second pass; this only bounds a pathological input.
_MAX_PASSES = 10


@dataclass(frozen=True, slots=True)
class Match:
    """One item of personal data: ``text[start:end]`` is replaced by ``PLACEHOLDERS[kind]``."""

    kind: str
    start: int
    end: int


# --- spans that are never personal data (masked before phone numbers are searched) ---

_PROTECTED_RE = re.compile(
    r"(?<![\w.,/\-])(?:"
    # dates 12/05/2026, 12-05-2026, 12.05.2026 and 2026-05-12
    r"(?:0?[1-9]|[12]\d|3[01])([./\-])(?:0?[1-9]|1[0-2])\1(?:19|20)\d\d"
    r"|(?:19|20)\d\d-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])"
    # times 7:30, 19h30, 7g30
    r"|(?:[01]?\d|2[0-3])[:hHgG][0-5]\d"
    r")(?!\d)"
    # report codes PA-2611-000123 (the prefix is configurable)
    r"|(?<![\w\-])[A-Za-z]{1,10}-\d{4}-\d{6,}+(?!\d)"
)

# --- e-mail addresses ---

_EMAIL_RE = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]++"
    r"(?:\s?@\s?|\s?[(\[{]\s?(?i:at|a\s?còng|a\s?cong)\s?[)\]}]\s?)"
    r"(?P<domain>[A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)++)"
)
_TLD_RE = re.compile(r"[A-Za-z]{2,}")

# --- ID numbers (CMND 9 digits, CCCD 12 digits) ---

_ID_KEYWORD_RE = re.compile(
    r"(?i:\b(?:cmnd|cccd|cmtnd|cmt|căn\s+cước|can\s+cuoc|định\s+danh|dinh\s+danh"
    r"|chứng\s+minh|chung\s+minh))"
    r"[^\d\n]{0,30}?"
    r"(?P<num>\d(?:[ .\-]?\d){11}|\d(?:[ .\-]?\d){8})"
    r"(?![\d\w]|[.\-]\d)"
)
_ID_STANDALONE_RE = re.compile(
    r"(?<![\w.,/+\-])(?<!\d )"
    # 12 digits start with the province code 001-096; 9 digits (old CMND) may start anyhow
    r"(?:0\d{11}|\d{9}|0\d{3} \d{4} \d{4}|0\d\d \d{3} \d{3} \d{3}|\d{3} \d{3} \d{3})"
    r"(?![\w]|[.,/\-]\d| \d)"
)

# --- licence plates ---

_PLATE_RE = re.compile(
    r"(?<![\w./\-])"
    r"[1-9]\d"  # province code
    r"(?P<dash>-?)"
    r"(?P<series>[A-Za-z]{1,2}\d?)"  # A, LD, AA (cars); B1, X1 (motorbikes)
    r"(?P<sep>[\-. ]?)"
    r"(?P<num>\d{3}\.\d{2}|\d{4,5})"
    r"(?![\w]|[.,]\d)"
)
# Lowercase units that would otherwise read as a plate series ("12m 3456").
_UNIT_SERIES = frozenset({"m", "cm", "mm", "km", "h", "g", "kg", "ha", "l", "ml", "t"})

# --- phone-number helpers ---

# Contiguous national or international numbers, and mobiles grouped 4-3-3, wherever they
# stand (checked by phonenumbers): "0905123456-0914222333", "0905 123 456 789".
_DIGIT_RUN_RE = re.compile(r"(?<![\d+])(?:(?:\+84|84|0)\d{9,10}|0\d{3}([ .\-])\d{3}\1\d{3})(?!\d)")
# Runs of digits, punctuation and spaces (not letters, not line breaks).
_CLUSTER_RE = re.compile(r"(?:\d|[^\w\n])++")
_MIN_PHONE_DIGITS = 9
_CONTEXT = 8
_LETTER_NEXT_TO_DIGIT_RE = re.compile(r"[^\W\d_]\d|\d[^\W\d_]")
# Thousands-grouped amounts without a trunk prefix: 905.123.456 is money, not a phone.
_MONEY_SHAPE_RE = re.compile(r"[1-9]\d{0,2}(?:[.,]\d{3})+")
_MONEY_AFTER_RE = re.compile(
    r"\s*(?i:đồng|đ|vnđ|vnd|dong|triệu|trieu|tr|tỷ|tỉ|ty|nghìn|nghin|ngàn|ngan|k)(?![\w/])"
)

# Kinds by preference when two candidates cover the same span.
_EMAIL_P, _ID_KEYWORD_P, _PLATE_P, _PHONE_P, _ID_STANDALONE_P = range(5)


def find(text: str) -> list[Match]:
    """The personal data in ``text``, in order and without overlaps (one pass; see
    ``scrub`` for the rare second one)."""
    if not text:
        return []
    protected = [m.span() for m in _PROTECTED_RE.finditer(text)]
    masked = _blank(text, protected)
    candidates: list[tuple[int, int, int, str]] = []  # (start, end, preference, kind)
    candidates += [(s, e, _EMAIL_P, EMAIL) for s, e in _emails(text)]
    others = [(s, e, _ID_KEYWORD_P, ID_NUMBER) for s, e in _keyword_ids(text)]
    others += [(s, e, _PLATE_P, PLATE) for s, e in _plates(text)]
    others += [(s, e, _PHONE_P, PHONE) for s, e in _phones(text, masked)]
    others += [(s, e, _ID_STANDALONE_P, ID_NUMBER) for s, e in _standalone_ids(text)]
    candidates += [c for c in others if not _overlaps_any(c[0], c[1], protected)]
    return _resolve(candidates)


def scrub_with_count(text: str) -> tuple[str, int]:
    """``text`` with each item of personal data replaced by its placeholder, and how many."""
    total = 0
    for _ in range(_MAX_PASSES):
        matches = find(text)
        if not matches:
            break
        total += len(matches)
        text = _replace(text, matches)
    return text, total


def scrub(text: str) -> str:
    """``text`` with phone numbers, e-mails, ID numbers and licence plates replaced."""
    return scrub_with_count(text)[0]


def _replace(text: str, matches: list[Match]) -> str:
    parts, last = [], 0
    for m in matches:
        parts += [text[last : m.start], PLACEHOLDERS[m.kind]]
        last = m.end
    parts.append(text[last:])
    return "".join(parts)


def _resolve(candidates: list[tuple[int, int, int, str]]) -> list[Match]:
    """Longest candidates first (then by preference); a candidate overlapping one already
    taken is dropped. Returns the taken ones in text order."""
    taken_starts: list[int] = []
    taken: list[Match] = []
    for start, end, _pref, kind in sorted(candidates, key=lambda c: (c[0] - c[1], c[2], c[0])):
        i = bisect_left(taken_starts, start)
        if i > 0 and taken[i - 1].end > start:
            continue
        if i < len(taken) and taken[i].start < end:
            continue
        taken_starts.insert(i, start)
        taken.insert(i, Match(kind, start, end))
    return taken


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _overlaps_any(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def _emails(text: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    if "@" not in text and "(" not in text and "[" not in text and "{" not in text:
        return found
    for m in _EMAIL_RE.finditer(text):
        # End at the last label that can be a top-level domain ("gmail.com.123" -> ".com").
        labels = m["domain"].split(".")
        end = m.end()
        while labels and not _TLD_RE.fullmatch(labels[-1]):
            end -= len(labels.pop()) + 1
        if len(labels) >= 2:
            found.append((m.start(), end))
    return found


def _keyword_ids(text: str) -> list[tuple[int, int]]:
    return [m.span("num") for m in _ID_KEYWORD_RE.finditer(text)]


def _standalone_ids(text: str) -> list[tuple[int, int]]:
    return [
        m.span()
        for m in _ID_STANDALONE_RE.finditer(text)
        if m[0].startswith("0") or not _money_after(text, m.end())
    ]


def _plates(text: str) -> list[tuple[int, int]]:
    found = []
    for m in _PLATE_RE.finditer(text):
        series = m["series"]
        if series.lower() in _UNIT_SERIES and not series.isupper():
            continue  # "12m 3456", "19h 3000"
        if m["sep"] == " " and len(m["num"]) == 4 and not m["dash"] and series.isalpha():
            continue  # "nhà 12A 2024": a four-digit year after a house number
        found.append(m.span())
    return found


def _phones(text: str, masked: str) -> list[tuple[int, int]]:
    """Phone numbers: ``masked`` is ``text`` with dates, times and report codes blanked."""
    found: set[tuple[int, int]] = set()
    for a, b in _digit_windows(masked):
        window = masked[a:b]
        for m in PhoneNumberMatcher(window, REGION, leniency=Leniency.VALID):
            start, end = a + m.start, a + m.end
            if _is_personal(m.number) and not _looks_like_money(text, end, m.raw_string):
                found.add((start, end))
        if _LETTER_NEXT_TO_DIGIT_RE.search(window):
            # At VALID leniency the matcher skips numbers touching a letter ("sdt0905 123 456").
            unglued = "".join(" " if ch.isalpha() else ch for ch in window)
            for m in PhoneNumberMatcher(unglued, REGION, leniency=Leniency.VALID):
                start, end = a + m.start, a + m.end
                touches_letter = (start > 0 and text[start - 1].isalpha()) or (
                    end < len(text) and text[end].isalpha()
                )
                digits = sum(ch.isdigit() for ch in m.raw_string)
                prefixed = m.raw_string.lstrip("(").startswith(("0", "+", "84"))
                if touches_letter and digits >= 10 and prefixed and _is_personal(m.number):
                    found.add((start, end))
    for run in _DIGIT_RUN_RE.finditer(masked):
        try:
            number = phonenumbers.parse(run[0], REGION)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) and _is_personal(number):
            found.add(run.span())
    return sorted(found)


def _digit_windows(masked: str) -> list[tuple[int, int]]:
    """The stretches worth giving to the (slow, pure-Python) matcher: runs of digits and
    punctuation holding at least 9 digits (no personal VN number is shorter), with a few
    characters of context each side for its checks of the neighbouring characters."""
    windows: list[tuple[int, int]] = []
    for m in _CLUSTER_RE.finditer(masked):
        if sum(ch.isdigit() for ch in m[0]) < _MIN_PHONE_DIGITS:
            continue
        a, b = max(0, m.start() - _CONTEXT), min(len(masked), m.end() + _CONTEXT)
        if windows and windows[-1][1] >= a:
            windows[-1] = (windows[-1][0], b)
        else:
            windows.append((a, b))
    return windows


def _is_personal(number: phonenumbers.PhoneNumber) -> bool:
    return phonenumbers.number_type(number) not in _PUBLIC_TYPES


def _looks_like_money(text: str, end: int, raw: str) -> bool:
    """An amount never starts with 0, + or "(": only bare numbers can be money."""
    if not raw[:1].isdigit() or raw.startswith("0"):
        return False
    return bool(_MONEY_SHAPE_RE.fullmatch(raw)) or _money_after(text, end)


def _money_after(text: str, end: int) -> bool:
    return bool(_MONEY_AFTER_RE.match(text, end))
