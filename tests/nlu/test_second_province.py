"""A second province is data, not code: Hà Nội (01) from its boundaries and its config folder.

The NLU's lookup tables are generated for 01 from the real 2025 polygons (../shared/geo)
and config/provinces/01/, and the app's gazetteer built from the same sources finds what
the tables name. Skipped when ../shared/geo is not on the machine.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from nlu.normalize import normalize
from nlu.tools import gen_lookups
from tests.support.geo_data import SHARED_WARDS
from webapp.services.geography import gazetteer as gz
from webapp.services.geography import geojson_reader

HA_NOI = "01"
HOAN_KIEM, BA_DINH, CUA_NAM = "00070", "00004", "00082"
PROVINCE_01 = gen_lookups.PROVINCES_DIR / HA_NOI


def _require_shared_geo() -> None:
    if not SHARED_WARDS.exists():
        pytest.skip(f"real ward polygons not available ({SHARED_WARDS} is absent)")


def _table(path: Path, entity: str) -> tuple[list[str], list[str]]:
    """(lookup elements in file order, synonym names) of a generated file."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    lookup = next(item for item in doc["nlu"] if item.get("lookup") == entity)
    elements = [line[2:] for line in lookup["examples"].splitlines() if line.startswith("- ")]
    return elements, [item["synonym"] for item in doc["nlu"] if "synonym" in item]


@pytest.fixture(scope="module")
def units01() -> list[geojson_reader.UnitShape]:
    _require_shared_geo()
    return geojson_reader.read_units_geojson(SHARED_WARDS, province_code=HA_NOI)


@pytest.fixture(scope="module")
def tables01(tmp_path_factory) -> Path:
    _require_shared_geo()
    out = tmp_path_factory.mktemp("lookups01")
    argv = ["--province", HA_NOI, "--boundaries", str(SHARED_WARDS), "--out", str(out)]
    assert gen_lookups.main(argv) == 0
    return out


@pytest.fixture(scope="module")
def gazetteer01(units01) -> gz.Gazetteer:
    names = gz.load_street_names(gz.street_names_path(HA_NOI))
    return gz.Gazetteer.from_units(units01, gz.streets_path(HA_NOI), names)


def test_the_wards_are_ha_nois(tables01, units01):
    elements, wards = _table(tables01 / "ward.yml", "ward")
    assert len(wards) == len(units01) == 126
    assert {u.name for u in units01} == set(wards)
    assert {"Hoàn Kiếm", "Ba Đình", "Cửa Nam", "Văn Miếu - Quốc Tử Giám"} <= set(wards)
    assert {"hoàn kiếm", "hoan kiem", "ba đình", "ba dinh"} <= set(elements)
    header = (tables01 / "ward.yml").read_text(encoding="utf-8").splitlines()[0]
    assert "wards.geojson.gz (province_code 01)" in header


def test_no_da_nang_ward_leaks_in(tables01, units01):
    elements, wards = _table(tables01 / "ward.yml", "ward")
    ha_noi = {normalize(u.name) for u in units01}
    da_nang = {normalize(w) for w in gen_lookups.load_wards("48")}
    assert da_nang & ha_noi == {"tây hồ"}  # a phường of Hà Nội and a xã of Đà Nẵng
    assert not (da_nang - ha_noi) & {normalize(w) for w in wards}
    assert not {"hải châu", "hai chau", "hòa khánh", "hoa khanh", "sơn trà"} & set(elements)


def test_the_streets_are_ha_nois(tables01):
    elements, streets = _table(tables01 / "street.yml", "street")
    with (PROVINCE_01 / "streets.csv").open(encoding="utf-8") as handle:
        located = [row["name"] for row in csv.DictReader(handle)]
    assert set(located) <= set(streets)
    assert set(gen_lookups.load_street_names(HA_NOI)) == set(streets)  # no name dropped
    assert len(streets) > len(located)  # street_names.txt adds names without a point
    assert {"hàng bông", "hang bong", "đinh tiên hoàng", "dinh tien hoang"} <= set(elements)
    assert "Nguyễn Văn Linh" not in streets  # a Đà Nẵng street
    header = (tables01 / "street.yml").read_text(encoding="utf-8").splitlines()[0]
    assert "config/provinces/01/streets.csv + street_names.txt" in header


def test_a_name_is_a_ward_or_a_street_and_longest_comes_first(tables01):
    ward_elements, wards = _table(tables01 / "ward.yml", "ward")
    street_elements, streets = _table(tables01 / "street.yml", "street")
    assert not set(wards) & set(streets)
    assert not set(ward_elements) & set(street_elements)
    for elements in (ward_elements, street_elements):
        lengths = [len(e) for e in elements]
        assert lengths == sorted(lengths, reverse=True)


def test_the_gazetteer_finds_a_street_and_its_ward(gazetteer01):
    row = next(s for s in gazetteer01.streets if s.name == "Hàng Bông")
    for text in (
        "ổ gà trên phố Hàng Bông, phường Hoàn Kiếm",
        "o ga tren pho hang bong, phuong hoan kiem",
        "số 12 Hàng Bông",
    ):
        match = gazetteer01.find(text)
        assert match is not None, text
        assert (match.street, match.unit_code, match.precision) == (
            "Hàng Bông",
            HOAN_KIEM,
            "street",
        )
        assert (match.lat, match.lon) == (row.lat, row.lon)


def test_the_gazetteer_finds_wards_and_keeps_da_nang_out(gazetteer01):
    match = gazetteer01.find("rác thải ở phường Ba Đình")
    assert (match.unit_code, match.precision) == (BA_DINH, "ward")
    # The street's known point is in Hoàn Kiếm: "phường Cửa Nam" keeps the ward only.
    stated = gazetteer01.find("đèn hỏng phố Hàng Khay, phường Cửa Nam")
    assert (stated.unit_code, stated.precision, stated.street) == (CUA_NAM, "ward", "Hàng Khay")
    assert gazetteer01.find("ngập nước đường Nguyễn Văn Linh, Hải Châu") is None


def test_every_nlu_name_resolves_in_the_gazetteer(tables01, gazetteer01, units01):
    """The app places a report by the NLU's entities (`places.find_place_names`)."""
    code_of = {u.name: u.code for u in units01}
    for ward in _table(tables01 / "ward.yml", "ward")[1]:
        assert gazetteer01.find(f"phường {ward}").unit_code == code_of[ward], ward
    located = {s.name: s.ward_code for s in gazetteer01.streets}
    for street in _table(tables01 / "street.yml", "street")[1]:
        match = gazetteer01.find(street)
        if street in located:
            assert (match.street, match.unit_code) == (street, located[street]), street
        else:  # a name without a point must not be read as a ward
            assert match is None, (street, match)


def test_a_street_holding_a_commune_name_is_not_the_commune(gazetteer01):
    """Trần Hưng Đạo (Hoàn Kiếm) is not xã Hưng Đạo, 30 km away: a name without a point
    places nothing, and with the ward given the ward is kept."""
    assert gazetteer01.find("đèn đường hỏng cả dãy phố Trần Hưng Đạo") is None
    assert gazetteer01.find("tran hung dao ngap nuoc") is None
    stated = gazetteer01.find("phố Trần Hưng Đạo, phường Cửa Nam, vỉa hè vỡ")
    assert (stated.unit_code, stated.precision, stated.street) == (CUA_NAM, "ward", "Trần Hưng Đạo")
    assert gazetteer01.find("rác ở xã Hưng Đạo").precision == "ward"
