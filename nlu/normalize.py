"""Text normalisation shared by the Rasa pipeline (Python 3.10) and the app (Python 3.11).

Pure standard library on purpose: the same function must run inside the Rasa server (as the
first graph component) and in the app, so that training and parsing see identical text.
"""

from __future__ import annotations

import re
import unicodedata

# Chat abbreviations and teencode as residents type them, mapped to the full word.
# Keys are whole lower-case tokens; ambiguous short forms ("v", "hông") are left out because a
# wrong expansion costs more than a missed one. "nc" is read by its context (_NC_RE).
TEENCODE: dict[str, str] = {
    "ko": "không",
    "k": "không",
    "kh": "không",
    "hok": "không",
    "khg": "không",
    "khog": "không",
    "dc": "được",
    "đc": "được",
    "dk": "được",
    "đk": "được",
    "tp": "thành phố",
    "tphcm": "thành phố hồ chí minh",
    "hcm": "hồ chí minh",
    "sg": "sài gòn",
    "hn": "hà nội",
    "đn": "đà nẵng",
    "ng": "người",
    "ngta": "người ta",
    "j": "gì",
    "bít": "biết",
    "bik": "biết",
    "bjt": "biết",
    "vs": "với",
    "ns": "nói",
    "mn": "mọi người",
    "mng": "mọi người",
    "r": "rồi",
    "rùi": "rồi",
    "lm": "làm",
    "cx": "cũng",
    "cg": "cũng",
    "trc": "trước",
    "ntn": "như thế nào",
    "nhìu": "nhiều",
    "wa": "quá",
    "qá": "quá",
    "thui": "thôi",
    "nhg": "nhưng",
    "nma": "nhưng mà",
    "mik": "mình",
    "mk": "mình",
    "h": "giờ",
    "bh": "bây giờ",
    "bjo": "bây giờ",
    "hnay": "hôm nay",
    "hqua": "hôm qua",
    "kp": "khu phố",
    "tdp": "tổ dân phố",
    "kdc": "khu dân cư",
    "kđt": "khu đô thị",
    "kdt": "khu đô thị",
    "ql": "quốc lộ",
    "csgt": "cảnh sát giao thông",
    "ubnd": "ủy ban nhân dân",
    "đ/c": "địa chỉ",
}

# "p.An Lạc", "p7", "P.17", "q.10", "Q3", "tp.HCM": the administrative prefixes.
_PREFIX_DOT = re.compile(r"(?<![\w.])(p|q|tp|tx|tt|x)\.\s*(?=\w)")
_PREFIX_NUM = re.compile(r"(?<![\w.])(p|q)(\d{1,2})\b")
_PREFIX_WORD = {"p": "phường", "q": "quận", "tp": "thành phố", "tx": "thị xã", "tt": "thị trấn"}
_PREFIX_WORD["x"] = "xã"

# Old-style tone placement (hoà, thuỷ, khoẻ) versus new style (hòa, thủy, khỏe): only
# differs when the syllable ends in the vowel pair, so rewrite the pair at a word end.
_TONE_PAIRS = {
    "oà": "òa",
    "oá": "óa",
    "oả": "ỏa",
    "oã": "õa",
    "oạ": "ọa",
    "oè": "òe",
    "oé": "óe",
    "oẻ": "ỏe",
    "oẽ": "õe",
    "oẹ": "ọe",
    "uỳ": "ùy",
    "uý": "úy",
    "uỷ": "ủy",
    "uỹ": "ũy",
    "uỵ": "ụy",
}
_TONE_RE = re.compile("(" + "|".join(_TONE_PAIRS) + r")(?!\w)")
_TOKEN_RE = re.compile(r"[^\W_]+(?:[/.][^\W_]+)*", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")
# "CA phường", "ca xã": công an (police). Upper-case "CA" is unambiguous; lower-case "ca" only
# before an accented administrative level ("ca phuong" may well be "cả phường", the whole ward).
_POLICE_UPPER_RE = re.compile(r"(?<!\w)CA(?!\w)")
_POLICE_RE = re.compile(r"(?<!\w)ca (?=(?:phường|xã|quận|huyện|thị trấn|tỉnh)(?!\w))")


# "nc" is "nước" (water) in a complaint ("mất nc", "nc bẩn", "ngập nc"), except where it is
# "nói chuyện" (to talk): before "với"/"vs", "chuyện", "cùng" ("nc với tổ trưởng").
_NC_RE = re.compile(r"(?<!\w)nc(?!\w)(?!\s+(?:với|voi|vs|chuyện|chuyen|cùng|cung)(?!\w))")


def _expand_token(match: re.Match[str]) -> str:
    token = match.group(0)
    return TEENCODE.get(token, token)


def normalize(text: str) -> str:
    """Return NFC, lower-case text with teencode and ward/district prefixes expanded."""
    text = unicodedata.normalize("NFC", text or "")
    text = _POLICE_UPPER_RE.sub("công an", text).lower()
    text = _TONE_RE.sub(lambda m: _TONE_PAIRS[m.group(1)], text)
    text = _PREFIX_DOT.sub(lambda m: _PREFIX_WORD[m.group(1)] + " ", text)
    text = _PREFIX_NUM.sub(lambda m: f"{_PREFIX_WORD[m.group(1)]} {m.group(2)}", text)
    text = _NC_RE.sub("nước", text)
    text = _TOKEN_RE.sub(_expand_token, text)
    text = _POLICE_RE.sub("công an ", text)
    return _SPACE_RE.sub(" ", text).strip()


def strip_diacritics(text: str) -> str:
    """Return the text without Vietnamese tone and vowel marks (đ becomes d)."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare.replace("đ", "d").replace("Đ", "D"))


def model_text(text: str, mode: str = "both") -> str:
    """Return the text the classifier sees: normalised, and/or without diacritics.

    ``mode`` is "plain" (normalised only), "ascii" (normalised then stripped) or "both"
    (normalised text followed by its stripped form, so accented and unaccented messages
    share features while accents still count where they are present).
    """
    norm = normalize(text)
    if mode == "plain":
        return norm
    bare = strip_diacritics(norm)
    if mode == "ascii" or bare == norm:
        return bare
    return f"{norm} {bare}"
