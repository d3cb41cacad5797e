"""Processes of the cluster: each in its own process group (so SIGKILL takes it whole, children
included), its output appended to one log file, and started again the same way after a kill."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port nobody listens on on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    """Poll until the predicate holds or the time is up (a predicate that raises is false)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return True
        except Exception:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


@dataclass
class Service:
    """One process of the topology: how it is started, where it logs, what it is now."""

    name: str
    argv: Sequence[str]
    env: dict[str, str]
    log: Path
    cwd: Path
    # True once the process answers (its readiness check); None: nothing to wait for.
    ready: Callable[[Service], bool] | None = None
    ready_timeout: float = 120.0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    starts: int = 0
    log_offset: int = 0  # where this start's output begins in the log

    @property
    def pid(self) -> int | None:
        """The current process id (None when it is not running)."""
        return self.proc.pid if self.alive and self.proc else None

    @property
    def alive(self) -> bool:
        """Whether the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def start(self, wait: bool = True) -> Service:
        """Start it (appending to its log) and, with `wait`, return once it is ready."""
        if self.alive:
            return self
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            out.write(f"\n=== {self.name}: start {self.starts + 1} at {time.ctime()}\n".encode())
            out.flush()
            self.log_offset = out.tell()
            self.proc = subprocess.Popen(
                list(self.argv),
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.starts += 1
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Block until the readiness check passes; fail with the log's tail if it never does."""
        if self.ready is None:
            return
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            try:
                if self.ready(self):
                    return
            except Exception:  # not answering yet
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {self.ready_timeout:g} s: {self.tail()}")

    def output(self) -> str:
        """What the current process has written so far."""
        try:
            with open(self.log, "rb") as log:
                log.seek(self.log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def tail(self, chars: int = 3000) -> str:
        """The end of its log."""
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def kill9(self) -> None:
        """SIGKILL the whole process group at once, as a crash or the OOM killer would."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM the process group, SIGKILL after `grace` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill9()

    def restart(self, wait: bool = True) -> Service:
        """Start it again after a kill or a stop (same command, same ports, same log)."""
        self.stop()
        return self.start(wait=wait)
