"""The real 2025 ward polygons of Đà Nẵng (../shared/geo) and well-known places in them."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from webapp.services.geography import geojson_reader

SHARED_WARDS = Path(__file__).resolve().parents[4] / "shared" / "geo" / "wards.geojson.gz"

HAI_CHAU, AN_HAI, HOI_AN, THANH_KHE = "20242", "20275", "20410", "20209"
DRAGON_BRIDGE = (16.0614, 108.2270)  # west end of Cầu Rồng, by the river
BACH_DANG = (16.0700, 108.2246)  # riverside road, a block inside the ward
HOI_AN_OLD_TOWN = (15.8770, 108.3270)
HA_NOI = (21.0285, 105.8542)


@functools.cache
def real_units(province_code: str = "48") -> tuple[geojson_reader.UnitShape, ...]:
    """The official wards of a province, parsed once per test session."""
    return tuple(geojson_reader.read_units_geojson(SHARED_WARDS, province_code=province_code))


def require_shared_geo() -> None:
    """Skip the calling test when the shared boundary files are not on this machine."""
    if not SHARED_WARDS.exists():
        pytest.skip(f"real ward polygons not available ({SHARED_WARDS} is absent)")
