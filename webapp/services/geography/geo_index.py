"""Point → ward lookup (`GeoIndex`), heatmap cells, distances and boundaries for display.

Pure functions and classes, no Flask and no database: the DB layer stores the shapes of
`geojson_reader` or `demo_cells` and builds a `GeoIndex` from its rows at start-up.
Coordinates are (lat, lon) in the public API, (x=lon, y=lat) for shapely and GeoJSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import h3
import numpy as np
import shapely
import shapely.ops
from flask_babel import lazy_gettext as _l
from geopy.distance import geodesic
from shapely.geometry import Point, mapping
from shapely.geometry.base import BaseGeometry

from webapp.errors import NotFound, ValidationError
from webapp.services.geography.geojson_reader import KM_PER_DEGREE, UnitShape

CELL_RESOLUTIONS = (6, 8, 10)


# ---------------------------------------------------------------------------------------
# Point → ward index
# ---------------------------------------------------------------------------------------


def _check_latlon(lat: float, lon: float) -> tuple[float, float]:
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_l("Toạ độ phải là số."), field="location") from exc
    if not (-90.0 <= lat_f <= 90.0 and -180.0 <= lon_f <= 180.0) or math.isnan(lat_f + lon_f):
        raise ValidationError(
            _l("Toạ độ không hợp lệ: %(lat)s, %(lon)s.", lat=lat, lon=lon),
            field="location",
        )
    return lat_f, lon_f


class GeoIndex:
    """Point → ward code lookup over a set of ward polygons; read-only after construction.

    A grid of `cell_deg` squares (0.01° for a province) maps each square to the wards
    that touch it; a square entirely inside one ward answers without any geometry test
    (most of a province), the others test the few candidate polygons, prepared by GEOS.
    That is ~5 µs a point, against ~35-50 µs for one STRtree query per point (measured
    on Đà Nẵng), where the Python→GEOS call overhead dominates. The STRtree is kept for
    the nearest-ward search of `locate(..., tolerance_m=...)`.

    Border rule: the test is "intersects" (interior or boundary), so a point exactly on
    the border of two wards is found in both instead of in neither ("within" excludes
    the boundary). Such ties, and points in the slivers where two official polygons
    overlap (8 pairs nationally, digitising artefacts of a few m²), go to the ward with
    the smaller area, then the lower code. Neither side is more right than the other;
    what matters is that the answer never depends on the file order or on a rebuild, so
    the same point always lands in the same ward for routing, dedupe and statistics.
    The smaller unit goes first because it is usually the urban ward whose boundary was
    drawn at the finer scale.

    Thread safety: nothing is mutated after __init__. GEOS builds a prepared polygon's
    point locator lazily on first use, so __init__ runs one query against every polygon
    to build them all before the index is shared between threads.
    """

    def __init__(
        self,
        units: Iterable[UnitShape | tuple[str, BaseGeometry]],
        *,
        cell_deg: float | None = None,
    ):
        pairs: list[tuple[str, BaseGeometry]] = []
        for unit in units:
            if isinstance(unit, UnitShape):
                pairs.append((unit.code, unit.geometry))
            else:
                code, geometry = unit
                pairs.append((str(code), geometry))
        if not pairs:
            raise ValidationError(
                _l("Không có đơn vị hành chính nào để lập chỉ mục."),
            )
        codes = [c for c, _ in pairs]
        if len(set(codes)) != len(codes):
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            raise ValidationError(
                _l("Mã đơn vị bị trùng: %(codes)s.", codes=", ".join(dupes)),
            )
        # Rank order = tie-break order; candidates are kept sorted by rank, so the first
        # polygon that contains the point is the answer.
        pairs.sort(key=lambda p: (p[1].area, p[0]))
        self._codes: tuple[str, ...] = tuple(c for c, _ in pairs)
        self._geoms = np.array([g for _, g in pairs], dtype=object)
        self._rank = {code: i for i, code in enumerate(self._codes)}
        if cell_deg is None:
            # 0.01° (~1 km) squares for a province; coarser for a whole country, so the
            # grid stays around 100,000 squares (build time and memory) whatever the area.
            bounds = shapely.bounds(self._geoms)
            spread = float(np.sum((bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1])))
            cell_deg = max(0.01, math.sqrt(spread / 100_000))
        self._step = float(cell_deg)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)
        inside = shapely.point_on_surface(self._geoms)
        self._points = {code: (p.y, p.x) for code, p in zip(self._codes, inside, strict=True)}
        self._bounds = tuple(float(v) for v in shapely.total_bounds(self._geoms))
        self._grid = self._build_grid()
        for geometry, point in zip(self._geoms, inside, strict=True):
            # A point inside the envelope, or GEOS skips the locator it has to build.
            shapely.intersects_xy(geometry, point.x, point.y)

    def _build_grid(self) -> dict[tuple[int, int], int | tuple[int, ...]]:
        step = self._step
        # Squares are grown by a hair so a point that floor() puts in a square because
        # of rounding is still inside that square's closed box.
        eps = step * 1e-6
        touching: dict[tuple[int, int], list[int]] = {}
        covered: dict[tuple[int, int], int] = {}
        for rank, geometry in enumerate(self._geoms):
            minx, miny, maxx, maxy = geometry.bounds
            ixs = np.arange(math.floor(minx / step), math.floor(maxx / step) + 1)
            iys = np.arange(math.floor(miny / step), math.floor(maxy / step) + 1)
            gx, gy = (a.ravel() for a in np.meshgrid(ixs, iys))
            boxes = shapely.box(
                gx * step - eps, gy * step - eps, (gx + 1) * step + eps, (gy + 1) * step + eps
            )
            hits = shapely.intersects(geometry, boxes)
            inside = shapely.contains_properly(geometry, boxes[hits])
            for ix, iy, full in zip(gx[hits], gy[hits], inside, strict=True):
                key = (int(ix), int(iy))
                touching.setdefault(key, []).append(rank)
                if full:
                    covered[key] = rank
        grid: dict[tuple[int, int], int | tuple[int, ...]] = {}
        for key, ranks in touching.items():
            if len(ranks) == 1 and covered.get(key) == ranks[0]:
                grid[key] = ranks[0]
            else:
                grid[key] = tuple(sorted(ranks))
        return grid

    def __len__(self) -> int:
        return len(self._codes)

    def __contains__(self, code: object) -> bool:
        return code in self._rank

    @property
    def codes(self) -> tuple[str, ...]:
        """The indexed unit codes, in tie-break order."""
        return self._codes

    def _locate_xy(self, x: float, y: float) -> str | None:
        entry = self._grid.get((math.floor(x / self._step), math.floor(y / self._step)))
        if entry is None:
            return None
        if type(entry) is int:
            return self._codes[entry]
        for rank in entry:  # type: ignore[union-attr]
            if shapely.intersects_xy(self._geoms[rank], x, y):
                return self._codes[rank]
        return None

    def locate(self, lat: float, lon: float, *, tolerance_m: float = 0.0) -> str | None:
        """The code of the ward containing (lat, lon), or None outside every ward."""
        lat, lon = _check_latlon(lat, lon)
        code = self._locate_xy(lon, lat)
        if code is None and tolerance_m > 0:
            code = self._nearest(lat, lon, tolerance_m)
        return code

    def _nearest(self, lat: float, lon: float, tolerance_m: float) -> str | None:
        # A GPS fix on the beach or a river bank can fall just outside the polygons;
        # a tolerance snaps it to the nearest ward. The degree radius is generous
        # (longitude degrees are shorter), the geodesic check below is exact enough.
        max_deg = tolerance_m / 1000.0 / KM_PER_DEGREE / max(math.cos(math.radians(lat)), 0.1)
        point = Point(lon, lat)
        found = self._tree.query_nearest(point, max_distance=max_deg, all_matches=True)
        if len(found) == 0:
            return None
        rank = int(min(found))
        nearest = shapely.ops.nearest_points(self._geoms[rank], point)[0]
        if distance_m((lat, lon), (nearest.y, nearest.x)) > tolerance_m:
            return None
        return self._codes[rank]

    def locate_many(self, points: Iterable[tuple[float, float]]) -> list[str | None]:
        """The ward code of each (lat, lon), None where outside."""
        return [self._locate_xy(lon, lat) for lat, lon in (_check_latlon(*p) for p in points)]

    def contains_province(self, lat: float, lon: float) -> bool:
        """True when the point lies in one of the indexed wards (the province's territory)."""
        # The province follows from the ward, not from an outline: island wards lie
        # outside their province's outline in the official data.
        return self.locate(lat, lon) is not None

    def representative_point(self, code: str) -> tuple[float, float]:
        """A (lat, lon) inside the ward, for placing its label or a ward-precision report."""
        try:
            return self._points[code]
        except KeyError:
            raise NotFound(_l("Không có đơn vị hành chính mã %(code)s.", code=code)) from None

    def geometry(self, code: str) -> BaseGeometry:
        """The indexed boundary of a ward."""
        if code not in self._rank:
            raise NotFound(_l("Không có đơn vị hành chính mã %(code)s.", code=code))
        return self._geoms[self._rank[code]]

    def bounds(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lon, max_lat, max_lon) of all indexed wards."""
        minx, miny, maxx, maxy = self._bounds
        return (miny, minx, maxy, maxx)


# ---------------------------------------------------------------------------------------
# Cells, distances, display
# ---------------------------------------------------------------------------------------


def cells_for(lat: float, lon: float) -> dict[str, str]:
    """The H3 cells a report stores for server-side heatmaps, keyed "h3_r<resolution>"."""
    lat, lon = _check_latlon(lat, lon)
    return {f"h3_r{res}": h3.latlng_to_cell(lat, lon, res) for res in CELL_RESOLUTIONS}


def distance_m(a: Sequence[float], b: Sequence[float]) -> float:
    """Geodesic (WGS84) distance in metres between two (lat, lon) points."""
    return geodesic(_check_latlon(a[0], a[1]), _check_latlon(b[0], b[1])).meters


def simplify_for_display(geometry: BaseGeometry, tolerance: float = 0.0007) -> dict[str, Any]:
    """A simplified GeoJSON geometry mapping for drawing a boundary (never for lookups)."""
    simplified = geometry.simplify(tolerance, preserve_topology=True)
    # The tolerance (~75 m) and four decimals (~11 m) keep a province's wards near 50 KB
    # compressed, drawn with the form on a phone (bench/web_budget.py); more only inflates it.
    simplified = shapely.transform(simplified, lambda coords: np.round(coords, 4))
    return mapping(simplified)


def feature_collection(units: Iterable[UnitShape], tolerance: float = 0.0005) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of simplified ward boundaries for the map."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "code": u.code,
                    "name": u.name,
                    "full_name": u.full_name,
                    "approximate": u.approximate,
                },
                "geometry": simplify_for_display(u.geometry, tolerance),
            }
            for u in units
        ],
    }
