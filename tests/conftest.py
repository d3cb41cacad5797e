"""Fixtures: a fresh PostgreSQL database per test session, migrated by Alembic and seeded."""

from __future__ import annotations

import gc
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.serving import make_server

from tests.support import seaweed as seaweed_s3
from tests.support.fake_sms import sms  # noqa: F401  (a fixture for every test)
from tests.support.geo_data import province_geojson

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
# Rows made by tests; reference data (units, agencies, categories, users) stays.
# The learning loop's tests promote models: never touch the pointer a developer's server uses.
os.environ["PHANANH_CURRENT_MODEL"] = os.path.join(tempfile.mkdtemp(), "current.json")
SERVER_START_TIMEOUT = 300  # seconds for `rasa run` to load the model on a busy 2-core box
TRANSIENT_TABLES = (
    "channel_windows",
    "contact_codes",
    "conversations",
    "export_jobs",
    "inbound_events",
    "messenger_tokens",
    "nlu_models",
    "outbox_messages",
    "report_events",
    "photos",
    "reports",
    "resident_identities",
    "residents",
)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for this session, dropped at the end."""
    name = f"phananh_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def app_config(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Settings of the test app; other fixtures (worker processes) reuse them."""
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_QUEUE": f"phananh-test-{uuid.uuid4().hex[:8]}",
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "SERVER_NAME": None,
    }


@pytest.fixture(scope="session")
def app(app_config: dict) -> Iterator[Flask]:
    """The app on the session database: migrated with `flask db upgrade`, boundaries, seed."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.services.administration import seed
    from webapp.services.geography import demo_cells, geojson_reader, places

    app = create_app("testing", overrides=app_config)
    with app.app_context():
        upgrade()
        source = province_geojson("48")
        shapes = (
            geojson_reader.read_units_geojson(source, province_code="48")
            if source
            else demo_cells.approximate_units("48")
        )
        places.import_units(shapes)
        seed.load_categories()
        seed.load_agencies("48")
        seed.load_demo_users()
    yield app


@pytest.fixture(autouse=True)
def _clean_rows(request: pytest.FixtureRequest) -> Iterator[None]:
    """Remove what a test stored, so tests do not see each other's reports."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from webapp.extensions import db

    # A streamed response the test never read still holds its generator and, with it, an
    # open read transaction that TRUNCATE would wait for: collecting it ends both.
    # A failed test's traceback can keep such a response alive: then the transaction is ended
    # from the database side after a while, rather than the suite waiting forever.
    gc.collect()
    from sqlalchemy.exc import OperationalError

    truncate = text(f"TRUNCATE {', '.join(TRANSIENT_TABLES)} RESTART IDENTITY CASCADE")
    with app.app_context():
        db.session.remove()
        try:
            db.session.execute(text("SET LOCAL lock_timeout = '10s'"))
            db.session.execute(truncate)
        except OperationalError:
            db.session.rollback()
            db.session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND state = 'idle in transaction'"
                )
            )
            db.session.execute(truncate)
        # The rollup was emptied with the reports: a deadline a time-travelling test folded
        # into "past" must not keep later tests off the rollup.
        db.session.execute(text("DELETE FROM cache_versions WHERE name = 'report_rollup_past'"))
        db.session.commit()


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[seaweed_s3.SeaweedS3]:
    """A real S3 server (SeaweedFS) for the session; its credentials in the environment."""
    server = seaweed_s3.start(tmp_path_factory.mktemp("seaweed"))
    saved = {name: os.environ.get(name) for name in server.env()}
    os.environ.update(server.env())
    yield server
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture()
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context for service-level tests."""
    with app.app_context():
        yield app
        from webapp.extensions import db

        db.session.remove()


@pytest.fixture()
def client(app: Flask):
    """A test client."""
    return app.test_client()


@pytest.fixture(scope="session")
def rasa_server_url() -> Iterator[str]:
    """URL of a real Rasa server with the current model (env built and model trained once).

    Set NLU_TEST_URL to use a server that is already running instead.
    """
    if os.environ.get("NLU_TEST_URL"):
        yield os.environ["NLU_TEST_URL"].rstrip("/")
        return
    from nlu import candidates, manage

    try:
        manage.find_python310()
    except manage.NluSetupError as exc:
        pytest.skip(str(exc))
    manage.ensure_env()
    try:
        with candidates.served(manage.train(), timeout=SERVER_START_TIMEOUT) as url:
            yield url
    except manage.NluSetupError as exc:
        pytest.fail(str(exc))


def sqlite_app_at(app: Flask, path) -> Flask:
    """A second app on a new SQLite file (the embedded default), migrated by Alembic.

    The session `app` stays Celery's default and current app (tasks called directly use it).
    """
    from flask_migrate import upgrade

    from webapp import create_app

    lite = create_app(
        "testing",
        overrides={
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "CELERY_BROKER_URL": "memory://",
            "SERVER_NAME": None,
        },
    )
    app.extensions["celery"].set_default()
    app.extensions["celery"].set_current()
    with lite.app_context():
        upgrade()
    return lite


@pytest.fixture(scope="module")
def sqlite_app(app, tmp_path_factory):
    """The same app on SQLite (the embedded default), migrated by Alembic."""

    from tests.factories import AdminUnitFactory, AgencyFactory
    from webapp.extensions import db
    from webapp.services.administration import seed

    lite = sqlite_app_at(app, tmp_path_factory.mktemp("sqlite") / "kpi.sqlite")
    with lite.app_context():
        seed.load_categories()
        AdminUnitFactory(code="48", level="province", name="Đà Nẵng", full_name="TP Đà Nẵng")
        AdminUnitFactory(code="20194", name="Hải Châu", parent_code="48")
        AdminUnitFactory(code="20197", name="Hòa Cường", parent_code="48")
        AgencyFactory(code="A")
        AgencyFactory(code="B")
        db.session.commit()
    yield lite
    with lite.app_context():
        db.engine.dispose()


@pytest.fixture()
def lite(sqlite_app):
    """An app context on the SQLite app; its reports, events and messages are deleted after."""
    from webapp.extensions import db
    from webapp.models import OutboxMessage, Report, ReportEvent

    with sqlite_app.app_context():
        yield sqlite_app
        db.session.rollback()
        for model in (OutboxMessage, ReportEvent, Report):
            db.session.execute(db.delete(model))
        db.session.commit()
        db.session.remove()


@pytest.fixture()
def smtp(app):
    """A real SMTP server on 127.0.0.1 that the app's e-mails go to; `.messages` received."""
    from tests.support.smtp import SmtpServer

    with SmtpServer() as server:
        old = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
        app.config["SMTP_HOST"], app.config["SMTP_PORT"] = "127.0.0.1", server.port
        yield server
        app.config["SMTP_HOST"], app.config["SMTP_PORT"] = old


@pytest.fixture()
def limits_on(app):
    """Every limit switched on, with empty counters (the suite runs with limits off)."""
    from webapp.ratelimit import limiter

    before = limiter.enabled, app.config["RATELIMIT_ENABLED"]
    limiter.enabled, app.config["RATELIMIT_ENABLED"] = True, True
    limiter.reset()
    yield app
    limiter.reset()
    limiter.enabled, app.config["RATELIMIT_ENABLED"] = before


@pytest.fixture(scope="session")
def live_server(app, app_config) -> Iterator[str]:
    """A second app on the same database, with CSRF on as in production, served in a thread.

    Its own instance, so that turning CSRF on never leaks into other tests' `app`.
    """
    from webapp import create_app

    served = create_app("testing", overrides={**app_config, "WTF_CSRF_ENABLED": True})
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
