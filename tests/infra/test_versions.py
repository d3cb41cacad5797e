"""A cache every process keeps current: importing boundaries in one process is seen by all."""

from __future__ import annotations

import pytest
from flask import Flask

from webapp.infra import versions
from webapp.services.geography import places


@pytest.fixture
def second_app(app: Flask, app_config: dict) -> Flask:
    """Another web process on the same database (its own memory)."""
    from webapp import create_app

    other = create_app("testing", overrides={**app_config, "CACHE_CHECK_SECONDS": 0})
    return other


def test_an_import_in_one_process_makes_every_process_rebuild(app, second_app, monkeypatch):
    monkeypatch.setitem(app.config, "CACHE_CHECK_SECONDS", 0)
    with second_app.app_context():
        before = places.places()
        assert places.places() is before, "kept while nothing changed"
    with app.app_context():
        version = versions.current(places.CACHE_NAME)
        places.invalidate()  # what `flask geo import` does, after writing the units
        from webapp.extensions import db

        db.session.commit()
        assert versions.current(places.CACHE_NAME) == version + 1
    with second_app.app_context():
        after = places.places()
        assert after is not before, "the other process rebuilt its index"
        assert len(after.index) == len(before.index) > 0


def test_versions_are_checked_only_every_interval(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "CACHE_CHECK_SECONDS", 3600)
    builds = []
    first = versions.cached("demo", lambda: builds.append(1) or len(builds))
    versions.bump("demo")  # this process forgets its copy at once
    assert versions.cached("demo", lambda: builds.append(1) or len(builds)) == first + 1
    assert versions.cached("demo", lambda: builds.append(1) or len(builds)) == first + 1
