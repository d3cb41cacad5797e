"""The NLU's street and ward entities place a report: streets first, and a ward name that is
part of a street name found beside it is that street's, not the ward."""

from __future__ import annotations

from webapp.services.geography import places

from .real_wards import HAI_CHAU, THANH_KHE


def test_a_street_with_a_point_places_the_report(ctx):
    match = places.find_entity_place({"street": ["Hùng Vương"], "ward": ["Thanh Khê"]})
    assert (match.street, match.precision) == ("Hùng Vương", "street")


def test_a_ward_alone_places_the_report_in_it(ctx):
    match = places.find_entity_place({"ward": ["Thanh Khê"]})
    assert (match.unit_code, match.precision) == (THANH_KHE, "ward")
    assert places.find_entity_place({"ward": ["hai chau"]}).unit_code == HAI_CHAU


def test_a_ward_inside_a_street_name_is_not_the_ward(ctx):
    # Dũng Sĩ Thanh Khê is known by name only (config/provinces/48/street_names.txt).
    entities = {"street": ["Dũng Sĩ Thanh Khê"], "ward": ["Thanh Khê"]}
    assert places.find_entity_place(entities) is None
    assert places.find_place_names("ngập ở đường Dũng Sĩ Thanh Khê") is None


def test_nothing_found(ctx):
    assert places.find_entity_place({}) is None
    assert places.find_entity_place({"street": ["Không Có Phố Này"]}) is None
