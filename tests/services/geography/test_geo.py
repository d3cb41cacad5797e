"""Geography services against the real 2025 ward polygons of Đà Nẵng (../shared/geo)."""

from __future__ import annotations

import functools
import gzip
import json
import math
import random
import threading
import time
from pathlib import Path

import h3
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box, shape

from webapp.errors import NotFound, ValidationError
from webapp.services.geography import geo

SHARED_WARDS = Path(__file__).resolve().parents[4] / "shared" / "geo" / "wards.geojson.gz"

HAI_CHAU, AN_HAI, HOI_AN, THANH_KHE = "20242", "20275", "20410", "20209"
DRAGON_BRIDGE = (16.0614, 108.2270)  # west end of Cầu Rồng, by the river
BACH_DANG = (16.0700, 108.2246)  # riverside road, a block inside the ward
HOI_AN_OLD_TOWN = (15.8770, 108.3270)
HA_NOI = (21.0285, 105.8542)


@functools.cache
def real_units(province_code: str = "48") -> tuple[geo.UnitShape, ...]:
    """The official wards of a province, parsed once per test session."""
    return tuple(geo.read_units_geojson(SHARED_WARDS, province_code=province_code))


def require_shared_geo() -> None:
    """Skip the calling test when the shared boundary files are not on this machine."""
    if not SHARED_WARDS.exists():
        pytest.skip(f"real ward polygons not available ({SHARED_WARDS} is absent)")


@pytest.fixture(scope="module")
def units48() -> tuple[geo.UnitShape, ...]:
    require_shared_geo()
    return real_units("48")


@pytest.fixture(scope="module")
def index48(units48) -> geo.GeoIndex:
    return geo.GeoIndex(units48)


@pytest.fixture(scope="module")
def by_code(units48) -> dict[str, geo.UnitShape]:
    return {u.code: u for u in units48}


# --- reading GeoJSON ----------------------------------------------------------------------


def test_national_file_filtered_to_da_nang_gives_its_94_wards(units48, by_code):
    assert len(units48) == 94
    assert len(by_code) == 94
    assert all(u.province_code == "48" and len(u.code) == 5 for u in units48)
    assert {u.province_name for u in units48} == {"Thành phố Đà Nẵng"}
    assert all(not u.approximate and u.geometry.is_valid for u in units48)
    assert all(u.area_km2 and u.area_km2 > 0 for u in units48)
    assert by_code[HAI_CHAU].full_name == "Phường Hải Châu"
    assert by_code[HOI_AN].full_name == "Phường Hội An"
    assert by_code[HAI_CHAU].name_en == "Hai Chau"


def _write(path: Path, collection: dict | str, *, gz: bool = False) -> Path:
    text = collection if isinstance(collection, str) else json.dumps(collection, indent=1)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _feature(code, geometry, **props) -> dict:
    properties = {"code": code, "name": f"Đơn vị {code}", "province_code": "48", **props}
    if code is None:
        del properties["code"]
    return {"type": "Feature", "properties": properties, "geometry": geometry}


SQUARE = box(108.0, 16.0, 108.01, 16.01).__geo_interface__


def test_reader_handles_plain_gzip_any_key_order_and_odd_strings(tmp_path):
    tricky = {
        # Keys in another order, braces and escaped quotes inside strings, a bbox before
        # the features: the scanner must not be fooled by any of them.
        "bbox": [108.0, 16.0, 108.1, 16.1],
        "name": 'wards {"x": [1]}',
        "type": "FeatureCollection",
        "features": [
            {
                "geometry": SQUARE,
                "type": "Feature",
                "properties": {
                    "name": 'Hải "Châu" {}',
                    "code": 20242,
                    "province_code": 48,
                    "province_name": "Thành phố Đà Nẵng",
                },
            },
            _feature("20001", SQUARE, province_code="01"),
        ],
    }
    for gz in (False, True):
        path = _write(tmp_path / f"w{gz}.geojson{'.gz' if gz else ''}", tricky, gz=gz)
        units = geo.read_units_geojson(path, "48")
        assert [u.code for u in units] == ["20242"]
        assert units[0].name == 'Hải "Châu" {}'
        assert units[0].province_code == "48"
        assert units[0].area_km2 == pytest.approx(1.19, rel=0.02)  # computed when absent
        assert len(geo.read_units_geojson(path)) == 2


