"""Test helpers for tests/nlu: a tiny fake Rasa HTTP server and a free-port finder."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (status, body or None, delay in seconds) for one request.
Answer = tuple[int, dict | None, float]


def rasa_body(intent: str, confidence: float = 0.9, entities: list | None = None) -> dict:
    """A /model/parse body shaped like Rasa 3's."""
    runner_up = "waste" if intent != "waste" else "noise"
    return {
        "text": "…",
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": [
            {"name": intent, "confidence": confidence},
            {"name": runner_up, "confidence": 1 - confidence},
        ],
        "entities": entities or [],
    }


class FakeRasa:
    """Answers requests from a script (the last answer repeats); records what it got."""

    def __init__(self, answers: list[Answer]):
        self.answers = list(answers)
        self.requests: list[tuple[str, str, dict | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((self.command, self.path, body))
                index = min(len(fake.requests), len(fake.answers)) - 1
                status, payload, delay = fake.answers[index]
                if delay:
                    time.sleep(delay)
                data = json.dumps(payload or {}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeRasa:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
