"""A small stand-in for the Rasa server (POST /model/parse, GET /status) on 127.0.0.1,
for classification and worker tests: keyword answers, adjustable confidence and delay,
and an off switch to simulate an NLU outage. The real Rasa server is tested in tests/nlu."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEYWORDS = {
    "đèn": "street_lighting",
    "rác": "waste",
    "ổ gà": "road_damage",
    "ngập": "drainage_flooding",
    "cây": "trees",
    "karaoke": "noise",
    "lấn chiếm": "encroachment",
    "xin chào": "greet",
}


class FakeRasa:
    """Start with `with FakeRasa() as rasa:`; `rasa.url` is its base URL."""

    def __init__(self, delay: float = 0.0, confidence: float = 0.93) -> None:
        self.delay = delay
        self.confidence = confidence
        self.available = True
        self.calls = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _json(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # http.server API
                if not fake.available:
                    self._json(503, {"status": "unavailable"})
                else:
                    self._json(200, {"model_file": "fake.tar.gz", "num_active_training_jobs": 0})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                text = json.loads(self.rfile.read(length) or b"{}").get("text", "")
                if not fake.available:
                    self._json(503, {"error": "down"})
                    return
                fake.calls += 1
                if fake.delay:
                    time.sleep(fake.delay)
                self._json(200, fake.parse(text))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def parse(self, text: str) -> dict:
        """Rasa's answer for a text: the first keyword found, else `other` at low confidence."""
        lowered = text.lower()
        intent, confidence = "other", 0.3
        for word, name in KEYWORDS.items():
            if word in lowered:
                intent, confidence = name, self.confidence
                break
        ranking = [{"name": intent, "confidence": confidence}]
        ranking += [{"name": "other", "confidence": round(1 - confidence, 3)}]
        return {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": ranking,
            "entities": [],
        }

    def __enter__(self) -> FakeRasa:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