def test_invalid_polygon_is_repaired(tmp_path):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[108.0, 16.0], [108.01, 16.01], [108.01, 16.0], [108.0, 16.01], [108.0, 16.0]]
        ],
    }
    path = _write(
        tmp_path / "w.geojson",
        {"type": "FeatureCollection", "features": [_feature("00001", bowtie)]},
    )
    (unit,) = geo.read_units_geojson(path)
    assert unit.geometry.is_valid
    assert isinstance(unit.geometry, Polygon | MultiPolygon)
    assert unit.geometry.area == pytest.approx(0.00005, rel=0.01)


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        (_feature(None, SQUARE), "#1 (Đơn vị None)"),
        (_feature("abc", SQUARE), "#1"),
        (_feature("00002", None), "00002"),
        (_feature("00002", {"type": "Point", "coordinates": [108.0, 16.0]}), "Polygon"),
        (
            _feature("00002", {"type": "Polygon", "coordinates": [[[108.0, 16.0], [108.1, 16.1]]]}),
            "00002",
        ),
    ],
)
def test_bad_features_are_refused_with_the_feature_named(tmp_path, feature, expected):
    good = _feature("00001", SQUARE)
    path = _write(
        tmp_path / "w.geojson", {"type": "FeatureCollection", "features": [good, feature]}
    )
    with pytest.raises(ValidationError) as info:
        geo.read_units_geojson(path)
    assert expected in info.value.message_vi
    assert "w.geojson" in info.value.message_en


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "Feature", "geometry": null}',
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": ',
        "not json at all",
    ],
)
def test_files_that_are_not_feature_collections_are_refused(tmp_path, text):
    with pytest.raises(ValidationError):
        geo.read_units_geojson(_write(tmp_path / "w.geojson", text))


def test_duplicate_codes_and_missing_files_are_refused(tmp_path):
    features = [_feature("00001", SQUARE), _feature("00001", SQUARE)]
    path = _write(tmp_path / "w.geojson", {"type": "FeatureCollection", "features": features})
    with pytest.raises(ValidationError, match="00001"):
        geo.read_units_geojson(path)
    with pytest.raises(ValidationError):
        geo.read_units_geojson(tmp_path / "missing.geojson")
    with pytest.raises(ValidationError):
        geo.read_units_geojson(path, province_code="Đà Nẵng")


def test_province_codes_in_a_provinces_own_file(tmp_path):
    # A province's own file may leave the province code out: the filter supplies it.
    bare = _feature("00001", SQUARE)
    del bare["properties"]["province_code"]
    path = _write(tmp_path / "a.geojson", {"type": "FeatureCollection", "features": [bare]})
    (unit,) = geo.read_units_geojson(path, province_code="48")
    assert unit.province_code == "48"
    with pytest.raises(ValidationError, match="province_code"):
        geo.read_units_geojson(path)
    garbled = _feature("00002", SQUARE, province_code="DN")
    path = _write(tmp_path / "b.geojson", {"type": "FeatureCollection", "features": [garbled]})
    with pytest.raises(ValidationError, match="DN"):
        geo.read_units_geojson(path, province_code="48")


