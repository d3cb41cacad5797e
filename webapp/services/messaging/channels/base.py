"""What every channel shares: the sender interface, its error, and the messengers' HTTP."""

from __future__ import annotations

from typing import ClassVar

import httpx
from flask import current_app

from webapp.models import OutboxMessage

# Rows of {"label", "payload"} under a message; each messenger draws them its own way.
Buttons = list[list[dict[str, str]]]
DOWNLOAD_LIMIT = 25 * 1024 * 1024


class SendError(Exception):
    """Delivery failed; the message is retried later."""


class Undeliverable(SendError):
    """This channel cannot carry this message at all (outside a window, no verified phone, not
    set up, out of budget): no retry here; the outbox tries the resident's next way."""


class Sender:
    """Delivers an outbox message on one channel; raises SendError (or any error) on failure."""

    channel: ClassVar[str]

    def send(self, message: OutboxMessage) -> None:
        """Deliver or raise."""
        raise NotImplementedError


def http_timeout() -> float:
    """Seconds a call to a messenger's API may take (MESSENGER_TIMEOUT)."""
    return float(current_app.config["MESSENGER_TIMEOUT"])


def download(url: str, *, limit: int = DOWNLOAD_LIMIT) -> bytes:
    """Fetch a file a messenger points to (an image the resident sent), up to `limit` bytes."""
    with (
        httpx.Client(timeout=http_timeout(), follow_redirects=True) as client,
        client.stream("GET", url) as response,
    ):
        response.raise_for_status()
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise SendError(f"file at {url} is larger than {limit} bytes")
            chunks.append(chunk)
    return b"".join(chunks)
