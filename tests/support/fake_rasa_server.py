"""FakeRasa (tests/support/fake_nlu.py) as a process of its own on a given port: the Rasa
replicas of the cluster's `--fake-nlu` mode, which a test can SIGKILL and start again.

    python -m tests.support.fake_rasa_server PORT
"""

from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer

from tests.support.fake_nlu import FakeRasa


def main(argv: list[str]) -> None:
    """Serve FakeRasa's answers on 127.0.0.1:PORT until killed."""
    port = int(argv[0])
    fake = FakeRasa()
    handler = fake.server.RequestHandlerClass
    fake.server.server_close()  # FakeRasa binds a free port; this process serves a fixed one
    fake.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    fake.url = f"http://127.0.0.1:{port}"
    print(f"fake Rasa on {fake.url}", flush=True)
    fake.server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
