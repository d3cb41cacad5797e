"""Fixtures for the bot tests: a fake classifier and a chat driving the real dialog."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from flask import Flask

from bot.dialog import Dialog
from tests.bot.chat import Chat, FakeClassifier
from tests.support import fake_zalo as zalo_fake
from tests.support.fake_telegram import TOKEN, FakeTelegram
from tests.support.fake_zalo import FakeZalo


@pytest.fixture()
def classifier() -> FakeClassifier:
    """A fake NLU."""
    return FakeClassifier()


@pytest.fixture()
def dialog(classifier: FakeClassifier) -> Dialog:
    """The real dialog with the fake NLU."""
    return Dialog(classifier)


@pytest.fixture()
def chat(ctx: Flask, dialog: Dialog) -> Iterator[Chat]:
    """A Telegram resident chatting with the dialog inside an app context."""
    yield Chat(dialog)


class PollingBot:
    """The real Telegram application polling a fake Bot API, in a background thread."""

    def __init__(self, flask_app: Flask, dialog: Dialog):
        self.flask_app = flask_app
        self.dialog = dialog
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.error: BaseException | None = None
        self.loop_thread: int | None = None

    async def _main(self) -> None:
        from bot.telegram_adapter import build_application

        self.loop_thread = threading.get_ident()
        try:
            application = build_application(self.flask_app, self.dialog)
            async with application:
                await application.start()
                assert application.updater is not None
                await application.updater.start_polling(poll_interval=0.0, timeout=1)
                self._ready.set()
                while not self._stop.is_set():
                    await asyncio.sleep(0.05)
                await application.updater.stop()
                await application.stop()
        except BaseException as error:  # surfaced by stop()
            self.error = error
            self._ready.set()

    def start(self) -> PollingBot:
        """Start polling and wait until it runs."""
        self._thread.start()
        assert self._ready.wait(20), "the bot did not start"
        assert self.error is None, self.error
        return self

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        self._thread.join(20)
        assert self.error is None, self.error


@pytest.fixture()
def fake_telegram(app: Flask) -> Iterator[FakeTelegram]:
    """A fake Bot API, with the app pointed at it."""
    with FakeTelegram() as fake:
        saved = {k: app.config[k] for k in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL")}
        app.config.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=fake.base_url)
        yield fake
        app.config.update(saved)


@pytest.fixture()
def telegram_bot(app: Flask, dialog: Dialog, fake_telegram: FakeTelegram) -> Iterator[PollingBot]:
    """The Telegram adapter polling the fake."""
    bot = PollingBot(app, dialog).start()
    yield bot
    bot.stop()


@pytest.fixture()
def fake_zalo(app: Flask) -> Iterator[FakeZalo]:
    """A fake Zalo OA, with the app pointed at it and holding its first token pair."""
    keys = (
        "ZALO_APP_ID",
        "ZALO_APP_SECRET",
        "ZALO_OA_SECRET_KEY",
        "ZALO_API_BASE_URL",
        "ZALO_OAUTH_BASE_URL",
        "ZALO_ACCESS_TOKEN",
        "ZALO_REFRESH_TOKEN",
    )
    with FakeZalo() as fake:
        saved = {k: app.config[k] for k in keys}
        app.config.update(
            ZALO_APP_ID=zalo_fake.APP_ID,
            ZALO_APP_SECRET=zalo_fake.APP_SECRET,
            ZALO_OA_SECRET_KEY=zalo_fake.OA_SECRET_KEY,
            ZALO_API_BASE_URL=fake.url,
            ZALO_OAUTH_BASE_URL=fake.url,
            ZALO_ACCESS_TOKEN="access-1",
            ZALO_REFRESH_TOKEN="refresh-1",
        )
        yield fake
        app.config.update(saved)
