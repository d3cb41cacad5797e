"""The production topology on 127.0.0.1 (deploy/README.md): haproxy (TLS) in front of two web
processes and two Rasa replicas, three workers sharing the kinds of work so that losing any
one loses no kind, two beats (one leads), SeaweedFS (S3), PostgreSQL (a throwaway database on
the running server), a private Redis, and a mail sink the agencies' e-mails go to.

Every app process gets the production settings (APP_ENV=production: secrets given, secure
cookies, TOTP for admins and IOC operators, JSON logs) from one environment, as
/etc/phananh/env gives them on real machines.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from deploy.cluster import database, haproxy
from deploy.cluster.procs import Service, free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
# Each kind of work is taken by two workers: losing any one worker loses no kind.
WORKER_KINDS = {
    "worker1": "intake,outbox,sweep",
    "worker2": "intake,exports,bot",
    "worker3": "outbox,sweep,exports,bot",
}
WEBS = ("web1", "web2")
RASAS = ("rasa1", "rasa2")
BEATS = ("beat1", "beat2")
IOC_EMAIL = "ioc@cluster.test"
# waitress (2.0 and later) deletes X-Forwarded-* headers unless told otherwise; the app reads
# them itself, only from TRUSTED_PROXIES (webapp/ratelimit.py), as the systemd unit says too.
WAITRESS_PROXY_HEADERS = ("--no-clear-untrusted-proxy-headers",)


@dataclass
class Options:
    """What `make cluster` and the tests choose; the timing defaults are production's."""

    port: int = 0  # haproxy's public HTTPS port (0: a free one)
    fake_nlu: bool = False  # FakeRasa processes instead of real Rasa servers
    workdir: Path | None = None  # logs, certificate, configs (default: instance/cluster-…)
    history_days: int = 0  # `flask demo seed --history-days`
    sweep_seconds: float = 60
    sweep_min_interval_seconds: float = 50
    beat_lease_seconds: float = 30
    heartbeat_seconds: float = 30
    requeue_after_seconds: float = 60
    web_threads: int = 8
    worker_concurrency: int = 4
    keep_database: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)


def _http_ok(url: str, **kwargs: Any) -> bool:
    return httpx.get(url, timeout=3, **kwargs).status_code == 200


