"""`python -m bot telegram` as a real process: kill -9 mid-dialog, restart, same dialog."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fake_nlu import FakeRasa
from tests.support.fake_telegram import TOKEN, FakeTelegram
from webapp.extensions import db
from webapp.services.intake.reports import get_by_code

ROOT = Path(__file__).resolve().parents[2]
USER = 4242


class BotProcess:
    """The bot in its own process group, its output in a log file."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env = env
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> BotProcess:
        """Start `python -m bot telegram`."""
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "telegram"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill9(self) -> None:
        """SIGKILL, as a crash or an OOM kill would."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture()
def rasa():
    with FakeRasa() as server:
        yield server


def test_killing_the_bot_mid_dialog_then_restarting_continues_it(app, app_config, rasa, tmp_path):
    with FakeTelegram() as fake:
        env = dict(os.environ)
        env.update(
            APP_ENV="testing",
            DATABASE_URL=app_config["SQLALCHEMY_DATABASE_URI"],
            UPLOAD_DIR=app_config["UPLOAD_DIR"],
            CELERY_BROKER_URL="memory://",  # the classify task is not this test's business
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=fake.base_url,
            RASA_URL=rasa.url,
            NLU_RETRIES="0",
            PYTHONPATH=str(ROOT),
        )
        log = tmp_path / "bot.log"
        bot = BotProcess(env, log).start()
        try:
            fake.send_text(USER, "/baocao")
            fake.wait_for_text(USER, "mô tả sự việc", timeout=60)
            fake.send_text(USER, "Rác thải chất đống bốc mùi ở đầu kiệt 12 Bạch Đằng")
            fake.wait_for_text(USER, "ảnh chụp hiện trường", timeout=30)
            bot.kill9()

            # The resident carries on while the bot is down; the message waits at Telegram.
            fake.send_text(USER, "bo qua")
            bot = BotProcess(env, log).start()
            fake.wait_for_text(USER, "Sự việc ở đâu", timeout=60)
            fake.send_location(USER, 16.0702, 108.2249)
            question = fake.wait_for_text(USER, "Có phải phản ánh về", timeout=30)
            assert question["text"] == "Có phải phản ánh về: Rác thải?", "the NLU's guess"
            assert rasa.calls, "the NLU server was asked"
            choices = fake.buttons(question)
            fake.press(USER, choices["Rác thải"])
            summary = fake.wait_for_text(USER, "kiểm tra lại", timeout=30)
            assert "Rác thải chất đống bốc mùi" in summary["text"], "the text sent before the kill"
            fake.press(USER, fake.buttons(summary)["✅ Gửi phản ánh"])
            done = fake.wait_for_text(USER, "Mã phản ánh của bạn", timeout=30)
        finally:
            bot.stop()

        code = re.search(r"PA-\d{4}-\d{6}", done["text"]).group()
        with app.app_context():
            report = get_by_code(code)
            assert report.description == "Rác thải chất đống bốc mùi ở đầu kiệt 12 Bạch Đằng"
            assert report.category_hint == "waste" and report.unit_code is not None
            db.session.remove()
        texts = [m["text"] for m in fake.messages_to(USER)]
        assert sum("ảnh chụp hiện trường" in t for t in texts) == 1, "nothing answered twice"
