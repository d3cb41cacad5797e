"""Domain errors raised by services and mapped to HTTP in one place (webapp.http_errors)."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken; carries a Vietnamese and an English message."""

    status_code = 400
    code = "invalid"

    def __init__(self, message_vi: str, message_en: str | None = None, *, field: str | None = None):
        super().__init__(message_en or message_vi)
        self.message_vi = message_vi
        self.message_en = message_en or message_vi
        self.field = field

    def message(self, locale: str = "vi") -> str:
        """The message in the requested locale (Vietnamese unless 'en')."""
        return self.message_en if locale.startswith("en") else self.message_vi

    def to_dict(self, locale: str = "vi") -> dict:
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
