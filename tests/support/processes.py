"""Real worker and broker processes for integration tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


def worker_env(app_config: dict, **extra: str) -> dict[str, str]:
    """Environment for a worker process talking to the test database and broker."""
    env = dict(os.environ)
    env.update(
        APP_ENV="testing",
        DATABASE_URL=app_config["SQLALCHEMY_DATABASE_URI"],
        CELERY_BROKER_URL=app_config["CELERY_BROKER_URL"],
        CELERY_QUEUE=app_config["CELERY_QUEUE"],
        UPLOAD_DIR=app_config["UPLOAD_DIR"],
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


class Worker:
    """A `celery worker` subprocess in its own process group (so kill -9 takes it whole); it
    takes every kind of work unless the env's WORKER_QUEUES names some."""

    def __init__(self, env: dict[str, str], concurrency: int = 2, log: Path | None = None):
        self.env = env
        self.concurrency = concurrency
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> Worker:
        """Start the worker and return once it has connected."""
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.app",
                "worker",
                "--pool=prefork",
                f"--concurrency={self.concurrency}",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill9(self) -> None:
        """SIGKILL the worker and its children at once, as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        """Stop gracefully (or kill after a while)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill9()


class Beat:
    """A `celery beat` with the leader scheduler, in its own process group."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str) -> None:
        self.env, self.name = env, name
        self.log = workdir / f"beat-{name}.log"
        self.schedule = workdir / f"beat-{name}.schedule"
        self.proc: subprocess.Popen | None = None

    def start(self) -> Beat:
        out = open(self.log, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.app", "beat", "--loglevel=INFO",
             f"--schedule={self.schedule}", "-S", "workers.leader:LeaderScheduler"],
            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        return self

    @property
    def sent(self) -> int:
        """How many sweeps this beat has sent."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text.count("Sending due task sweep")

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


class RedisServer:
    """A private redis-server on a free port that a test may stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The broker URL."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start and wait until it answers."""
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        for _ in range(100):
            try:
                if redis.Redis(port=self.port).ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Stop it (queued messages are lost, as when a broker without persistence dies)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def wait_until(predicate, timeout: float, interval: float = 0.5) -> bool:
    """Poll until the predicate is true or the time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
