"""The free text staff type with an action (a reply, a note, a reason): required, trimmed."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from webapp.errors import ValidationError


def required(value: str | None, field: str, what: Any, minimum: int = 3) -> str:
    """`value` trimmed; a ValidationError on `field` when shorter than `minimum` characters.

    `what` names the text in the message: a catalog text (`_l("lý do")`).
    """
    value = (value or "").strip()
    if len(value) < minimum:
        raise ValidationError(_l("Vui lòng nhập %(what)s.", what=what), field=field)
    return value
