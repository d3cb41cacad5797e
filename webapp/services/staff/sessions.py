"""Staff sessions kept on the server, so that they can be listed and ended.

The (signed) session cookie carries a random token; the server keeps a record per token —
in the database by default, in Redis when SESSION_STORE_URL names one — with who signed in,
from where, and when it was last used. A request is signed in only while its record exists,
has been used within SESSION_IDLE_MINUTES and is younger than SESSION_ABSOLUTE_HOURS. Logging
out, a password change, deactivation or a role change end the records, so a cookie copied
before that opens nothing. Only the token's SHA-256 is stored.

Why by hand: Flask-Session moves a session's data to the server but keeps no index by user,
so it can neither list a user's sessions nor end them all at a password change; Flask-Login
alone trusts the cookie until it expires. The record store below is that missing index.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

import redis
from flask import Flask, current_app
from sqlalchemy import ColumnElement, CursorResult, select, update

from webapp.extensions import db
from webapp.models import StaffSession
from webapp.models.types import utcnow

COOKIE_KEY = "staff_session"
# A record's last use is written at most this often (not on every request).
TOUCH_EVERY = timedelta(seconds=60)


@dataclass
class SessionRecord:
    """One signed-in browser."""

    token_hash: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    address: str | None = None
    user_agent: str | None = None


class Store(Protocol):
    """Where records live: create, read, touch, end (one, or all of a user's), list."""

    def create(self, record: SessionRecord) -> None: ...
    def get(self, token_hash: str) -> SessionRecord | None: ...
    def touch(self, token_hash: str, when: datetime) -> None: ...
    def end(self, token_hash: str, reason: str) -> None: ...
    def end_user(self, user_id: int, reason: str, keep: str | None = None) -> int: ...
    def list_user(self, user_id: int) -> list[SessionRecord]: ...


class DatabaseStore:
    """Records in `staff_sessions`; ended ones stay with their reason."""

    @staticmethod
    def _record(row: StaffSession) -> SessionRecord:
        return SessionRecord(
            row.token_hash, row.user_id, row.created_at, row.last_seen_at, row.address,
            row.user_agent,
        )  # fmt: skip

    def create(self, record: SessionRecord) -> None:
        db.session.add(StaffSession(**asdict(record)))
        db.session.commit()

    def get(self, token_hash: str) -> SessionRecord | None:
        row = db.session.scalar(
            select(StaffSession).where(
                StaffSession.token_hash == token_hash, StaffSession.ended_at.is_(None)
            )
        )
        return self._record(row) if row else None

    def touch(self, token_hash: str, when: datetime) -> None:
        db.session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == token_hash)
            .values(last_seen_at=when)
        )
        db.session.commit()

    def end(self, token_hash: str, reason: str) -> None:
        self._end(StaffSession.token_hash == token_hash, reason=reason)

    def end_user(self, user_id: int, reason: str, keep: str | None = None) -> int:
        where = [StaffSession.user_id == user_id]
        if keep:
            where.append(StaffSession.token_hash != keep)
        return self._end(*where, reason=reason)

    @staticmethod
    def _end(*where: ColumnElement[bool], reason: str) -> int:
        # An UPDATE gives a CursorResult (typed as the Result of any statement).
        result = cast(
            CursorResult[Any],
            db.session.execute(
                update(StaffSession)
                .where(*where, StaffSession.ended_at.is_(None))
                .values(ended_at=utcnow(), end_reason=reason)
            ),
        )
        db.session.commit()
        return result.rowcount

    def list_user(self, user_id: int) -> list[SessionRecord]:
        rows = db.session.scalars(
            select(StaffSession)
            .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
            .order_by(StaffSession.last_seen_at.desc())
        )
        return [self._record(row) for row in rows]