class Cluster:
    """Start with `start()`, stop with `stop()` (or use it as a context manager)."""

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.workdir = Path(self.options.workdir or ROOT / "instance" / f"cluster-{stamp}")
        self.logs = self.workdir / "logs"
        self.services: dict[str, Service] = {}
        self.db_name: str | None = None
        self.database_url = ""
        self.env: dict[str, str] = {}
        self.ports: dict[str, int] = {}
        self._seaweed: Any = None
        self._mail: Any = None
        self.mailbox = self.workdir / "mail"  # a Maildir

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """The public address (haproxy, TLS with a self-signed certificate)."""
        return f"https://127.0.0.1:{self.ports['public']}"

    @property
    def stats_url(self) -> str:
        """haproxy's stats page."""
        return f"http://127.0.0.1:{self.ports['stats']}/"

    def web_url(self, name: str) -> str:
        """One web process, directly (plain HTTP, bypassing the proxy)."""
        return f"http://127.0.0.1:{self.ports[name]}"

    # ------------------------------------------------------------------ start

    def start(self) -> Cluster:
        """Everything, in dependency order; returns once every part answers."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        o = self.options
        names = ["public", "nlu", "stats", "redis", "smtp", *WEBS, *RASAS]
        self.ports = {name: free_port() for name in names}
        if o.port:
            self.ports["public"] = o.port
        self._start_backing_services()
        self.env = self._app_env()
        self._log("migrating and seeding the database (flask db upgrade, geo ensure, demo seed)")
        database.migrate_and_seed(self.env, self.logs / "setup.log", o.history_days)
        model = None if o.fake_nlu else self._rasa_model()
        for name in RASAS:
            self._add(self._rasa_service(name, model)).start(wait=False)
        for name in WEBS:
            self._add(self._web_service(name)).start(wait=False)
        for name, kinds in WORKER_KINDS.items():
            self._add(self._worker_service(name, kinds)).start(wait=False)
        for name in BEATS:
            self._add(self._beat_service(name)).start(wait=False)
        self._add(self._haproxy_service()).start(wait=False)
        self._log("waiting for every process to answer")
        for service in self.services.values():
            service.wait_ready()
        if not wait_until(self.all_servers_up, 120, 1):
            raise RuntimeError(f"haproxy does not see every server up: {self.server_states()}")
        if not wait_until(lambda: self.leading_beat() is not None, 120, 1):
            raise RuntimeError("no beat took the lease")
        (self.workdir / "cluster.json").write_text(json.dumps(self.info(), indent=2) + "\n")
        self._log(f"ready: {self.url}")

    def _start_backing_services(self) -> None:
        self._log(f"work directory {self.workdir}")
        self.db_name, self.database_url = database.create()
        self._log(f"database {self.db_name}")
        redis = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = [redis, "--port", str(self.ports["redis"]), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no"]
        self._add(
            Service("redis", argv, {}, self.logs / "redis.log", self.workdir, self._redis_ready)
        ).start()
        from tests.support import seaweed

        self._seaweed = seaweed.start(self.workdir / "seaweed")
        self._log(f"SeaweedFS S3 at {self._seaweed.endpoint}")
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox

        self._mail = Controller(
            Mailbox(self.mailbox), hostname="127.0.0.1", port=self.ports["smtp"]
        )
        self._mail.start()

    def _redis_ready(self, _service: Service) -> bool:
        import redis

        return bool(redis.Redis(port=self.ports["redis"], socket_timeout=1).ping())

    def _app_env(self) -> dict[str, str]:
        """The one environment of every app process: production settings, cluster addresses."""
        from cryptography.fernet import Fernet

        o, redis = self.options, f"redis://127.0.0.1:{self.ports['redis']}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
        env.update(
            APP_ENV="production",
            SECRET_KEY=secrets.token_urlsafe(48),
            TOTP_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=f"{redis}/0",
            RATELIMIT_STORAGE_URI=f"{redis}/1",
            SESSION_STORE_URL=f"{redis}/2",
            STORAGE_URL=self._seaweed.storage_url("cluster"),
            **self._seaweed.env(),
            RASA_URL=f"http://127.0.0.1:{self.ports['nlu']}",
            # A promoted model is loaded by each replica, not by whichever the proxy picks.
            NLU_RELOAD_URLS=",".join(f"http://127.0.0.1:{self.ports[n]}" for n in RASAS),
            TRUSTED_PROXIES="127.0.0.1",
            PUBLIC_BASE_URL=self.url,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(self.ports["smtp"]),
            IOC_EMAIL=IOC_EMAIL,
            INSTANCE_PATH=str(self.workdir / "instance"),
            UPLOAD_DIR=str(self.workdir / "uploads"),
            EXPORT_DIR=str(self.workdir / "exports"),
            SWEEP_SECONDS=str(o.sweep_seconds),
            SWEEP_MIN_INTERVAL_SECONDS=str(o.sweep_min_interval_seconds),
            BEAT_LEASE_SECONDS=str(o.beat_lease_seconds),
            HEARTBEAT_SECONDS=str(o.heartbeat_seconds),
            REQUEUE_AFTER_SECONDS=str(o.requeue_after_seconds),
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        env.update(o.extra_env)
        return env

    def _add(self, service: Service) -> Service:
        self.services[service.name] = service
        return service

    def _rasa_model(self) -> Path:
        from nlu import manage

        self._log("Rasa: building its environment and training the model if needed (cached)")
        manage.ensure_env()
        manage.train()
        return manage.current_model()  # a model the learning loop promoted, if any

    def _rasa_service(self, name: str, model: Path | None) -> Service:
        port, log = self.ports[name], self.logs / f"{name}.log"
        if model is None:
            argv = [sys.executable, "-m", "tests.support.fake_rasa_server", str(port)]
            env = {**self.env}
            return Service(name, argv, env, log, ROOT, self._rasa_ready, 30)
        from nlu import manage

        argv = manage.serve_command(port, model, host="127.0.0.1")
        return Service(
            name, argv, manage.rasa_environ(), log, manage.NLU_DIR, self._rasa_ready, 600
        )

    def _rasa_ready(self, service: Service) -> bool:
        answer = httpx.get(f"http://127.0.0.1:{self.ports[service.name]}/status", timeout=3)
        return answer.status_code == 200 and bool(answer.json().get("model_file"))

    def _web_service(self, name: str) -> Service:
        argv = [str(BIN / "waitress-serve"), f"--listen=127.0.0.1:{self.ports[name]}"]
        argv += [f"--threads={self.options.web_threads}", *WAITRESS_PROXY_HEADERS]
        argv += ["--call", "webapp:create_app"]
        return Service(
            name,
            argv,
            self.env,
            self.logs / f"{name}.log",
            ROOT,
            lambda s: _http_ok(f"{self.web_url(s.name)}/healthz"),
        )

    def _worker_service(self, name: str, kinds: str) -> Service:
        argv = [str(BIN / "celery"), "-A", "workers.app", "worker", f"--hostname={name}@cluster"]
        argv += ["--pool=threads", f"--concurrency={self.options.worker_concurrency}"]
        argv += ["--loglevel=INFO"]
        env = {**self.env, "WORKER_QUEUES": kinds}
        return Service(name, argv, env, self.logs / f"{name}.log", ROOT, self._worker_ready)

    def _worker_ready(self, service: Service) -> bool:
        """Its heartbeat was written after this start (the bootstep runs once it consumes)."""
        rows = database.query(
            self.database_url,
            "SELECT info->>'pid' FROM heartbeats WHERE name = %s",
            (f"worker:{service.name}@cluster",),
        )
        return bool(rows) and rows[0][0] == str(service.pid)

    def _beat_service(self, name: str) -> Service:
        argv = [str(BIN / "celery"), "-A", "workers.app", "beat", "--loglevel=INFO"]
        argv += ["-S", "workers.leader:LeaderScheduler"]
        argv += [f"--schedule={self.workdir / f'{name}.schedule'}"]
        return Service(
            name,
            argv,
            self.env,
            self.logs / f"{name}.log",
            ROOT,
            lambda s: "beat: Starting" in s.output(),
        )

    def _haproxy_service(self) -> Service:
        pem = haproxy.self_signed_pem(self.workdir / "cluster.pem")
        config = self.workdir / "haproxy.cfg"
        config.write_text(
            haproxy.render(
                public_port=self.ports["public"],
                nlu_port=self.ports["nlu"],
                stats_port=self.ports["stats"],
                pem=pem,
                servers={
                    "web": [(n, self.ports[n]) for n in WEBS],
                    "rasa": [(n, self.ports[n]) for n in RASAS],
                },
            )
        )
        haproxy.check(config)
        return Service(
            "haproxy",
            haproxy.command(config),
            {},
            self.logs / "haproxy.log",
            self.workdir,
            lambda _s: _http_ok(f"{self.url}/healthz", verify=False),
        )

    # ------------------------------------------------------------------ state

    def server_states(self) -> dict[str, str]:
        """haproxy's view: "web/web1" → UP, DOWN…"""
        return haproxy.server_states(self.stats_url)

    def all_servers_up(self) -> bool:
        """Whether haproxy sends traffic to every web process and Rasa replica."""
        states = self.server_states()
        wanted = [f"web/{n}" for n in WEBS] + [f"rasa/{n}" for n in RASAS]
        return all(states.get(name, "").startswith("UP") for name in wanted)

    def leading_beat(self) -> str | None:
        """The name of the beat holding the scheduler's lease now, if any."""
        rows = database.query(
            self.database_url,
            "SELECT holder FROM heartbeats WHERE name = 'beat-leader' AND expires_at > now()",
        )
        holder = rows[0][0] if rows else None
        if not holder:
            return None
        pid = holder.split(":")[1]
        return next((n for n in BEATS if str(self.services[n].pid) == pid), None)

    def info(self) -> dict[str, Any]:
        """What a person (or bench/load.py) needs to use the running cluster."""
        from webapp.services.administration.seed import DEMO_PASSWORD, DEMO_USERS

        return {
            "url": self.url,
            "stats_url": self.stats_url,
            "web_urls": {n: self.web_url(n) for n in WEBS},
            "nlu_url": f"http://127.0.0.1:{self.ports['nlu']}",
            "database_url": self.database_url,
            "workdir": str(self.workdir),
            "logs": str(self.logs),
            "mailbox": str(self.mailbox),
            "nlu": "fake" if self.options.fake_nlu else "rasa",
            "demo_password": DEMO_PASSWORD,
            "demo_logins": [(email, role.value) for email, _n, role, _a in DEMO_USERS],
            "pids": {n: s.pid for n, s in self.services.items()},
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    # ------------------------------------------------------------------ operations

    def kill(self, name: str) -> None:
        """SIGKILL one process (and its children)."""
        self._log(f"kill -9 {name} (pid {self.services[name].pid})")
        self.services[name].kill9()

    def restart(self, name: str, wait: bool = True) -> None:
        """Start a killed process again, the same way (same port, name, log)."""
        self._log(f"restart {name}")
        self.services[name].start(wait=wait)

    def supervise_once(self) -> list[str]:
        """Start again whatever died (systemd's Restart=always); returns what was restarted."""
        dead = [n for n, s in self.services.items() if not s.alive]
        for name in dead:
            self._log(f"{name} exited; starting it again (as systemd's Restart=always would)")
            self.services[name].start(wait=False)
        return dead

    def stop(self) -> None:
        """Stop every process (front to back), the mail sink, S3, Redis; drop the database."""
        order = ["haproxy", *WEBS, *BEATS, *WORKER_KINDS, *RASAS, "redis"]
        for name in order:
            if name in self.services:
                self.services[name].stop()
        if self._mail is not None:
            self._mail.stop()
            self._mail = None
        if self._seaweed is not None:
            self._seaweed.stop()
            self._seaweed = None
        if self.db_name and not self.options.keep_database:
            database.drop(self.db_name)
            self._log(f"dropped database {self.db_name}")
            self.db_name = None

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _log(self, message: str) -> None:
        print(f"[cluster {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
