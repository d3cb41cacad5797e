"""Fixtures of the NLU tests: fake Rasa servers. The real one (`rasa_server_url`,
session-scoped) lives in tests/conftest.py so integration tests can share it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from nlu_fakes import Answer, FakeRasa


@pytest.fixture
def fake_rasa() -> Iterator[Callable[[list[Answer]], FakeRasa]]:
    """Start fake Rasa servers answering from a script; all stopped after the test."""
    servers: list[FakeRasa] = []

    def start(answers: list[Answer]) -> FakeRasa:
        server = FakeRasa(answers).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()
