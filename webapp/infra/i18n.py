"""Catalog texts rendered outside a request: in a resident's language, or in both; and the
language of the current request.

Every user-facing text goes through the gettext catalog (`webapp/translations`), lazily
for module-level texts. A request renders in the visitor's language; messages sent later
(the bot's turns, notifications, a worker's error reply) choose theirs with these helpers.
Outside an app context Flask-Babel has no catalog and the Vietnamese msgid is returned.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, get_locale

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def normalise(language: str | None) -> str:
    """A language the catalog has ("en-US" → "en"); Vietnamese for anything else."""
    code = (language or "").split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def in_language(text: Any, language: str | None) -> str:
    """A (lazy) catalog text rendered in `language`."""
    with force_locale(normalise(language)):
        return str(text)


def bilingual(text: Any) -> str:
    """Vietnamese, then English on the next line (when the reader's language is unknown)."""
    vi, en = in_language(text, "vi"), in_language(text, "en")
    return vi if vi == en else f"{vi}\n{en}"


def request_language() -> str:
    """The language the current request renders in ("vi" or "en")."""
    return normalise(str(get_locale() or DEFAULT_LANGUAGE))
