"""The schema is made by migrations only: one head, and it matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import Migrate

from webapp.extensions import db


def test_migrations_have_one_head(app):
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, heads


def test_migrated_schema_matches_the_models(app):
    # The session database was built by `flask db upgrade` only (see conftest).
    assert isinstance(app.extensions["migrate"].migrate, Migrate)
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
