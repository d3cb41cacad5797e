"""Intake on the embedded default (SQLite, `make run` on a bare machine), not only PostgreSQL."""

from __future__ import annotations

import pytest

from tests.conftest import sqlite_app_at
from tests.factories import ReportDraftFactory
from webapp.extensions import db
from webapp.models import Report
from webapp.services.intake.reports import CODE_RE, submit_report


@pytest.fixture(scope="module")
def embedded(app, tmp_path_factory):
    """A SQLite app with the province's wards and categories, as `make run` sets it up."""
    from webapp.services.administration import seed
    from webapp.services.geography import demo_cells, places

    lite = sqlite_app_at(app, tmp_path_factory.mktemp("embedded") / "phananh.sqlite")
    with lite.app_context():
        places.import_units(demo_cells.approximate_units("48"))
        seed.load_categories()
    yield lite
    with lite.app_context():
        db.engine.dispose()


def test_a_report_is_stored_with_its_code_on_sqlite(embedded):
    with embedded.app_context():
        assert db.session.get_bind().dialect.name == "sqlite"
        first = submit_report(ReportDraftFactory.build())
        second = submit_report(ReportDraftFactory.build(description="Ổ gà lớn giữa đường"))
        assert second.report_id == first.report_id + 1
        for result in (first, second):
            report = db.session.get(Report, result.report_id)
            assert report is not None and report.code == result.code
            assert CODE_RE.fullmatch(result.code)
