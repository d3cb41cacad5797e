"""Security headers on every response, through flask-talisman.

A strict Content-Security-Policy (no inline script or style anywhere: pages load their
scripts from `static/js/` and pass data in `data-*` attributes or JSON blocks), no framing,
no MIME sniffing, a referrer that never carries a path to another site, and HSTS in
production only. Outside production nothing is forced to HTTPS and cookie flags stay as the
settings say (`make run` and the tests serve plain HTTP).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask_talisman import DENY, Talisman
from werkzeug.datastructures import Headers

HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
REFERRER_POLICY = "strict-origin-when-cross-origin"
# Only the report form asks for the device's position; nothing uses camera or microphone (a
# photo is picked through the file input).
PERMISSIONS_POLICY = {
    "browsing-topics": "()",
    "camera": "()",
    "microphone": "()",
    "geolocation": "(self)",
    "payment": "()",
}


class _Talisman(Talisman):
    """Talisman that keeps a Referrer-Policy a view chose itself.

    The resident's secret tracking link (`/t/<token>`) and the e-mail confirmation link send
    `no-referrer` (webapp/blueprints/public.py); plain Talisman would overwrite it.
    """

    def _set_referrer_policy_headers(self, headers: Headers) -> None:
        headers.setdefault("Referrer-Policy", self.referrer_policy)


def tile_source(template: str) -> str | None:
    """The CSP source of a Leaflet tile URL template, None for the site's own tiles.

    `https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png` gives
    `https://*.tile.openstreetmap.org`: a placeholder in the host becomes a wildcard.
    """
    parts = urlsplit(template.strip())
    if not parts.netloc:
        return None  # a path on this site: 'self'
    if parts.scheme not in ("http", "https", ""):
        raise ValueError(f"MAP_TILE_URL must be an http(s) URL template: {template!r}")
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError as error:  # a templated or malformed port
        raise ValueError(f"MAP_TILE_URL has a port CSP cannot name: {template!r}") from error
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label]
    if templated:
        labels = ["*", *labels[templated[-1] + 1 :]]
    wildcard = labels[0] == "*" and len(labels) > 1
    if not all(HOST_LABEL.fullmatch(x) for x in labels[1 if wildcard else 0 :]):
        raise ValueError(f"MAP_TILE_URL has a host CSP cannot name: {template!r}")
    source = ".".join(labels) + (f":{port}" if port is not None else "")
    return f"{parts.scheme}://{source}" if parts.scheme else source


def content_security_policy(config: Mapping[str, Any]) -> dict[str, str]:
    """The site's CSP: everything from this origin, plus the map tiles' host for images."""
    images = ["'self'", "data:", "blob:"]
    tiles = tile_source(config.get("MAP_TILE_URL") or "")
    if tiles:
        images.append(tiles)
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def init_app(app: Flask) -> None:
    """Send the security headers on every response of this app."""
    production = app.config.get("APP_ENV") == "production"
    # One Talisman per app: it keeps its options on itself, and tests build several apps.
    app.extensions["talisman"] = _Talisman(
        app,
        # TLS ends at the reverse proxy, which redirects; FORCE_HTTPS when nothing else does.
        force_https=bool(app.config.get("FORCE_HTTPS", False)),
        strict_transport_security=production,
        frame_options=DENY,
        content_security_policy=content_security_policy(app.config),
        referrer_policy=REFERRER_POLICY,
        permissions_policy=PERMISSIONS_POLICY,
        # The cookie flags are the settings' (secure in production only): Talisman would
        # otherwise mark the session cookie secure and break sign-in over plain HTTP.
        session_cookie_secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
        session_cookie_http_only=bool(app.config.get("SESSION_COOKIE_HTTPONLY", True)),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )
