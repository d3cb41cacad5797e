"""No well-known secrets: every process refuses to start without a real SECRET_KEY (except in
tests), `make run` writes a random one once, and a forged session cookie opens nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface

from webapp import create_app

ROOT = Path(__file__).resolve().parent.parent
# The entry points of the web, worker/beat (Celery loads workers.app) and bot processes.
PROCESSES = {
    "web": ["-c", "import wsgi"],
    "worker and beat": ["-c", "import workers.app"],
    "bot": ["-m", "bot", "telegram"],
}


def _env(instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "APP_ENV")}
    env.update(
        APP_ENV="development",
        INSTANCE_PATH=str(instance),
        DATABASE_URL=f"sqlite:///{instance / 'db.sqlite'}",
        CELERY_BROKER_URL="memory://",
        TELEGRAM_BOT_TOKEN="",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


@pytest.mark.parametrize("process", PROCESSES)
@pytest.mark.parametrize("key", [None, "dev-only-not-secret", "short"])
def test_every_process_refuses_a_missing_or_known_key(tmp_path, process, key):
    # Finding 1: the development default was a fixed string anyone could sign cookies with.
    extra = {"SECRET_KEY": key} if key else {}
    done = subprocess.run(
        [sys.executable, *PROCESSES[process]],
        env=_env(tmp_path, **extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "SECRET_KEY is missing, too short or well known" in done.stderr


def test_make_runs_key_is_random_written_once_and_reused(tmp_path):
    script = ROOT / "scripts" / "secret-key"
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path)}
    subprocess.run([script], env=env, check=True, capture_output=True)
    key_file = tmp_path / "secret_key"
    first = key_file.read_text().strip()
    assert len(first) >= 48 and oct(key_file.stat().st_mode & 0o777) == "0o600"
    subprocess.run([script], env=env, check=True, capture_output=True)
    assert key_file.read_text().strip() == first
    other = tmp_path / "other"
    subprocess.run([script], env={**env, "INSTANCE_PATH": str(other)}, check=True)
    assert (other / "secret_key").read_text().strip() != first
    # The web process starts with it (no SECRET_KEY in the environment).
    done = subprocess.run(
        [sys.executable, "-c", "import wsgi; print(len(wsgi.app.config['SECRET_KEY']))"],
        env=_env(tmp_path),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(len(first))


def test_only_testing_runs_without_a_key():
    for name in ("development", "production"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app(name if name != "production" else "development",
                       overrides={"SECRET_KEY": None, "APP_ENV": name})  # fmt: skip
    assert create_app("testing", overrides={"SECRET_KEY": "x" * 40}).config["APP_ENV"] == "testing"


def _forge(secret: str, data: dict) -> str:
    app = create_app("testing", overrides={"SECRET_KEY": secret})
    return SecureCookieSessionInterface().get_signing_serializer(app).dumps(data)


@pytest.mark.parametrize("secret", ["dev-only-not-secret", "the app's own key"])
def test_a_forged_admin_cookie_opens_nothing(app, secret):
    # Even with the real key (a leaked one), a cookie naming user 1 has no session behind it.
    key = app.config["SECRET_KEY"] if secret == "the app's own key" else secret
    cookie = _forge(key, {"_user_id": "1", "_fresh": True, "staff_session": "guessed"})
    client = app.test_client()
    client.set_cookie("session", cookie)
    resp = client.get("/bo/quan-tri/")
    assert resp.status_code == 302 and "/bo/login" in resp.headers["Location"]
