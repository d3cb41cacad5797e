"""Offline gazetteer and street list, against the real wards of Đà Nẵng; every province's
streets.csv against its own wards."""

from __future__ import annotations

from pathlib import Path

import pytest

from webapp.errors import ValidationError
from webapp.services.geography import gazetteer as gz
from webapp.services.geography import geo_index

from .real_wards import AN_HAI, HAI_CHAU, HOI_AN, real_units, require_shared_geo

HOI_AN_TAY, HOA_KHANH, BA_NA, HOA_CUONG = "20401", "20200", "20308", "20257"
PROVINCES_WITH_STREETS = sorted(
    path.parent.name for path in Path(gz.PROJECT_ROOT, "config", "provinces").glob("*/streets.csv")
)


# --- wards --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["phuong hai chau", "P.Hải Châu", "Hải Châu", "p. hai chau", "rác ở phường Hải Châu"],
)
def test_ward_names_match_however_written(gazetteer, index48, text):
    match = gazetteer.find(text)
    assert match is not None
    assert match.unit_code == HAI_CHAU
    assert match.precision == "ward"
    assert match.street is None
    assert index48.locate(match.lat, match.lon) == HAI_CHAU


def test_matched_text_quotes_the_original(gazetteer):
    assert gazetteer.find("kiệt 12, P. Hải Châu").matched_text == "P. Hải Châu"
    assert gazetteer.find("gần chợ Hải Châu nhé").matched_text == "Hải Châu"


def test_longest_name_and_prefix_win(gazetteer):
    assert gazetteer.find("Hội An Tây").unit_code == HOI_AN_TAY
    assert gazetteer.find("phường Hội An").unit_code == HOI_AN
    assert gazetteer.find("hoi an").unit_code == HOI_AN
    # Two wards named: the one with "phường" in front is the ward meant.
    assert gazetteer.find("gần Hải Châu, phường Hòa Khánh").unit_code == HOA_KHANH


def test_spelling_conventions_are_the_same_name(gazetteer):
    # Official data writes "Hoà", most keyboards "Hòa"; "Kỳ"/"Kì" alike.
    assert gazetteer.find("Hòa Khánh").unit_code == HOA_KHANH
    assert gazetteer.find("Hoà Khánh").unit_code == HOA_KHANH
    assert gazetteer.find("Tam Kì").unit_code == gazetteer.find("Tam Kỳ").unit_code == "20341"


@pytest.mark.parametrize(
    "text",
    [
        "hôm nay trời đẹp quá",
        "hai cháu nhỏ bị ngã xe",  # folds to "hai chau" but is not Hải Châu
        "ba na",  # too short to trust without a prefix
        "lên Bà Nà chơi",
        "ngày 2 tháng 9 nghỉ lễ",  # a date, not the street
        "đường Hoàng Sa",  # the beach road, not the special zone
        "Ổ gà trên phố Hàng Bài, Hà Nội",
        "con chó sủa suốt đêm",
        "",
        "   ",
    ],
)
def test_random_words_do_not_match(gazetteer, text):
    assert gazetteer.find(text) is None


def test_short_names_need_a_prefix(gazetteer):
    assert gazetteer.find("xã Bà Nà").unit_code == BA_NA
    assert gazetteer.find("X.Bà Nà").unit_code == BA_NA


def test_common_word_names_need_a_prefix():
    units = [
        gz.PlaceUnit("00001", "Thống Nhất", "Phường Thống Nhất", 10.0, 106.0),
        gz.PlaceUnit("00002", "Bình An", "Xã Bình An", 10.1, 106.1),
    ]
    gazetteer = gz.Gazetteer(units)
    assert gazetteer.find("đất nước thống nhất") is None
    assert gazetteer.find("mong mọi người bình an") is None
    assert gazetteer.find("phường Thống Nhất").unit_code == "00001"
    assert gazetteer.find("xa binh an").unit_code == "00002"


# --- streets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "đường nguyen van linh gần cầu rồng",
        "Đường Nguyễn Văn Linh",
        "Nguyễn Văn Linh",
        "nguyen van linh",
        "254 Nguyễn Văn Linh",
    ],
)
def test_street_names_give_the_street_point_and_its_ward(gazetteer, streets, text):
    match = gazetteer.find(text)
    row = next(s for s in streets if s.name == "Nguyễn Văn Linh")
    assert match is not None
    assert match.precision == "street"
    assert match.street == "Nguyễn Văn Linh"
    assert (match.lat, match.lon) == (row.lat, row.lon)
    assert match.unit_code == row.ward_code == HAI_CHAU


