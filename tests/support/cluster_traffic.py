"""What the cluster test does to the cluster and reads back from it: residents filing reports
with a photo through the proxy (each from an address of its own, never retried), the clock
moved so reminders and escalations fall due during the run, the sweep's heartbeat watched,
and the evidence read afterwards (haproxy's log, the mailbox, the photos of each process)."""

from __future__ import annotations

import contextlib
import itertools
import mailbox
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx

from deploy.cluster import database
from webapp.services.administration import history

# Central Đà Nẵng: most points fall in a ward (and are assigned), a few in the sea (triage).
AREA = (16.00, 108.15, 16.10, 108.25)


def source_address(index: int, block: int = 10) -> str:
    """A loopback address of its own for the index-th resident (127.<block>.x.y): the proxy
    appends it to X-Forwarded-For, and the app, trusting only 127.0.0.1, counts it as theirs."""
    return f"127.{block}.{index // 250 % 250}.{index % 250 + 1}"


def camera_jpeg(rng: random.Random, gps: tuple[float, float]) -> bytes:
    """A unique camera-like JPEG (640×480, ~50 KB) with the point in its EXIF."""
    from PIL import Image, ImageDraw

    from tests.fixtures.images import make_jpeg

    image = Image.effect_noise((640, 480), 30).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(10):
        x, y = rng.randrange(600), rng.randrange(440)
        box = (x, y, x + rng.randrange(10, 160), y + rng.randrange(10, 120))
        draw.rectangle(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    return make_jpeg(gps=gps, image=image, quality=85)


class Residents:
    """Report forms as residents fill them: the history's words, a point, one photo."""

    def __init__(self, seed: int = 48) -> None:
        self.rng = random.Random(seed)
        self.streets = history.load_streets("48")
        self.lock = threading.Lock()

    def form(self) -> tuple[dict[str, str], bytes]:
        """The fields and the photo of one report."""
        with self.lock:
            rng = self.rng
            street, _ward = rng.choice(self.streets)
            category = history.pick(rng, history.CATEGORY_MIX)
            lat, lon = rng.uniform(AREA[0], AREA[2]), rng.uniform(AREA[1], AREA[3])
            text = history.describe(rng, category, street, "Hải Châu")
            seed = rng.randrange(2**32)
        photo = camera_jpeg(random.Random(seed), (lat, lon))
        fields = {"description": text, "lat": f"{lat:.6f}", "lon": f"{lon:.6f}"}
        return fields, photo


@dataclass
class Outcome:
    """One submission as the resident saw it."""

    index: int
    started: float
    ended: float = 0.0
    status: int | None = None
    code: str | None = None
    request_id: str | None = None
    photos: list[str] = field(default_factory=list)
    error: str | None = None


class Traffic:
    """Residents filing reports through the proxy at `rate` a second (up to `concurrency` at
    once), each from its own address, never retried: a 201 is a promise, anything else is
    looked at afterwards."""

    def __init__(self, url: str, rate: float, concurrency: int = 6, block: int = 10) -> None:
        self.url, self.rate, self.concurrency, self.block = url, rate, concurrency, block
        self.residents = Residents()
        self.outcomes: list[Outcome] = []
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stopped = threading.Event()

    def submit(self, index: int) -> Outcome:
        """One report with one photo, on a connection from the resident's own address."""
        fields, photo = self.residents.form()
        outcome = Outcome(index, time.monotonic())
        transport = httpx.HTTPTransport(
            local_address=source_address(index, self.block), verify=False
        )
        try:
            with httpx.Client(transport=transport, timeout=120) as client:
                answer = client.post(
                    f"{self.url}/api/v1/reports",
                    data=fields,
                    files=[("photos", (f"IMG_{index:05d}.jpg", photo, "image/jpeg"))],
                )
            outcome.status = answer.status_code
            outcome.request_id = answer.headers.get("X-Request-ID")
            if answer.status_code == 201:
                body = answer.json()
                outcome.code = body["code"]
                outcome.photos = [url for p in body["photos"] for url in (p["web"], p["thumb"])]
        except httpx.HTTPError as error:
            outcome.error = f"{type(error).__name__}: {error}"
        outcome.ended = time.monotonic()
        with self.lock:
            self.outcomes.append(outcome)
        return outcome

    @property
    def created(self) -> int:
        """201s so far."""
        with self.lock:
            return sum(1 for o in self.outcomes if o.status == 201)

    @property
    def sent(self) -> int:
        """Submissions answered (or failed) so far."""
        with self.lock:
            return len(self.outcomes)

    def start(self, until: Callable[[int], bool]) -> Traffic:
        """Submit at the rate until `until(submitted)` holds; in the background."""

        def run() -> None:
            with ThreadPoolExecutor(self.concurrency) as pool:
                started, index = time.monotonic(), 0
                while not self.stopped.is_set() and not until(index):
                    pace = started + index / self.rate - time.monotonic()
                    if pace > 0:
                        time.sleep(pace)
                    # No more in flight than the pool runs: a slow cluster slows the residents.
                    while index - self.sent >= self.concurrency * 2:
                        time.sleep(0.05)
                    pool.submit(self.submit, index)
                    index += 1

        self.thread = threading.Thread(target=run, name="traffic", daemon=True)
        self.thread.start()
        return self

    def join(self, timeout: float = 1800) -> None:
        """Wait for every submission to be answered."""
        if self.thread:
            self.thread.join(timeout)


class SweepWatch(threading.Thread):
    """Polls the `sweep` heartbeat (written when a sweep ends) and keeps every distinct time."""

    def __init__(self, database_url: str, every: float = 2.0) -> None:
        super().__init__(name="sweep-watch", daemon=True)
        self.database_url, self.every = database_url, every
        self.seen: list[datetime] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                rows = database.query(
                    self.database_url, "SELECT seen_at FROM heartbeats WHERE name = 'sweep'"
                )
                if rows and (not self.seen or rows[0][0] != self.seen[-1]):
                    self.seen.append(rows[0][0])
            except Exception:
                pass
            self.halt.wait(self.every)

    def gaps(self, start: datetime, end: datetime) -> list[float]:
        """Seconds between consecutive sweeps, from `start` to `end`."""
        points = [start, *[s for s in self.seen if start <= s <= end], end]
        return [(b - a).total_seconds() for a, b in itertools.pairwise(points)]


class DeadlineMover(threading.Thread):
    """Every few seconds, brings the deadlines of every `share`-th assigned report close: its
    reminder is due now and its deadline `due_in` seconds later, so the sweep reminds and
    escalates reports all through the run (as a real province's clock would, compressed)."""

    def __init__(self, database_url: str, due_in: float, share: int = 3) -> None:
        super().__init__(name="deadline-mover", daemon=True)
        self.database_url, self.due_in, self.share = database_url, due_in, share
        self.moved = 0
        self.halt = threading.Event()

    def move(self) -> int:
        """One pass; returns how many reports it made due."""
        rows = database.query(
            self.database_url,
            "UPDATE reports SET remind_at = now() - interval '1 second',"
            " due_at = now() + make_interval(secs => %s)"
            " WHERE id IN (SELECT id FROM reports WHERE status = 'assigned'"
            " AND reminded_at IS NULL AND escalated_at IS NULL AND remind_at > now()"
            " AND id %% %s = 0 ORDER BY id LIMIT 200) RETURNING id",
            (self.due_in, self.share),
        )
        return len(rows)

    def run(self) -> None:
        while not self.halt.is_set():
            with contextlib.suppress(Exception):
                self.moved += self.move()
            self.halt.wait(5)


# ---------------------------------------------------------------------- evidence afterwards

# haproxy's log-format (deploy/haproxy.cfg): … frontend backend/server timers status bytes
# - - termination-state … "request" unique-id
_LOG_LINE = re.compile(
    r"^\S+ \[[^\]]+\] (?P<frontend>\S+) (?P<backend>[^/\s]+)/(?P<server>\S+) \S+ "
    r"(?P<status>-?\d+) \S+ \S+ \S+ (?P<term>\S{4}) .* \"(?P<request>[^\"]*)\" (?P<id>\S+)$"
)


@dataclass
class ProxyLine:
    """What haproxy logged about one request."""

    server: str
    status: int
    termination: str
    request: str


def proxy_log(path: Path) -> dict[str, ProxyLine]:
    """Request id → haproxy's line about it (the public frontend's requests)."""
    found = {}
    for line in path.read_text(errors="replace").splitlines():
        match = _LOG_LINE.match(line.strip())
        if match and match["frontend"].startswith("public"):
            found[match["id"]] = ProxyLine(
                f"{match['backend']}/{match['server']}",
                int(match["status"]),
                match["term"],
                match["request"],
            )
    return found


def _mails(path: Path) -> list[EmailMessage]:
    """Every e-mail the sink received (its Maildir), headers decoded."""
    if not path.exists():
        return []
    box = mailbox.Maildir(path, factory=None, create=False)
    return [message_from_bytes(box.get_bytes(key), policy=policy.default) for key in box.iterkeys()]


def mail_ids(path: Path) -> Counter[str]:
    """How many times each Message-ID reached the mail sink."""
    return Counter(str(message["Message-ID"]) for message in _mails(path))


def mail_subjects(path: Path) -> Counter[tuple[str, str]]:
    """How many times each (recipient, subject) reached the mail sink."""
    return Counter((str(m["To"]), str(m["Subject"])) for m in _mails(path))


def photo_problems(
    web_urls: dict[str, str], paths: list[str], threads: int = 8, block: int = 20
) -> list[str]:
    """Fetch every photo path from every web process directly (bypassing the proxy); what
    failed or differed between processes. Each thread uses its own source addresses, so the
    photo limit (RATELIMIT_PHOTOS per address) is never what answers."""
    problems: list[str] = []
    lock = threading.Lock()

    def check(chunk: tuple[int, list[str]]) -> None:
        number, chunk_paths = chunk
        clients = {
            name: httpx.Client(
                base_url=url,
                transport=httpx.HTTPTransport(local_address=source_address(number, block)),
                timeout=60,
            )
            for name, url in web_urls.items()
        }
        try:
            for path in chunk_paths:
                bodies = {}
                for name, client in clients.items():
                    answer = client.get(path)
                    ok = answer.status_code == 200 and answer.content[:3] == b"\xff\xd8\xff"
                    if not ok:
                        with lock:
                            problems.append(f"{name} {path}: {answer.status_code}")
                    bodies[name] = answer.content
                if len(set(bodies.values())) != 1:
                    with lock:
                        problems.append(f"{path}: the processes served different bytes")
        finally:
            for client in clients.values():
                client.close()

    size = 100  # under RATELIMIT_PHOTOS (300 per minute) per address and process
    chunks = [
        (i, paths[start : start + size]) for i, start in enumerate(range(0, len(paths), size))
    ]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(check, chunks))
    return problems


def scalar(url: str, sql: str, params: Any = None) -> Any:
    """The first column of the first row."""
    rows = database.query(url, sql, params)
    return rows[0][0] if rows else None
