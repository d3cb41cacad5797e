"""Domain errors raised by services and mapped to HTTP in one place (webapp.http_errors).

An error carries one catalog text (webapp/translations), usually a lazy one, which renders
in whichever language its reader asks for:

    raise ValidationError(
        _l("Mô tả quá ngắn: vui lòng viết ít nhất %(minimum)s ký tự.", minimum=n),
        field="description",
    )

`message(locale)` renders it for a request (English to an English one, Vietnamese to every
other), for the bot (the resident's language) or for a later message; `message_vi` and
`message_en` are the two renderings. A plain `str` is shown as it is, in every language: text
that is data, not the catalog's. `tests/architecture/test_catalog_errors.py` keeps a second
way (a Vietnamese and an English text side by side) from coming back.
"""

from __future__ import annotations

from typing import Any

from webapp.infra.i18n import in_language

# A catalog text: a flask_babel LazyString (`_l(...)`), or a plain str for data.
Text = Any


class DomainError(Exception):
    """A rule of the domain was broken; carries a catalog text rendered in the reader's language."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: Text, *, field: str | None = None):
        super().__init__(message)
        self.text = message
        self.field = field

    def message(self, locale: str | None = "vi") -> str:
        """The message in the requested locale (Vietnamese unless English is asked for)."""
        return in_language(self.text, locale)

    @property
    def message_vi(self) -> str:
        """The message in Vietnamese (the catalog's msgid, filled in)."""
        return self.message("vi")

    @property
    def message_en(self) -> str:
        """The message in English (the catalog's translation, within an app context)."""
        return self.message("en")

    def __str__(self) -> str:
        # Logs and tracebacks read English, as before the catalog.
        return self.message_en

    def to_dict(self, locale: str | None = "vi") -> dict:
        """A JSON-ready error body."""
        body = {"error": self.code, "message": self.message(locale)}
        if self.field:
            body["field"] = self.field
        return body


class ValidationError(DomainError):
    """Input that cannot be accepted as it is."""

    status_code = 422
    code = "validation_error"


class PhotoError(ValidationError):
    """A photo that is not an acceptable image."""

    code = "invalid_photo"


class PayloadTooLarge(ValidationError):
    """An upload over the configured size limit."""

    status_code = 413
    code = "payload_too_large"


class NotFound(DomainError):
    """The object does not exist (or is not visible to the caller)."""

    status_code = 404
    code = "not_found"


class IllegalTransition(DomainError):
    """A status change the state machine does not allow."""

    status_code = 409
    code = "illegal_transition"


class PermissionDenied(DomainError):
    """The caller may not do this."""

    status_code = 403
    code = "forbidden"


class ServiceBusy(DomainError):
    """The server is at capacity for this kind of work; the client should retry later."""

    status_code = 503
    code = "busy"
    # Seconds the client is told to wait (Retry-After).
    retry_after = 30
