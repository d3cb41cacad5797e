"""Limits on what one client can cost: Flask-Limiter per address, `limits` per identity.

Routes carry Flask-Limiter decorators keyed on the client address (`client_address`, an
IPv6 client counted by its /64, since one phone holds a whole prefix). Intake also counts
per identity (messenger id, phone, e-mail) with `hit_identity`, in the same storage, so a
resident who switches address is still one resident, and the bots (which call intake without
an HTTP request of the resident's) get the same rule. The storage is Redis when
RATELIMIT_STORAGE_URI says so and memory in the embedded default; RATELIMIT_ENABLED=false
switches every limit off (load tests).

Behind a reverse proxy, werkzeug's ProxyFix reads X-Forwarded-For, but it trusts a fixed
number of hops whoever sent them; `TrustedProxies` applies it only to requests that come from
a proxy named in TRUSTED_PROXIES, so the client is the nearest address that is not such a
proxy (nginx's `real_ip_recursive`) and nobody else can choose their own address.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, request
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.errors import DomainError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


class RateLimited(DomainError):
    """Too many requests from one client or identity; carries Retry-After in seconds."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, what: str = "request"):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(self._text(what, minutes))
        self.retry_after = max(1, int(retry_after))

    @staticmethod
    def _text(what: str, minutes: int) -> Any:
        """What was refused ("request", "report", "signin") → the catalog text saying so."""
        if what == "report":
            return _l(
                "Bạn đã gửi nhiều phản ánh trong thời gian ngắn. Vui lòng gửi tiếp sau khoảng "
                "%(minutes)s phút; nếu việc khẩn cấp, hãy gọi đường dây nóng 1022. Cảm ơn bạn!",
                minutes=minutes,
            )
        if what == "signin":
            return _l(
                "Bạn đã đăng nhập sai nhiều lần. Vui lòng thử lại sau khoảng %(minutes)s phút.",
                minutes=minutes,
            )
        return _l(
            "Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau khoảng %(minutes)s phút.",
            minutes=minutes,
        )


def _network_key(address: str | None) -> str:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address() -> str:
    """The client's address as limits count it (an IPv6 client by its /64)."""
    return _network_key(request.remote_addr)


# Routes where a resident files a report (their refusal speaks of reports and the hotline).
INTAKE_ENDPOINTS = frozenset({"public.submit", "api.create_report"})

limiter = Limiter(
    key_func=client_address,
    strategy="moving-window",
    headers_enabled=True,
)


def limit(setting: str, **kwargs: Any) -> Callable[..., Any]:
    """A limit read from a setting when the request comes (tunable without code).

    Every route under the same setting draws on one budget per client: looking reports up by
    the API, the page or the lookup box counts once, whichever way codes are counted.
    """
    return limiter.shared_limit(
        lambda: current_app.config[setting], scope=setting.lower(), **kwargs
    )


def _active() -> bool:
    return limiter.enabled and current_app.config.get("RATELIMIT_ENABLED", True)


def hit_identity(
    scope: str, key: str, setting: str = "RATELIMIT_INTAKE_IDENTITY", what: str = "report"
) -> None:
    """Count one use by an identity; raise RateLimited when one of its limits is spent."""
    if not _active():
        return
    strategy = limiter.limiter
    for item in parse_many(current_app.config[setting]):
        if not strategy.hit(item, scope, key):
            reset, _remaining = strategy.get_window_stats(item, scope, key)
            raise RateLimited(int(reset - time.time()) + 1, what)


def retry_after(scope: str, key: str, setting: str) -> int:
    """Seconds until one more use by this identity passes every limit (0: now)."""
    if not _active():
        return 0
    strategy = limiter.limiter
    waits = [
        int(strategy.get_window_stats(item, scope, key)[0] - time.time()) + 1
        for item in parse_many(current_app.config[setting])
        if not strategy.test(item, scope, key)
    ]
    return max(waits, default=0)


class TrustedProxies:
    """WSGI middleware: werkzeug's ProxyFix, applied only to requests from named proxies.

    The number of hops ProxyFix trusts is counted per request: the proxy that connected, plus
    the trailing X-Forwarded-For entries that are themselves trusted proxies.
    """

    def __init__(self, wsgi_app: WSGIApplication, proxies: Iterable[str]) -> None:
        self.wsgi_app = wsgi_app
        self.networks = [ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p]
        self._fixers: dict[int, ProxyFix] = {}

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def _fixer(self, hops: int) -> ProxyFix:
        if hops not in self._fixers:
            self._fixers[hops] = ProxyFix(self.wsgi_app, x_for=hops, x_proto=1)
        return self._fixers[hops]

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not (self.networks and self._trusted(environ.get("REMOTE_ADDR", ""))):
            return self.wsgi_app(environ, start_response)
        chain = [a.strip() for a in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        chain = [a for a in chain if a]
        hops = 1
        while hops < len(chain) and self._trusted(chain[-hops]):
            hops += 1
        try:
            ipaddress.ip_address(chain[-hops])
        except (IndexError, ValueError):
            return self.wsgi_app(environ, start_response)  # no usable address: the proxy's
        return self._fixer(hops)(environ, start_response)


def init_app(app: Flask) -> None:
    """Storage, switches, the trusted proxies and the 429 answer."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    enabled = bool(app.config.get("RATELIMIT_ENABLED", True))

    # Registered before Flask-Limiter's own hook so that it runs after it: Flask-Limiter puts
    # Retry-After on every answer; it belongs only on refusals (429, 503).
    @app.after_request
    def _retry_after_on_refusals_only(response: Response) -> Response:
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        return response

    # Flask-Limiter builds no storage when it starts disabled; build it always, then switch.
    app.config["RATELIMIT_ENABLED"] = True
    limiter.init_app(app)
    limiter.enabled = app.config["RATELIMIT_ENABLED"] = enabled
    proxies = [p for p in (app.config.get("TRUSTED_PROXIES") or "").split(",") if p.strip()]
    if proxies:
        # Flask's documented way to wrap its WSGI app; its typing declares a method.
        app.wsgi_app = TrustedProxies(app.wsgi_app, proxies)  # type: ignore[method-assign]

    @app.errorhandler(RateLimitExceeded)
    def too_many(error: RateLimitExceeded) -> Response:
        from webapp.http_errors import render_domain_error

        current = limiter.current_limit
        retry = int(current.reset_at - time.time()) + 1 if current else 60
        what = "report" if request.endpoint in INTAKE_ENDPOINTS else "request"
        return render_domain_error(RateLimited(retry, what))