def test_ward_in_the_text_restricts_the_street(gazetteer):
    da_nang = gazetteer.find("Trần Phú")
    hoi_an = gazetteer.find("số 5 Trần Phú, phường Hội An")
    assert da_nang.unit_code == HAI_CHAU
    assert hoi_an.unit_code == HOI_AN and hoi_an.precision == "street"
    assert hoi_an.matched_text == "5 Trần Phú, phường Hội An"
    assert geo_index.distance_m((da_nang.lat, da_nang.lon), (hoi_an.lat, hoi_an.lon)) > 20_000
    # A bare neighbouring name (often an old district) picks the nearest row...
    assert gazetteer.find("Lê Lợi, Hội An Tây").unit_code == HOI_AN
    assert gazetteer.find("đường Ngô Quyền, Sơn Trà").unit_code == AN_HAI
    # ...but "phường X" is the resident's word: the ward, with the street for the operator.
    stated = gazetteer.find("Lê Lợi, phường Hội An Tây")
    assert (stated.unit_code, stated.precision, stated.street) == (HOI_AN_TAY, "ward", "Lê Lợi")
    # A street known only far away is not moved into the ward.
    far = gazetteer.find("Lê Lợi, Tam Kỳ")
    assert (far.unit_code, far.precision) == ("20341", "ward")


def test_street_light_is_not_a_street_name(gazetteer):
    match = gazetteer.find("đèn đường Hải Châu hỏng cả tuần")
    assert match.unit_code == HAI_CHAU and match.precision == "ward"


def test_numbered_streets_need_a_street_word(gazetteer):
    assert gazetteer.find("đường 2 Tháng 9").unit_code == HOA_CUONG
    assert gazetteer.find("123 Cách Mạng Tháng 8").street == "Cách Mạng Tháng 8"


def test_da_nang_lists_its_well_known_streets(streets):
    assert 40 <= len(streets) <= 150


@pytest.mark.parametrize("province", PROVINCES_WITH_STREETS)
def test_every_street_point_lies_in_its_ward_inside_the_province(province):
    require_shared_geo()
    units = real_units(province)
    index = geo_index.GeoIndex(units)
    streets = gz.load_streets(gz.streets_path(province))
    assert streets
    codes = {u.code for u in units}
    for street in streets:
        code = index.locate(street.lat, street.lon)
        assert code in codes, street
        assert code == street.ward_code, street
    names = [(s.name, s.ward_code) for s in streets]
    assert len(names) == len(set(names)), "a street twice in the same ward"


def test_streets_csv_is_validated(tmp_path):
    bad_header = tmp_path / "a.csv"
    bad_header.write_text("name,lat,lon\nX,16,108\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="ward_code"):
        gz.load_streets(bad_header)
    bad_row = tmp_path / "b.csv"
    bad_row.write_text("name,lat,lon,ward_code\nX,16,108,20242\nY,abc,108,20242\n", "utf-8")
    with pytest.raises(ValidationError, match="3"):
        gz.load_streets(bad_row)
    assert gz.streets_path("48") == Path(
        gz.PROJECT_ROOT, "config", "provinces", "48", "streets.csv"
    )


# --- streets known by name only --------------------------------------------------------------


def _named_only() -> gz.Gazetteer:
    units = [
        gz.PlaceUnit("00070", "Hoàn Kiếm", "Phường Hoàn Kiếm", 21.03, 105.85),
        gz.PlaceUnit("10525", "Hưng Đạo", "Xã Hưng Đạo", 20.95, 105.55),
    ]
    return gz.Gazetteer(units, names=["Trần Hưng Đạo"])


@pytest.mark.parametrize(
    "text", ["ổ gà phố Trần Hưng Đạo", "tran hung dao bi ngap", "Trần Hưng Đạo"]
)
def test_a_ward_name_inside_a_street_name_is_not_the_ward(text):
    assert _named_only().find(text) is None


def test_a_named_street_without_a_point_keeps_the_ward_given():
    match = _named_only().find("đèn hỏng phố Trần Hưng Đạo, phường Hoàn Kiếm")
    assert (match.unit_code, match.precision, match.street) == ("00070", "ward", "Trần Hưng Đạo")
    assert _named_only().find("rác ở xã Hưng Đạo").unit_code == "10525"


def test_without_the_names_the_ward_was_read():
    units = [gz.PlaceUnit("10525", "Hưng Đạo", "Xã Hưng Đạo", 20.95, 105.55)]
    assert gz.Gazetteer(units).find("phố Trần Hưng Đạo").unit_code == "10525"


def test_street_names_file(tmp_path):
    path = tmp_path / "street_names.txt"
    path.write_text("# comment\n\nTrần Hưng Đạo\n  Lê Lợi  \n", encoding="utf-8")
    assert gz.load_street_names(path) == ["Trần Hưng Đạo", "Lê Lợi"]
    assert gz.street_names_path("01").name == "street_names.txt"
