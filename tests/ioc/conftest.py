"""IOC fixtures: random reports over the province (built by tests/factories.py), ward points."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import shapely
from sqlalchemy import select

from tests.backoffice.conftest import USERS, agency, login, user  # noqa: F401  (re-exported)
from tests.factories import ReportFactory
from webapp.extensions import db
from webapp.models import AdminUnit, Agency, Category
from webapp.services.geography import places


@pytest.fixture(autouse=True)
def _no_heat_cache(app, monkeypatch):
    """Counts must follow each test's rows: the heatmap's short cache is off (tested apart)."""
    monkeypatch.setitem(app.config, "HEATMAP_CACHE_SECONDS", 0)
    app.extensions.pop("heatmap_cache", None)


def at(text: str) -> datetime:
    """An aware UTC datetime from "2026-03-02 08:00"."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ward_codes() -> list[str]:
    """Codes of the province's wards that have a boundary."""
    return sorted(places.places().parent)


def random_point(rng: random.Random, code: str) -> tuple[float, float]:
    """A uniformly random (lat, lon) inside a ward."""
    geometry = places.places().index.geometry(code)
    minx, miny, maxx, maxy = geometry.bounds
    for _ in range(1000):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geometry, x, y):
            return y, x
    point = geometry.representative_point()
    return point.y, point.x


STATUSES = (
    "received", "classified", "needs_triage", "assigned", "in_progress", "transferred",
    "resolved", "closed", "rejected", "duplicate", "reopened",
)  # fmt: skip


SNAPSHOT = (
    "code", "lat", "lon", "status", "category_code", "agency_id", "unit_code", "created_at",
    "due_at", "resolved_at",
)  # fmt: skip


@pytest.fixture()
def random_reports(app) -> list[SimpleNamespace]:
    """~300 reports at random points (a third in 3 hot wards), as plain snapshots.

    Stored in an app context of their own: test requests must not share one (Flask-Login
    keeps the signed-in user in `g`).
    """
    with app.app_context():
        snapshots = _random_reports()
        db.session.remove()
    return snapshots


def _random_reports() -> list[SimpleNamespace]:
    rng = random.Random(7)
    wards = ward_codes()
    hot = wards[:3]
    categories = list(db.session.scalars(select(Category.code)))
    agencies = list(db.session.scalars(select(Agency.id).where(Agency.kind != "group")))
    now = datetime.now(UTC)
    made = []
    for n in range(300):
        code = rng.choice(hot) if n % 3 == 0 else rng.choice(wards)
        lat, lon = random_point(rng, code)
        created = now - timedelta(days=rng.uniform(0, 90))
        status = rng.choice(STATUSES)
        made.append(
            ReportFactory(
                lat=lat,
                lon=lon,
                status=status,
                category_code=rng.choice(categories),
                agency_id=rng.choice(agencies) if rng.random() < 0.9 else None,
                created_at=created,
                due_at=created + timedelta(days=rng.uniform(1, 30)),
                resolved_at=created + timedelta(days=1)
                if status in ("resolved", "closed")
                else None,
            )
        )
    # A few reports without a location: they have no cell and are never on the map.
    for _ in range(5):
        made.append(ReportFactory(category_code=categories[0], created_at=now))
    snapshots = [SimpleNamespace(**{k: getattr(r, k) for k in SNAPSHOT}) for r in made]
    db.session.commit()
    return snapshots


def first_ward() -> AdminUnit:
    """The first ward by code."""
    return db.session.scalar(select(AdminUnit).where(AdminUnit.level == "ward").order_by("code"))
