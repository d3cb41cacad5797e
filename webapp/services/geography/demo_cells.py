"""Approximate demo cells: ward shapes for a province that has supplied no boundaries.

Built from the ward centre points and areas of the `vietnamadminunits` package (a
Voronoi cell around each centre, clipped to discs of about the ward's size) and marked
`approximate`, so the maps can say so. Pure functions, no Flask and no database.
"""

from __future__ import annotations

import importlib.resources
import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.affinity
from flask_babel import lazy_gettext as _l
from shapely.geometry import Point, Polygon

from webapp.errors import NotFound, ValidationError
from webapp.infra.text import ascii_name
from webapp.services.geography.geojson_reader import (
    KM_PER_DEGREE,
    UnitShape,
    normalise_code,
    polygonal,
)

# Disc area of an approximate cell, as a multiple of the ward's official area: big
# enough that neighbouring discs overlap (no gaps inside the province), small enough
# that a coastal or border ward does not swallow the sea or the next province.
APPROX_DISC_AREA_FACTOR = 2.0


def _dataset_path() -> Path:
    return Path(str(importlib.resources.files("vietnamadminunits") / "data" / "dataset.db"))


def _dataset_rows(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    # Read-only: the package directory may belong to root on a server.
    conn = sqlite3.connect(f"{_dataset_path().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _disc(lon: float, lat: float, area_km2: float) -> Polygon:
    """An ellipse in degrees that is a circle on the ground with the given area."""
    radius_km = math.sqrt(area_km2 / math.pi)
    ry = radius_km / KM_PER_DEGREE
    rx = ry / math.cos(math.radians(lat))
    circle = Point(0, 0).buffer(1.0, quad_segs=16)
    return shapely.affinity.affine_transform(circle, [rx, 0, 0, ry, lon, lat])


def approximate_units(province_code: str) -> list[UnitShape]:
    """Approximate ward cells for a province from the vietnamadminunits centre points."""
    wanted = normalise_code(province_code, 2)
    if wanted is None:
        raise ValidationError(
            _l("Mã tỉnh không hợp lệ: %(province_code)s.", province_code=repr(province_code)),
            field="province_code",
        )
    rows = _dataset_rows(
        "SELECT wardCode, ward, wardShort, wardLat, wardLon, wardAreaKm2, province "
        "FROM admin_units WHERE provinceCode = ? ORDER BY wardCode",
        wanted,
    )
    rows = [r for r in rows if r[3] is not None and r[4] is not None]
    if not rows:
        raise NotFound(
            _l("Không có dữ liệu đơn vị hành chính cho tỉnh %(wanted)s.", wanted=wanted),
            field="province_code",
        )
    areas = [float(r[5]) for r in rows if r[5]]
    fallback_area = float(np.median(areas)) if areas else 20.0
    centres = [(float(r[4]), float(r[3])) for r in rows]
    discs = [
        _disc(lon, lat, APPROX_DISC_AREA_FACTOR * float(r[5] or fallback_area))
        for (lon, lat), r in zip(centres, rows, strict=True)
    ]
    coverage = shapely.union_all(discs)
    if len(rows) == 1:
        cells = [discs[0]]
    else:
        # ordered=True keeps the input order, so cell i belongs to centre i even where
        # the package has two wards at (almost) the same point.
        voronoi = shapely.voronoi_polygons(
            shapely.MultiPoint(centres), extend_to=coverage.envelope.buffer(1.0), ordered=True
        )
        cells = list(voronoi.geoms)
    units: list[UnitShape] = []
    for row, disc, cell in zip(rows, discs, cells, strict=True):
        code, full_name, short, _lat, _lon, area, province = row
        # Clipping to the union (not only the own disc) lets a cell reach into the gap
        # where only a neighbour's disc is, so the approximate cells leave no holes
        # between neighbours; the own disc is part of the union, so the cell always
        # keeps its centre.
        geometry = polygonal(cell.intersection(coverage)) if len(rows) > 1 else disc
        name = str(short or full_name)
        units.append(
            UnitShape(
                code=str(code).zfill(5),
                name=name,
                full_name=str(full_name or name),
                name_en=ascii_name(name),
                province_code=wanted,
                province_name=str(province or ""),
                area_km2=float(area) if area else None,
                geometry=geometry,
                approximate=True,
            )
        )
    return units


def unit_centres(province_code: str) -> dict[str, tuple[float, float]]:
    """The (lat, lon) centre points the vietnamadminunits package gives a province's wards."""
    rows = _dataset_rows(
        "SELECT wardCode, wardLat, wardLon FROM admin_units WHERE provinceCode = ?",
        normalise_code(province_code, 2),
    )
    return {str(c).zfill(5): (lat, lon) for c, lat, lon in rows if lat is not None}
