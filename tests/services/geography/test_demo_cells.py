"""Approximate demo cells from the vietnamadminunits package, against the real wards."""

from __future__ import annotations

import random

import pytest
from shapely.geometry import Point

from webapp.errors import NotFound, ValidationError
from webapp.services.geography import demo_cells, geo_index, geojson_reader

from .real_wards import HAI_CHAU


def test_approximate_units_give_one_cell_per_ward_around_its_centre():
    units = demo_cells.approximate_units("48")
    assert len(units) == 94
    assert all(u.approximate and u.province_code == "48" for u in units)
    assert all(u.geometry.is_valid and not u.geometry.is_empty for u in units)
    index = geo_index.GeoIndex(units)
    centres = demo_cells.unit_centres("48")
    assert set(centres) == {u.code for u in units}
    for code, (lat, lon) in centres.items():
        assert index.locate(lat, lon) == code
    hai_chau = next(u for u in units if u.code == HAI_CHAU)
    assert hai_chau.name == "Hải Châu"
    assert hai_chau.full_name == "Phường Hải Châu"
    assert hai_chau.name_en == "Hai Chau"
    assert all(u.name_en.isascii() for u in units)
    # A cell stays near its ward's size: clipped by discs of twice the ward's area.
    for u in units:
        assert geojson_reader._area_km2(u.geometry) < 2.2 * (u.area_km2 or 0) + 60


def test_approximate_cells_match_the_official_wards_mostly(units48):
    index = geo_index.GeoIndex(demo_cells.approximate_units("48"))
    rng = random.Random(3)
    agree = total = 0
    for unit in units48:
        minx, miny, maxx, maxy = unit.geometry.bounds
        for _ in range(40):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if unit.geometry.contains(Point(x, y)):
                total += 1
                agree += index.locate(y, x) == unit.code
    assert agree / total > 0.7  # ~0.78 measured: good enough for a labelled demo


def test_approximate_units_of_an_unknown_province_are_refused():
    with pytest.raises(NotFound):
        demo_cells.approximate_units("99")
    with pytest.raises(ValidationError):
        demo_cells.approximate_units("Đà Nẵng")
