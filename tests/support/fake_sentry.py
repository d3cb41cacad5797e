"""A stand-in for Sentry's ingestion endpoint on 127.0.0.1: it stores every envelope the SDK
sends (`POST /api/<project>/envelope/`, plain, gzip or brotli) and answers 200 as Sentry does."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeSentry:
    """`with FakeSentry() as sentry:`; `sentry.dsn` for SENTRY_DSN, `sentry.text()` to read."""

    def __init__(self) -> None:
        self.envelopes: list[bytes] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":  # the SDK's choice when brotli is installed
                    import brotli

                    body = brotli.decompress(body)
                if self.path.endswith("/envelope/"):
                    fake.envelopes.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://public@127.0.0.1:{self._server.server_address[1]}/1"

    def text(self) -> str:
        """Everything received, as one text."""
        return "\n".join(body.decode("utf-8", "replace") for body in self.envelopes)

    def __enter__(self) -> FakeSentry:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
