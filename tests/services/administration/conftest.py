"""The demo province on SQLite, as `make run` builds it (boundaries, agencies, routing, users)."""

from __future__ import annotations

import pytest

from tests.conftest import sqlite_app_at
from tests.support.geo_data import province_geojson


@pytest.fixture(scope="module")
def demo_sqlite(app, tmp_path_factory):
    """A migrated SQLite app with the demo province's boundaries, agencies and routing."""

    from webapp.extensions import db
    from webapp.services.administration import seed
    from webapp.services.geography import demo_cells, geojson_reader, places

    lite = sqlite_app_at(app, tmp_path_factory.mktemp("demo") / "demo.sqlite")
    with lite.app_context():
        source = province_geojson("48")
        places.import_units(
            geojson_reader.read_units_geojson(source, province_code="48")
            if source
            else demo_cells.approximate_units("48")
        )
        seed.load_categories()
        seed.load_agencies("48")
    yield lite
    with lite.app_context():
        db.engine.dispose()