# --- locating points ----------------------------------------------------------------------


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
        index = geo.GeoIndex(order)
        assert index.locate(1.5, 1.5) == "S"  # in the overlap
        assert index.locate(1.0, 1.5) == "S"  # on the small square's edge
        assert index.locate(0.5, 0.5) == "B"
        assert index.locate(2.2, 2.2) == "S"
        assert index.locate(3.0, 3.0) is None
    for order in ([("20002", twin), ("20001", small)], [("20001", small), ("20002", twin)]):
        assert geo.GeoIndex(order).locate(1.5, 1.5) == "20001"
    # A shared edge between two equal squares goes to the lower code.
    left, right = box(0.0, 0.0, 1.0, 1.0), box(1.0, 0.0, 2.0, 1.0)
    assert geo.GeoIndex([("2", left), ("1", right)]).locate(0.5, 1.0) == "1"


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
        geo.GeoIndex([])
    with pytest.raises(ValidationError):
        geo.GeoIndex([("1", box(0, 0, 1, 1)), ("1", box(1, 1, 2, 2))])


# --- approximate cells -------------------------------------------------------------------


def test_approximate_units_give_one_cell_per_ward_around_its_centre():
    units = geo.approximate_units("48")
    assert len(units) == 94
    assert all(u.approximate and u.province_code == "48" for u in units)
    assert all(u.geometry.is_valid and not u.geometry.is_empty for u in units)
    index = geo.GeoIndex(units)
    centres = geo.unit_centres("48")
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
        assert geo._area_km2(u.geometry) < 2.2 * (u.area_km2 or 0) + 60


def test_approximate_cells_match_the_official_wards_mostly(units48):
    index = geo.GeoIndex(geo.approximate_units("48"))
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
        geo.approximate_units("99")
    with pytest.raises(ValidationError):
        geo.approximate_units("Đà Nẵng")


# --- cells, distances, display -----------------------------------------------------------


def test_cells_for_gives_valid_nested_h3_cells():
    cells = geo.cells_for(*BACH_DANG)
    assert set(cells) == {f"h3_r{r}" for r in geo.CELL_RESOLUTIONS} == {"h3_r6", "h3_r8", "h3_r10"}
    for res in geo.CELL_RESOLUTIONS:
        cell = cells[f"h3_r{res}"]
        assert h3.is_valid_cell(cell)
        assert h3.get_resolution(cell) == res
        assert len(cell) <= 16  # fits the report's column
    assert h3.cell_to_parent(cells["h3_r10"], 8) == cells["h3_r8"]
    assert h3.cell_to_parent(cells["h3_r8"], 6) == cells["h3_r6"]
    lat, lon = h3.cell_to_latlng(cells["h3_r10"])
    assert geo.distance_m((lat, lon), BACH_DANG) < 100
    with pytest.raises(ValidationError):
        geo.cells_for(100, 0)


def test_distance_is_geodesic_metres():
    han_bridge = (16.0722, 108.2270)
    d = geo.distance_m(DRAGON_BRIDGE, han_bridge)
    assert d == pytest.approx(1200, rel=0.02)
    assert geo.distance_m(han_bridge, DRAGON_BRIDGE) == pytest.approx(d)
    assert geo.distance_m(BACH_DANG, BACH_DANG) == 0
    # One degree of latitude at 16° N on the WGS84 ellipsoid.
    assert geo.distance_m((16.0, 108.0), (17.0, 108.0)) == pytest.approx(110_700, rel=0.002)


def test_simplify_for_display_returns_a_lighter_geojson_geometry(by_code):
    original = by_code["20194"].geometry  # Hải Vân: a long, detailed boundary
    mapping = geo.simplify_for_display(original)
    assert mapping["type"] in ("Polygon", "MultiPolygon")
    simplified = shape(mapping)
    assert simplified.is_valid
    assert len(shapely.get_coordinates(simplified)) < len(shapely.get_coordinates(original)) / 3
    assert simplified.symmetric_difference(original).area < 0.01 * original.area
    json.dumps(mapping)  # plain JSON types only
    collection = geo.feature_collection([by_code[HAI_CHAU]])
    assert collection["features"][0]["properties"]["code"] == HAI_CHAU


def test_km_per_degree():
    assert math.isclose(geo.KM_PER_DEGREE, 111.32)