class RedisStore:
    """Records as Redis hashes that expire with their idle lifetime, one set per user.

    redis-py types each command's answer as "the value, or an awaitable of it" (its sync and
    asyncio clients share the signatures): the casts below say which, for this sync client
    with decode_responses (strings).
    """

    def __init__(self, url: str, lifetime: timedelta) -> None:
        self.redis = redis.Redis.from_url(url, decode_responses=True)
        self.lifetime = lifetime

    @staticmethod
    def _key(token_hash: str) -> str:
        return f"staff-session:{token_hash}"

    @staticmethod
    def _user_key(user_id: int) -> str:
        return f"staff-sessions:{user_id}"

    def create(self, record: SessionRecord) -> None:
        fields = {k: ("" if v is None else str(v)) for k, v in asdict(record).items()}
        fields["created_at"] = record.created_at.isoformat()
        fields["last_seen_at"] = record.last_seen_at.isoformat()
        pipe = self.redis.pipeline()
        pipe.hset(self._key(record.token_hash), mapping=fields)
        pipe.expire(self._key(record.token_hash), self.lifetime)
        pipe.sadd(self._user_key(record.user_id), record.token_hash)
        pipe.expire(self._user_key(record.user_id), self.lifetime)
        pipe.execute()

    def get(self, token_hash: str) -> SessionRecord | None:
        data = cast(dict[str, str], self.redis.hgetall(self._key(token_hash)))
        if not data:
            return None
        return SessionRecord(
            data["token_hash"],
            int(data["user_id"]),
            datetime.fromisoformat(data["created_at"]),
            datetime.fromisoformat(data["last_seen_at"]),
            data.get("address") or None,
            data.get("user_agent") or None,
        )

    def touch(self, token_hash: str, when: datetime) -> None:
        key = self._key(token_hash)
        pipe = self.redis.pipeline()
        pipe.hset(key, "last_seen_at", when.isoformat())
        pipe.expire(key, self.lifetime)
        pipe.execute()

    def end(self, token_hash: str, reason: str) -> None:
        record = self.get(token_hash)
        self.redis.delete(self._key(token_hash))
        if record:
            self.redis.srem(self._user_key(record.user_id), token_hash)

    def end_user(self, user_id: int, reason: str, keep: str | None = None) -> int:
        members = cast(set[str], self.redis.smembers(self._user_key(user_id)))
        hashes = [h for h in members if h != keep]
        if not hashes:
            return 0
        ended = cast(int, self.redis.delete(*[self._key(h) for h in hashes]))
        self.redis.srem(self._user_key(user_id), *hashes)
        return ended

    def list_user(self, user_id: int) -> list[SessionRecord]:
        members = cast(set[str], self.redis.smembers(self._user_key(user_id)))
        records = [self.get(h) for h in members]
        live = [r for r in records if r is not None]
        return sorted(live, key=lambda r: r.last_seen_at, reverse=True)


def init_app(app: Flask) -> None:
    """Pick the store from SESSION_STORE_URL (empty: the database)."""
    url = app.config.get("SESSION_STORE_URL") or ""
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    app.extensions["staff_sessions"] = RedisStore(url, idle) if url else DatabaseStore()


def store() -> Store:
    """The store of the current app."""
    return current_app.extensions["staff_sessions"]


def token_hash(token: str) -> str:
    """What is stored for a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def start(user_id: int, address: str | None, user_agent: str | None) -> str:
    """A new session for a user who just signed in; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    store().create(
        SessionRecord(token_hash(token), user_id, now, now, address, (user_agent or "")[:200])
    )
    return token


def _expired(record: SessionRecord, now: datetime) -> str | None:
    cfg = current_app.config
    if now - record.created_at > timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"]):
        return "expired"
    if now - record.last_seen_at > timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]):
        return "idle"
    return None


def resume(token: object) -> SessionRecord | None:
    """The live record behind a cookie's token (ending it if it has lapsed), or None."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    hashed = token_hash(token)
    record = store().get(hashed)
    if record is None:
        return None
    now = utcnow()
    reason = _expired(record, now)
    if reason:
        store().end(hashed, reason)
        return None
    if now - record.last_seen_at >= TOUCH_EVERY:
        store().touch(hashed, now)
        record.last_seen_at = now
    return record


def end(token: object, reason: str = "logout") -> None:
    """End the session of this token (logout)."""
    if isinstance(token, str) and token:
        store().end(token_hash(token), reason)


def end_one(user_id: int, hashed: str, reason: str) -> bool:
    """End one of a user's sessions by its stored hash (from the list of sessions)."""
    if not any(r.token_hash == hashed for r in store().list_user(user_id)):
        return False
    store().end(hashed, reason)
    return True


def end_all(user_id: int, reason: str, keep_token: str | None = None) -> int:
    """End every session of a user (but the one of keep_token); returns how many ended."""
    keep = token_hash(keep_token) if keep_token else None
    return store().end_user(user_id, reason, keep=keep)


def active(user_id: int) -> list[SessionRecord]:
    """A user's live sessions, most recently used first (lapsed ones are left out)."""
    now = utcnow()
    return [r for r in store().list_user(user_id) if not _expired(r, now)]
