"""Point → ward lookup, heatmap cells, distances and display, on Đà Nẵng's real wards."""

from __future__ import annotations

import json
import random
import threading
import time

import h3
import pytest
import shapely
from shapely.geometry import Point, box, shape

from webapp.errors import NotFound, ValidationError
from webapp.services.geography import geo_index

from .real_wards import (
    AN_HAI,
    BACH_DANG,
    DRAGON_BRIDGE,
    HA_NOI,
    HAI_CHAU,
    HOI_AN,
    HOI_AN_OLD_TOWN,
    THANH_KHE,
)


def test_known_points_land_in_their_wards(index48, by_code):
    assert index48.locate(*DRAGON_BRIDGE) == HAI_CHAU
    assert index48.locate(*BACH_DANG) == HAI_CHAU
    assert by_code[index48.locate(*HOI_AN_OLD_TOWN)].name == "Hội An"
    assert index48.locate(16.0650, 108.2450) == AN_HAI  # Võ Nguyên Giáp, Mỹ Khê beach
    assert index48.locate(*HA_NOI) is None
    assert index48.locate(16.0650, 108.2600) is None  # the sea off Mỹ Khê
    assert index48.contains_province(*BACH_DANG)
    assert not index48.contains_province(*HA_NOI)
    assert index48.locate_many([DRAGON_BRIDGE, HA_NOI, HOI_AN_OLD_TOWN]) == [
        HAI_CHAU,
        None,
        HOI_AN,
    ]


def test_within_misses_border_points_so_the_index_uses_intersects(units48, index48, by_code):
    # On a vertex shared by Hải Châu and Thanh Khê, STRtree's "within" finds no ward at
    # all, "intersects" finds both; the index answers with its tie-break (smaller area).
    geoms = [u.geometry for u in units48]
    codes = [u.code for u in units48]
    tree = shapely.STRtree(geoms)
    shared = by_code[HAI_CHAU].geometry.boundary.intersection(by_code[THANH_KHE].geometry.boundary)
    x, y = shapely.get_coordinates(shared)[len(shapely.get_coordinates(shared)) // 2]
    point = Point(x, y)
    assert list(tree.query(point, predicate="within")) == []
    assert {codes[i] for i in tree.query(point, predicate="intersects")} >= {HAI_CHAU, THANH_KHE}
    smaller = min((HAI_CHAU, THANH_KHE), key=lambda c: (by_code[c].geometry.area, c))
    assert index48.locate(y, x) == smaller
    # Inside a ward, "within" and the index agree.
    assert [
        codes[i] for i in tree.query(Point(BACH_DANG[1], BACH_DANG[0]), predicate="within")
    ] == [HAI_CHAU]


def test_overlapping_squares_tie_break_is_smaller_area_then_lower_code():
    big = box(0.0, 0.0, 2.0, 2.0)
    small = box(1.0, 1.0, 2.5, 2.5)
    twin = box(1.0, 1.0, 2.5, 2.5)
    for order in ([("B", big), ("S", small)], [("S", small), ("B", big)]):
        index = geo_index.GeoIndex(order)
        assert index.locate(1.5, 1.5) == "S"  # in the overlap
        assert index.locate(1.0, 1.5) == "S"  # on the small square's edge
        assert index.locate(0.5, 0.5) == "B"
        assert index.locate(2.2, 2.2) == "S"
        assert index.locate(3.0, 3.0) is None
    for order in ([("20002", twin), ("20001", small)], [("20001", small), ("20002", twin)]):
        assert geo_index.GeoIndex(order).locate(1.5, 1.5) == "20001"
    # A shared edge between two equal squares goes to the lower code.
    left, right = box(0.0, 0.0, 1.0, 1.0), box(1.0, 0.0, 2.0, 1.0)
    assert geo_index.GeoIndex([("2", left), ("1", right)]).locate(0.5, 1.0) == "1"


def test_grid_lookup_agrees_with_brute_force_on_random_points(units48, index48):
    rng = random.Random(48)
    min_lat, min_lon, max_lat, max_lon = 15.40, 107.80, 16.25, 108.45
    points = [(rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)) for _ in range(3000)]
    # Points on grid lines and on the rounding edge of floor().
    points += [(16.06, 108.22), (16.0599999999, 108.2199999999), (15.88, 108.33)]
    ranked = sorted(units48, key=lambda u: (u.geometry.area, u.code))
    for lat, lon in points:
        expected = next((u.code for u in ranked if u.geometry.intersects(Point(lon, lat))), None)
        assert index48.locate(lat, lon) == expected, (lat, lon)


