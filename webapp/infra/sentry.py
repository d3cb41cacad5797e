"""Unhandled errors to Sentry (or GlitchTip, which speaks its protocol) when SENTRY_DSN is set.

One `init_app` serves the web, the workers and the beat (they all build the Flask app). What
leaves the province is the error and where it happened, never a resident's words or contact:
no request bodies, cookies, query strings, local variables or source lines; the URL is the
route's pattern (`/t/<token>`, not the private link itself); SQL parameters are cut from error
messages and what is left goes through the same scrubber as public texts (phones, e-mails).
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, has_request_context, request

_SAFE_HEADERS = frozenset({"user-agent", "accept-language", "content-type", "x-request-id"})
_SQL_PARAMETERS_RE = re.compile(r"\[parameters: .*?\](?=\n|$|\s*\()", re.DOTALL)


def _clean(text: str) -> str:
    from webapp.services.intake.scrub import scrub

    return scrub(_SQL_PARAMETERS_RE.sub("[parameters: hidden]", text))


def before_send(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    """Strip what could identify a resident from an event before it leaves."""
    req = event.get("request")
    if isinstance(req, dict):
        for key in ("data", "cookies", "query_string", "env"):
            req.pop(key, None)
        rule = request.url_rule if has_request_context() else None
        req["url"] = rule.rule if rule is not None else "(hidden)"
        headers = req.get("headers") or {}
        req["headers"] = {k: v for k, v in headers.items() if k.lower() in _SAFE_HEADERS}
    for exception in (event.get("exception") or {}).get("values") or []:
        if isinstance(exception.get("value"), str):
            exception["value"] = _clean(exception["value"])
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        logentry.pop("params", None)
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = _clean(logentry[key])
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        if isinstance(crumb.get("message"), str):
            crumb["message"] = _clean(crumb["message"])
        crumb.pop("data", None)
    return event


def init_app(app: Flask) -> None:
    """Start the Sentry SDK with the Flask and Celery integrations; nothing without a DSN."""
    dsn = app.config["SENTRY_DSN"]
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=app.config["SENTRY_ENVIRONMENT"],
        integrations=[FlaskIntegration(), CeleryIntegration()],
        include_local_variables=False,
        include_source_context=False,  # file and line are enough; no code lines travel
        max_request_body_size="never",
        traces_sample_rate=app.config["SENTRY_TRACES_SAMPLE_RATE"],
        before_send=before_send,  # type: ignore[arg-type]
    )
