"""Reading ward boundaries from GeoJSON, against the real 2025 polygons of Đà Nẵng."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from webapp.errors import ValidationError
from webapp.services.geography import geojson_reader

from .real_wards import HAI_CHAU, HOI_AN


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
        units = geojson_reader.read_units_geojson(path, "48")
        assert [u.code for u in units] == ["20242"]
        assert units[0].name == 'Hải "Châu" {}'
        assert units[0].province_code == "48"
        assert units[0].area_km2 == pytest.approx(1.19, rel=0.02)  # computed when absent
        assert len(geojson_reader.read_units_geojson(path)) == 2


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
    (unit,) = geojson_reader.read_units_geojson(path)
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
        geojson_reader.read_units_geojson(path)
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
        geojson_reader.read_units_geojson(_write(tmp_path / "w.geojson", text))


def test_duplicate_codes_and_missing_files_are_refused(tmp_path):
    features = [_feature("00001", SQUARE), _feature("00001", SQUARE)]
    path = _write(tmp_path / "w.geojson", {"type": "FeatureCollection", "features": features})
    with pytest.raises(ValidationError, match="00001"):
        geojson_reader.read_units_geojson(path)
    with pytest.raises(ValidationError):
        geojson_reader.read_units_geojson(tmp_path / "missing.geojson")
    with pytest.raises(ValidationError):
        geojson_reader.read_units_geojson(path, province_code="Đà Nẵng")


def test_province_codes_in_a_provinces_own_file(tmp_path):
    # A province's own file may leave the province code out: the filter supplies it.
    bare = _feature("00001", SQUARE)
    del bare["properties"]["province_code"]
    path = _write(tmp_path / "a.geojson", {"type": "FeatureCollection", "features": [bare]})
    (unit,) = geojson_reader.read_units_geojson(path, province_code="48")
    assert unit.province_code == "48"
    with pytest.raises(ValidationError, match="province_code"):
        geojson_reader.read_units_geojson(path)
    garbled = _feature("00002", SQUARE, province_code="DN")
    path = _write(tmp_path / "b.geojson", {"type": "FeatureCollection", "features": [garbled]})
    with pytest.raises(ValidationError, match="DN"):
        geojson_reader.read_units_geojson(path, province_code="48")


def test_km_per_degree():
    assert math.isclose(geojson_reader.KM_PER_DEGREE, 111.32)