def test_representative_points_bounds_and_geometry(index48, by_code):
    for code in by_code:
        lat, lon = index48.representative_point(code)
        assert index48.locate(lat, lon) == code
    with pytest.raises(NotFound):
        index48.representative_point("99999")
    min_lat, min_lon, max_lat, max_lon = index48.bounds()
    assert 14.9 < min_lat < 15.0 and 17.0 < max_lat < 17.2  # Hoàng Sa reaches north-east
    assert 107.2 < min_lon < max_lon < 112.8
    assert index48.geometry(HAI_CHAU).equals(by_code[HAI_CHAU].geometry)
    assert len(index48) == 94 and HAI_CHAU in index48


def test_tolerance_snaps_a_beach_fix_to_the_nearest_ward(index48):
    offshore = (16.0650, 108.2470)  # ~40 m past An Hải's coastline
    assert index48.locate(*offshore) is None
    assert index48.locate(*offshore, tolerance_m=100) == AN_HAI
    assert index48.locate(16.0650, 108.2600, tolerance_m=100) is None


@pytest.mark.parametrize("bad", [(91, 108), (16, 181), ("x", 108), (float("nan"), 108)])
def test_invalid_coordinates_are_refused(index48, bad):
    with pytest.raises(ValidationError):
        index48.locate(*bad)


def test_index_is_safe_to_share_between_threads(index48):
    rng = random.Random(7)
    points = [(rng.uniform(15.8, 16.2), rng.uniform(108.0, 108.4)) for _ in range(2000)]
    expected = index48.locate_many(points)
    results: list[list[str | None]] = []

    def work():
        results.append([index48.locate(lat, lon) for lat, lon in points])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 8


def test_locating_is_microseconds_per_point(index48):
    rng = random.Random(1)
    points = [(rng.uniform(15.4, 16.2), rng.uniform(107.9, 108.4)) for _ in range(10_000)]
    start = time.perf_counter()
    for lat, lon in points:
        index48.locate(lat, lon)
    elapsed = time.perf_counter() - start
    # ~0.07 s on the development machine; the bound only catches a lost index.
    assert elapsed < 2.0, f"10,000 lookups took {elapsed:.2f} s"


def test_empty_or_duplicate_index_is_refused():
    with pytest.raises(ValidationError):
        geo_index.GeoIndex([])
    with pytest.raises(ValidationError):
        geo_index.GeoIndex([("1", box(0, 0, 1, 1)), ("1", box(1, 1, 2, 2))])


# --- cells, distances, display -----------------------------------------------------------


def test_cells_for_gives_valid_nested_h3_cells():
    cells = geo_index.cells_for(*BACH_DANG)
    assert (
        set(cells)
        == {f"h3_r{r}" for r in geo_index.CELL_RESOLUTIONS}
        == {"h3_r6", "h3_r8", "h3_r10"}
    )
    for res in geo_index.CELL_RESOLUTIONS:
        cell = cells[f"h3_r{res}"]
        assert h3.is_valid_cell(cell)
        assert h3.get_resolution(cell) == res
        assert len(cell) <= 16  # fits the report's column
    assert h3.cell_to_parent(cells["h3_r10"], 8) == cells["h3_r8"]
    assert h3.cell_to_parent(cells["h3_r8"], 6) == cells["h3_r6"]
    lat, lon = h3.cell_to_latlng(cells["h3_r10"])
    assert geo_index.distance_m((lat, lon), BACH_DANG) < 100
    with pytest.raises(ValidationError):
        geo_index.cells_for(100, 0)


def test_distance_is_geodesic_metres():
    han_bridge = (16.0722, 108.2270)
    d = geo_index.distance_m(DRAGON_BRIDGE, han_bridge)
    assert d == pytest.approx(1200, rel=0.02)
    assert geo_index.distance_m(han_bridge, DRAGON_BRIDGE) == pytest.approx(d)
    assert geo_index.distance_m(BACH_DANG, BACH_DANG) == 0
    # One degree of latitude at 16° N on the WGS84 ellipsoid.
    assert geo_index.distance_m((16.0, 108.0), (17.0, 108.0)) == pytest.approx(110_700, rel=0.002)


def test_simplify_for_display_returns_a_lighter_geojson_geometry(by_code):
    original = by_code["20194"].geometry  # Hải Vân: a long, detailed boundary
    mapping = geo_index.simplify_for_display(original)
    assert mapping["type"] in ("Polygon", "MultiPolygon")
    simplified = shape(mapping)
    assert simplified.is_valid
    assert len(shapely.get_coordinates(simplified)) < len(shapely.get_coordinates(original)) / 3
    assert simplified.symmetric_difference(original).area < 0.01 * original.area
    json.dumps(mapping)  # plain JSON types only
    collection = geo_index.feature_collection([by_code[HAI_CHAU]])
    assert collection["features"][0]["properties"]["code"] == HAI_CHAU
