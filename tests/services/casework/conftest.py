"""Casework fixtures: classification against a stand-in Rasa server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_nlu import FakeRasa


@pytest.fixture()
def rasa(app) -> Iterator[FakeRasa]:
    """A keyword Rasa on 127.0.0.1 as the app's NLU server (no retries)."""
    with FakeRasa() as fake:
        app.extensions.pop("nlu_client", None)
        old = app.config["RASA_URL"]
        app.config["RASA_URL"] = fake.url
        app.config["NLU_RETRIES"] = 0
        yield fake
        app.config["RASA_URL"] = old
        app.extensions.pop("nlu_client", None)
