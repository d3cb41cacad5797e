"""Messaging fixtures: the fake Zalo OA of the bot tests."""

from tests.bot.conftest import fake_zalo  # noqa: F401  (re-exported fixture)
