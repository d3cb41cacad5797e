"""Privacy fixtures: the fake Zalo OA of the bot tests (ZNS)."""

from tests.bot.conftest import fake_zalo  # noqa: F401  (re-exported fixture)
