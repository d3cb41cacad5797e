"""Logs a machine can read, and one request id from the web request to the tasks it enqueues.

`LOG_FORMAT=json` (production) writes one JSON object per line (python-json-logger) with the
time, level, logger, message and `request_id`; the default stays plain text for a terminal.
Each request takes the proxy's `X-Request-ID` when it is a plausible id, else a new one; it is
sent back in the response, put in the header of every task the request enqueues
(`webapp.infra.queue`), and set again in the worker while that task runs, so one grep finds a
report's whole path.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

from flask import Flask, Response, request
from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


def current_id() -> str | None:
    """The request id of the work being done (a request, or a task it enqueued)."""
    return _current.get()


def set_id(value: str | None) -> Any:
    """Set the current id (None clears it); returns the token to reset it."""
    return _current.set(value)


def reset_id(token: Any) -> None:
    """Back to the id before `set_id`."""
    _current.reset(token)


def accept_id(given: str | None) -> str:
    """The caller's id when it looks like one (no log injection), else a new one."""
    return given if given and _ID.fullmatch(given) else uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or "-") on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


def configure(log_format: str) -> None:
    """Root logging in the chosen format ("json" or "text"), with the request id."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "phananh", False)]:
        root.removeHandler(old)
    handler.phananh = True  # type: ignore[attr-defined]  # ours, replaced on reconfiguration
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    """Configure logging, and give every request its id (kept in the response header)."""
    configure(app.config["LOG_FORMAT"])

    @app.before_request
    def _take_request_id() -> None:
        set_id(accept_id(request.headers.get(HEADER)))

    @app.after_request
    def _send_request_id(response: Response) -> Response:
        request_id = current_id()
        if request_id:
            response.headers[HEADER] = request_id
        return response

    @app.teardown_request
    def _forget_request_id(_error: BaseException | None) -> None:
        set_id(None)
