"""Thin typed HTTP client for the Rasa NLU server (POST /model/parse)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx

from nlu.intents import CATEGORY_CODES


class NluError(Exception):
    """The NLU server answered something the client cannot use."""


class NluUnavailable(NluError):
    """The NLU server could not be reached (or kept failing) after the retries."""


@dataclass(frozen=True)
class NluResult:
    """What the classifier made of one message."""

    intent: str
    confidence: float
    category: str | None
    is_report: bool
    ranking: list[tuple[str, float]] = field(default_factory=list)
    entities: dict[str, list[str]] = field(default_factory=dict)

    @property
    def category_ranking(self) -> list[tuple[str, float]]:
        """The ranking restricted to the 16 category codes (for triage suggestions)."""
        return [(name, conf) for name, conf in self.ranking if name in CATEGORY_CODES]

    @classmethod
    def from_rasa(cls, payload: dict[str, Any]) -> NluResult:
        """Build a result from the JSON body of Rasa's /model/parse."""
        intent = payload.get("intent") or {}
        name = str(intent.get("name") or "")
        confidence = float(intent.get("confidence") or 0.0)
        ranking = [
            (str(item["name"]), float(item.get("confidence") or 0.0))
            for item in payload.get("intent_ranking") or []
            if item.get("name")
        ]
        entities: dict[str, list[str]] = {}
        for entity in payload.get("entities") or []:
            kind, value = entity.get("entity"), entity.get("value")
            if not kind or value is None:
                continue
            values = entities.setdefault(str(kind), [])
            if str(value) not in values:
                values.append(str(value))
        is_report = name in CATEGORY_CODES
        return cls(
            intent=name,
            confidence=confidence,
            category=name if is_report else None,
            is_report=is_report,
            ranking=ranking,
            entities=entities,
        )


EMPTY_RESULT = NluResult(intent="", confidence=0.0, category=None, is_report=False)


class NluClient:
    """Client of one Rasa server; retries connection errors and 5xx answers with backoff."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 3.0,
        retries: int = 2,
        *,
        backoff: float = 0.2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> NluClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._http.close()

    def parse(self, text: str) -> NluResult:
        """Classify a message; raise NluUnavailable when the server cannot be reached."""
        if not text or not text.strip():
            return EMPTY_RESULT
        response = self._request("POST", "/model/parse", json={"text": text})
        if response.status_code != 200:
            raise NluError(f"NLU server answered {response.status_code}: {response.text[:200]}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise NluError("NLU server answered with a body that is not JSON") from exc
        return NluResult.from_rasa(payload)

    def ping(self) -> bool:
        """True when the server answers its root endpoint (no retries)."""
        try:
            response = self._http.get("/")
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def status(self) -> dict[str, Any]:
        """The server's /status body (loaded model and fingerprint)."""
        response = self._request("GET", "/status")
        if response.status_code != 200:
            raise NluError(f"NLU server answered {response.status_code} to /status")
        return response.json()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        last_error = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code >= 500:
                last_error = f"HTTP {response.status_code}"
                continue
            return response
        raise NluUnavailable(
            f"NLU server at {self.base_url} unavailable after {self.retries + 1} attempts "
            f"({last_error})"
        )
