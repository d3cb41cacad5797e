"""Fixtures of the geography tests: Đà Nẵng's real wards, their index, its gazetteer."""

from __future__ import annotations

import pytest

from webapp.services.geography import gazetteer as gz
from webapp.services.geography import geo_index, geojson_reader

from .real_wards import real_units, require_shared_geo


@pytest.fixture(scope="module")
def units48() -> tuple[geojson_reader.UnitShape, ...]:
    require_shared_geo()
    return real_units("48")


@pytest.fixture(scope="module")
def index48(units48) -> geo_index.GeoIndex:
    return geo_index.GeoIndex(units48)


@pytest.fixture(scope="module")
def by_code(units48) -> dict[str, geojson_reader.UnitShape]:
    return {u.code: u for u in units48}


@pytest.fixture(scope="module")
def streets() -> list[gz.Street]:
    return gz.load_streets(gz.streets_path("48"))


@pytest.fixture(scope="module")
def gazetteer(units48, streets) -> gz.Gazetteer:
    return gz.Gazetteer.from_units(units48, streets)
