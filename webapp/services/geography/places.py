"""Geography backed by the database: the in-memory index of units, placement and geocoding."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from shapely.geometry import shape

from webapp.extensions import db
from webapp.infra import versions
from webapp.models import AdminUnit
from webapp.services.geography import gazetteer as gz
from webapp.services.geography import geo_index, geocoding, geojson_reader

# The name of the ward index among the versioned caches.
CACHE_NAME = "places"


@dataclass(frozen=True)
class Placement:
    """Where a point lies: its ward (None when outside every known unit) and its cells."""

    unit_code: str | None
    province_code: str | None
    cells: dict[str, str]

    @property
    def inside(self) -> bool:
        """Whether the point lies in a known commune/ward."""
        return self.unit_code is not None


class _Places:
    """The spatial index and gazetteer of one database, rebuilt when units change."""

    def __init__(
        self, units: list[AdminUnit], streets_csv: Path | None, names_txt: Path | None = None
    ):
        wards = [u for u in units if u.level == "ward" and u.geometry]
        self.parent = {u.code: u.parent_code for u in wards}
        self.index = geo_index.GeoIndex(
            [(u.code, shape(json.loads(u.geometry))) for u in wards]  # type: ignore[arg-type]
        )
        self.approximate = any(u.approximate for u in wards)
        self.gazetteer = gz.Gazetteer(
            [
                gz.PlaceUnit(
                    u.code,
                    u.name,
                    u.full_name,
                    *self.index.representative_point(u.code),
                    area_km2=u.area_km2,
                )
                for u in wards
            ],
            gz.load_streets(streets_csv) if streets_csv and streets_csv.exists() else (),
            gz.load_street_names(names_txt) if names_txt and names_txt.exists() else (),
        )


def _streets_csv() -> Path:
    return gz.streets_path(current_app.config["PROVINCE_CODE"])


def _build() -> _Places:
    code = current_app.config["PROVINCE_CODE"]
    units = list(db.session.scalars(db.select(AdminUnit)))
    return _Places(units, _streets_csv(), gz.street_names_path(code))


def places() -> _Places:
    """The index for the current app, built from the units table; rebuilt in every process
    after boundaries are imported anywhere (`webapp.infra.versions`)."""
    return versions.cached(CACHE_NAME, _build)


def invalidate() -> None:
    """Every process's index and display layer are out of date (boundaries were imported)."""
    versions.bump(CACHE_NAME)


def place(lat: float, lon: float) -> Placement:
    """Locate a point in its commune/ward and compute its heatmap cells."""
    p = places()
    code = p.index.locate(lat, lon)
    return Placement(code, p.parent.get(code) if code else None, geo_index.cells_for(lat, lon))


def geocode(text: str) -> gz.GazetteerMatch | None:
    """A point for a typed address: Nominatim when configured, else the offline gazetteer."""
    cfg = current_app.config
    online = None
    if cfg.get("NOMINATIM_DOMAIN"):
        online = geocoding.NominatimGeocoder(
            domain=cfg["NOMINATIM_DOMAIN"],
            scheme=cfg.get("NOMINATIM_SCHEME", "https"),
            user_agent=cfg["NOMINATIM_USER_AGENT"],
        )
    p = places()
    return geocoding.geocode(text, online, p.gazetteer, index=p.index)


def find_place_names(text: str) -> gz.GazetteerMatch | None:
    """Ward and street names of the province found in free text (offline only)."""
    return places().gazetteer.find(text)


def find_entity_place(entities: dict[str, list[str]]) -> gz.GazetteerMatch | None:
    """The place the NLU's `street` and `ward` entities name, streets first. A ward name
    that is part of a street name found beside it ("Hưng Đạo" in "Trần Hưng Đạo") is that
    street's, not the ward; a short ward name is read as "phường X"."""
    streets = entities.get("street", [])
    inside = [" ".join(s.casefold().split()) for s in streets]
    wards = [
        w
        for w in entities.get("ward", [])
        if not any(" ".join(w.casefold().split()) in s for s in inside)
    ]
    for name in [*streets, *wards]:
        match = find_place_names(name if " " in name else f"phường {name}")
        if match is not None:
            return match
    return None


def import_units(shapes: list[geojson_reader.UnitShape]) -> tuple[int, int]:
    """Insert or update provinces and wards from boundary shapes; returns (created, updated)."""
    created = updated = 0
    provinces = {s.province_code: s.province_name for s in shapes}
    for code, name in provinces.items():
        unit = db.session.get(AdminUnit, code)
        if unit is None:
            db.session.add(
                AdminUnit(code=code, level="province", name=_short(name), full_name=name)
            )
            created += 1
    db.session.flush()
    for s in shapes:
        unit = db.session.get(AdminUnit, s.code)
        if unit is None:
            unit = AdminUnit(code=s.code, level="ward")
            db.session.add(unit)
            created += 1
        else:
            updated += 1
        centre = s.geometry.representative_point()
        unit.name, unit.full_name, unit.name_en = s.name, s.full_name, s.name_en
        unit.parent_code = s.province_code
        unit.area_km2 = s.area_km2
        unit.center_lat, unit.center_lon = centre.y, centre.x
        unit.geometry = json.dumps(s.geometry.__geo_interface__, separators=(",", ":"))
        unit.approximate = s.approximate
    invalidate()  # in the same transaction: every process sees the new units and rebuilds
    db.session.commit()
    return created, updated


def _short(province_name: str) -> str:
    for prefix in ("Thành phố ", "Tỉnh "):
        if province_name.startswith(prefix):
            return province_name[len(prefix) :]
    return province_name
