"""The cluster's PostgreSQL database: created empty, migrated and seeded with the flask CLI as
`make demo` does it (with the cluster's own environment), dropped at the end."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
FLASK = ROOT / ".venv" / "bin" / "flask"
PG_ADMIN_URL = os.environ.get("CLUSTER_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


def create() -> tuple[str, str]:
    """A new empty database: (its name, its SQLAlchemy URL)."""
    name = f"cluster_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return name, f"{base}/{name}"


def drop(name: str) -> None:
    """DROP DATABASE … WITH (FORCE): whoever is still connected is cut off."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def plain_url(url: str) -> str:
    """The psycopg form of a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def query(url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Rows of one statement on a short-lived connection (readiness checks, tests)."""
    with psycopg.connect(plain_url(url), autocommit=True, connect_timeout=5) as conn:
        return list(conn.execute(sql, params).fetchall())


def _boundaries(province: str) -> str | None:
    """The province's wards extracted from ../shared/geo by an earlier run, if cached (the
    whole country's file takes a while to filter); None lets `flask geo ensure` choose."""
    cache = Path(os.environ.get("PHANANH_CACHE_DIR") or Path.home() / ".cache" / "phananh")
    found = sorted((cache / "geo").glob(f"wards-{province}-*.geojson"), key=os.path.getmtime)
    return str(found[-1]) if found else None


def migrate_and_seed(env: dict[str, str], log: Path, history_days: int = 0) -> None:
    """`flask db upgrade`, `flask geo ensure`, `flask demo seed` (as `make demo`), logged."""
    env = dict(env)
    env["FLASK_APP"] = "webapp:create_app"
    boundaries = _boundaries(env.get("PROVINCE_CODE", "48"))
    if boundaries and not env.get("GEO_BOUNDARIES_FILE"):
        env["GEO_BOUNDARIES_FILE"] = boundaries
    steps = [
        ["db", "upgrade"],
        ["geo", "ensure"],
        ["demo", "seed", "--history-days", str(history_days)],
    ]
    with open(log, "ab") as out:
        for step in steps:
            out.write(f"\n$ flask {' '.join(step)}\n".encode())
            out.flush()
            result = subprocess.run(
                [str(FLASK), *step], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
            if result.returncode != 0:
                raise RuntimeError(f"flask {' '.join(step)} failed: see {log}")
