"""The free text staff type with an action (a reply, a note, a reason): required, trimmed."""

from __future__ import annotations

from webapp.errors import ValidationError


def required(value: str | None, field: str, what_vi: str, minimum: int = 3) -> str:
    """`value` trimmed; a ValidationError on `field` when shorter than `minimum` characters."""
    value = (value or "").strip()
    if len(value) < minimum:
        raise ValidationError(
            f"Vui lòng nhập {what_vi}.", f"Please enter the {field}.", field=field
        )
    return value
