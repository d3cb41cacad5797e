"""Server-side heatmap: reports counted per stored H3 cell, never shipped to the map one by one.

Every report stores its H3 cells at resolutions 6, 8 and 10 (`Report.h3_r6/h3_r8/h3_r10`,
computed at intake). The map asks for a zoom and a viewport; the zoom picks the resolution
(r6 ≈ 36 km² for the province, r8 ≈ 0.7 km² for a city, r10 ≈ 0.015 km² for streets) and the
database returns one row per cell: its id and its count. Only at street zoom, in a small
viewport, are individual reports sent, for markers that open the report. The province view
(r6, no viewport limit) reads the report rollup instead of the reports' indexes whenever the
rollup holds its filter (webapp/services/ioc/rollup/heat.py): its cost no longer grows with
the reports. Answers are shared for a while by every screen (heat_cache.py).

A viewport is untrusted input (the public map is open to everyone), so the work it causes is
bounded before any H3 cover is built: it is clipped to the province, its cover is estimated
from its area and skipped (the view is not limited) when too large, and it is snapped outward
to a grid of the cover's resolution, so that nearby viewports share one cache entry and one
cover. A cache hit builds no cover at all.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import h3
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from webapp.errors import NotFound, ValidationError
from webapp.extensions import db
from webapp.models import AdminUnit, Report, ReportStatus
from webapp.models.types import utcnow
from webapp.services.geography import places
from webapp.services.geography.geo_index import CELL_RESOLUTIONS
from webapp.services.ioc import heat_cache, queries
from webapp.services.ioc.queries import ReportFilter
from webapp.services.ioc.rollup import heat as rollup_heat

# zoom ≤ 10: province (r6); 11–13: city (r8); ≥ 14: streets (r10).
CITY_ZOOM = 11
STREET_ZOOM = 14
MARKER_ZOOM = 16
# Markers only for a viewport this small (degrees of latitude/longitude), and at most this many.
MARKER_MAX_SPAN = 0.08
MAX_MARKERS = 2000
# Map zooms outside this range are clamped into it (Leaflet's tiles stop at 18-20).
MIN_ZOOM, MAX_ZOOM = 0, 20
# A viewport covered by more parent cells than this is treated as "everything"; the count is
# estimated from the viewport's area before the cover is built, so it is never built when large.
MAX_COVER_CELLS = 600
# Viewports are clipped to the province's wards' bounds widened by this much (degrees, ~5 km):
# reports just over the border (intake keeps them, flagged outside_area) stay on the map.
PROVINCE_MARGIN = 0.05
# Kilometres per degree of latitude, and of longitude at the equator.
KM_PER_DEGREE_LAT, KM_PER_DEGREE_LON = 110.574, 111.320
# Covers of recent snapped viewports kept in memory (≤ ~50 KB each).
MAX_CACHED_COVERS = 64
# The public map never goes finer than r8 (≈ 460 m across): a house must not be found from it.
PUBLIC_MAX_RESOLUTION = 8
# Rejected reports (abusive, spam) and duplicates are not shown to the public.
PUBLIC_HIDDEN_STATUSES = (ReportStatus.REJECTED.value, ReportStatus.DUPLICATE.value)
# Wards this far (degrees) from the median ward centre are outlying islands (Hoàng Sa lies
# ~4° east of Đà Nẵng): still drawn, but the first view frames the rest of the province.
OUTLYING_DEGREES = 1.5


@dataclass(frozen=True)
class BBox:
    """A viewport in degrees: west, south, east, north."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def parse(cls, text: str | None) -> BBox | None:
        """From Leaflet's `getBounds().toBBoxString()` ("w,s,e,n"); None if it does not parse."""
        try:
            west, south, east, north = (float(v) for v in (text or "").split(","))
        except ValueError:
            return None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            return None
        return cls(west, south, east, north)

    @property
    def span(self) -> float:
        """The larger side, in degrees."""
        return max(self.east - self.west, self.north - self.south)

    def contains(self, lat: float, lon: float) -> bool:
        """Whether the point lies inside."""
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def covers(self, other: BBox) -> bool:
        """Whether the other box lies wholly inside this one."""
        return self.contains(other.south, other.west) and self.contains(other.north, other.east)

    def clip(self, other: BBox | None) -> BBox | None:
        """The part inside the other box (self when it is None); None when they do not overlap."""
        if other is None:
            return self
        west, south = max(self.west, other.west), max(self.south, other.south)
        east, north = min(self.east, other.east), min(self.north, other.north)
        if west >= east or south >= north:
            return None
        return BBox(west, south, east, north)

    def snap(self, step: float) -> BBox:
        """Widened outward to the nearest multiples of `step` degrees (within the globe)."""
        return BBox(
            max(-180.0, math.floor(self.west / step) * step),
            max(-90.0, math.floor(self.south / step) * step),
            min(180.0, math.ceil(self.east / step) * step),
            min(90.0, math.ceil(self.north / step) * step),
        )

    def size_km(self) -> tuple[float, float]:
        """(width, height) in km; the width taken at the latitude nearest the equator (widest)."""
        nearest = 0.0 if self.south <= 0 <= self.north else min(abs(self.south), abs(self.north))
        width = (self.east - self.west) * KM_PER_DEGREE_LON * math.cos(math.radians(nearest))
        return width, (self.north - self.south) * KM_PER_DEGREE_LAT


@dataclass(frozen=True)
class Cell:
    """One heat cell: its H3 id, its centre and how many reports it holds."""

    id: str
    lat: float
    lon: float
    count: int


@dataclass
class Heat:
    """The cells of one view."""

    resolution: int
    cells: list[Cell]

    @property
    def total(self) -> int:
        """Reports counted in the cells."""
        return sum(c.count for c in self.cells)

    @property
    def max_count(self) -> int:
        """The fullest cell's count (scales the colours)."""
        return max((c.count for c in self.cells), default=0)


def initial_bounds() -> list[list[float]]:
    """[[south, west], [north, east]] of the province's wards, leaving out far islands."""
    index = places.places().index
    centres = db.session.execute(
        select(AdminUnit.code, AdminUnit.center_lat, AdminUnit.center_lon).where(
            AdminUnit.level == "ward", AdminUnit.center_lat.is_not(None)
        )
    ).all()
    if not centres:
        min_lat, min_lon, max_lat, max_lon = index.bounds()
        return [[min_lat, min_lon], [max_lat, max_lon]]
    mid_lat = statistics.median(lat for _c, lat, _lon in centres)
    mid_lon = statistics.median(lon for _c, _lat, lon in centres)
    boxes = []
    for code, lat, lon in centres:
        if max(abs(lat - mid_lat), abs(lon - mid_lon)) <= OUTLYING_DEGREES:
            try:
                boxes.append(index.geometry(code).bounds)
            except NotFound:  # a unit without a boundary in the index
                continue
    if not boxes:
        min_lat, min_lon, max_lat, max_lon = index.bounds()
        return [[min_lat, min_lon], [max_lat, max_lon]]
    west, south = min(b[0] for b in boxes), min(b[1] for b in boxes)
    east, north = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return [[south, west], [north, east]]


def resolution_for_zoom(zoom: int | None) -> int:
    """The H3 resolution to aggregate on at a map zoom."""
    if zoom is None or zoom < CITY_ZOOM:
        return 6
    return 8 if zoom < STREET_ZOOM else 10


def cell_column(resolution: int) -> InstrumentedAttribute[str | None]:
    """The stored cell column of a resolution."""
    if resolution not in CELL_RESOLUTIONS:
        raise ValueError(f"no stored cells at resolution {resolution}")
    return getattr(Report, f"h3_r{resolution}")


def cover(bbox: BBox, resolution: int) -> set[str]:
    """Cells of `resolution` that cover the viewport, with one ring more so edges are whole."""
    poly = h3.LatLngPoly(
        [
            (bbox.south, bbox.west),
            (bbox.south, bbox.east),
            (bbox.north, bbox.east),
            (bbox.north, bbox.west),
        ]
    )
    inner = set(h3.h3shape_to_cells(poly, resolution))
    # A viewport smaller than one cell contains no cell centre: add the cells of its corners.
    for lat, lon in (
        (bbox.south, bbox.west),
        (bbox.south, bbox.east),
        (bbox.north, bbox.east),
        (bbox.north, bbox.west),
        ((bbox.south + bbox.north) / 2, (bbox.west + bbox.east) / 2),
    ):
        inner.add(h3.latlng_to_cell(lat, lon, resolution))
    ring: set[str] = set()
    for cell in inner:
        ring.update(h3.grid_disk(cell, 1))
    return ring


def province_area() -> BBox | None:
    """The bounds of the province's wards widened by PROVINCE_MARGIN (far islands included).

    None when no ward has a boundary (an empty database): viewports are then not clipped.
    """
    try:
        min_lat, min_lon, max_lat, max_lon = places.places().index.bounds()
    except ValidationError:  # "no administrative units to index"
        return None
    if not all(math.isfinite(v) for v in (min_lat, min_lon, max_lat, max_lon)):
        return None
    return BBox(
        max(-180.0, min_lon - PROVINCE_MARGIN),
        max(-90.0, min_lat - PROVINCE_MARGIN),
        min(180.0, max_lon + PROVINCE_MARGIN),
        min(90.0, max_lat + PROVINCE_MARGIN),
    )


@lru_cache(maxsize=16)
def snap_step(resolution: int) -> float:
    """The grid (degrees) viewports are snapped to before a cover of `resolution` is built.

    The largest power-of-two fraction of a degree not longer than the cells' average edge:
    1/32° (~3.5 km) at r6, 1/256° (~430 m) at r8. Snapping widens a viewport by less than one
    cell on each side, and powers of two keep the snapped edges exact floats (stable keys).
    """
    edge_deg = h3.average_hexagon_edge_length(resolution, "km") / KM_PER_DEGREE_LAT
    return 2.0 ** math.floor(math.log2(edge_deg))


def estimated_cells(bbox: BBox, resolution: int) -> float:
    """About how many cells of `resolution` have their centre in the box, without listing them.

    That is what `h3.h3shape_to_cells` returns, and what its time and memory grow with: the
    box's area over a cell's area there (the smaller of the local and the average area, so
    the estimate errs high).
    """
    lat, lon = (bbox.south + bbox.north) / 2, (bbox.west + bbox.east) / 2
    local = h3.cell_area(h3.latlng_to_cell(lat, lon, resolution), "km^2")
    width, height = bbox.size_km()
    return width * height / min(local, h3.average_hexagon_area(resolution, "km^2"))


@dataclass(frozen=True)
class Limit:
    """What limits a view to its viewport, decided before any cover is built (a cache key).

    The reports in the `parent` cells covering `area`: the viewport clipped to the province and
    snapped outward to the parent resolution's grid. No report at all when `area` is None (the
    viewport lies outside the province).
    """

    parent: int
    area: BBox | None

    def resolve(self) -> tuple[int, tuple[str, ...]] | None:
        """(parent, sorted cell ids), built once per area; None: over MAX_COVER_CELLS after all."""
        if self.area is None:
            return self.parent, ()
        cells = _cover_cells(self.area, self.parent)
        return None if cells is None else (self.parent, cells)


@lru_cache(maxsize=MAX_CACHED_COVERS)
def _cover_cells(area: BBox, resolution: int) -> tuple[str, ...] | None:
    cells = cover(area, resolution)
    return tuple(sorted(cells)) if len(cells) <= MAX_COVER_CELLS else None


def viewport_limit(bbox: BBox | None, resolution: int) -> Limit | None:
    """What limits a view of `resolution` to the viewport; None: no limit (every cell).

    No limit without a viewport, at the province's resolution (r6), or for a viewport holding
    more than MAX_COVER_CELLS parent cells (estimated from its area: no cover is built).
    """
    if bbox is None or resolution == 6:
        return None
    parent = 6 if resolution == 8 else 8
    clipped = bbox.clip(province_area())
    if clipped is None:
        return Limit(parent, None)
    area = clipped.snap(snap_step(parent))
    if estimated_cells(area, parent) > MAX_COVER_CELLS:
        return None
    return Limit(parent, area)


def viewport_cells(bbox: BBox | None, resolution: int) -> tuple[int, tuple[str, ...]] | None:
    """The parent cells (resolution, ids) that limit a view to its viewport; None: no limit."""
    limit = viewport_limit(bbox, resolution)
    return None if limit is None else limit.resolve()


def _restrict(stmt: Select, limit: tuple[int, tuple[str, ...]] | None) -> Select:
    """Keep the reports in the parent cells (whole cells only, through their index)."""
    if limit is None:
        return stmt
    parent, cells = limit
    return stmt.where(cell_column(parent).in_(cells))


def _unit_inside(unit: str | None, bbox: BBox | None) -> bool:
    """Whether the filtered ward lies wholly in the viewport: then the ward is the limit."""
    if not unit or bbox is None:
        return False
    try:
        west, south, east, north = places.places().index.geometry(unit).bounds
    except NotFound:
        return False
    return bbox.contains(south, west) and bbox.contains(north, east)


def _public(stmt: Select) -> Select:
    return stmt.where(Report.status.not_in(PUBLIC_HIDDEN_STATUSES))


def heat(
    f: ReportFilter,
    resolution: int,
    bbox: BBox | None = None,
    *,
    public: bool = False,
    now: datetime | None = None,
) -> Heat:
    """Count the filtered reports per stored cell (GROUP BY in the database)."""
    return _heat(f, resolution, viewport_limit(bbox, resolution), public, now)


def _heat(
    f: ReportFilter,
    resolution: int,
    limit: Limit | None,
    public: bool,
    now: datetime | None,
) -> Heat:
    now = now or utcnow()
    if rollup_heat.supports(f, resolution, limit is not None, now):
        hidden = PUBLIC_HIDDEN_STATUSES if public else ()
        found = rollup_heat.cells(f, hidden, now)
        return Heat(resolution, [_cell(cell, count) for cell, count in found])
    cells = None if limit is None else limit.resolve()
    if cells is not None and not cells[1]:
        return Heat(resolution, [])  # a viewport outside the province: no query
    column = cell_column(resolution)
    stmt = select(column, func.count()).where(column.is_not(None)).group_by(column)
    stmt = _restrict(queries.where(stmt, f, now), cells)
    if public:
        stmt = _public(stmt)
    return Heat(resolution, [_cell(cell, count) for cell, count in db.session.execute(stmt)])


@lru_cache(maxsize=100_000)
def _centre(cell: str) -> tuple[float, float]:
    # Cells do not move: the same few thousand centres are asked for over and over.
    lat, lon = h3.cell_to_latlng(cell)
    return round(lat, 5), round(lon, 5)


def _cell(cell: str, count: int) -> Cell:
    lat, lon = _centre(cell)
    return Cell(cell, lat, lon, int(count))


@dataclass(frozen=True)
class Marker:
    """One report at street zoom (IOC only: it links to the back office)."""

    code: str
    lat: float
    lon: float
    status: str
    category: str | None


def markers(
    f: ReportFilter, bbox: BBox, limit: int = MAX_MARKERS, now: datetime | None = None
) -> tuple[list[Marker], bool]:
    """The filtered reports inside a small viewport; True when there were more than `limit`."""
    cells = viewport_cells(bbox, 10)
    if cells is not None and not cells[1]:
        return [], False  # a viewport outside the province
    stmt = select(Report.code, Report.lat, Report.lon, Report.status, Report.category_code).where(
        Report.lat.between(bbox.south, bbox.north),
        Report.lon.between(bbox.west, bbox.east),
        Report.code.is_not(None),
    )
    stmt = _restrict(queries.where(stmt, f, now), cells)
    rows = db.session.execute(stmt.order_by(Report.id.desc()).limit(limit + 1)).all()
    found = [
        Marker(code, round(lat, 6), round(lon, 6), status, category)
        for code, lat, lon, status, category in rows[:limit]
    ]
    return found, len(rows) > limit


def _dump(heat: Heat) -> list[Any]:
    return [heat.resolution, [[c.id, c.count] for c in heat.cells]]


def _load(data: list[Any]) -> Heat:
    return Heat(data[0], [_cell(cell, count) for cell, count in data[1]])


def _cells_json(cells: Iterable[Cell]) -> list[list[Any]]:
    return [[c.id, c.lat, c.lon, c.count] for c in cells]


def view(
    f: ReportFilter,
    zoom: int | None,
    bbox: BBox | None,
    *,
    public: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The JSON of one map view: cells (id, lat, lon, count) and, at street zoom, markers.

    The cache key holds the viewport's limit (clipped and snapped, see `viewport_limit`), not
    its cells: a cache hit builds no cover, and nearby viewports share one entry.
    """
    if zoom is not None:
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
    resolution = resolution_for_zoom(zoom)
    if public:
        resolution = min(resolution, PUBLIC_MAX_RESOLUTION)
    elif resolution == 10 and bbox is None and not f.unit:
        resolution = 8  # street cells only for a viewport or a ward, never the whole province
    limit = None if _unit_inside(f.unit, bbox) else viewport_limit(bbox, resolution)
    key = (public, resolution, tuple(sorted(f.to_args().items())), limit)
    result = heat_cache.cached(key, lambda: _heat(f, resolution, limit, public, now), _dump, _load)
    body: dict[str, Any] = {
        "resolution": resolution,
        "zoom": zoom,
        "total": result.total,
        "max": result.max_count,
        "cell_count": len(result.cells),
        "cells": _cells_json(result.cells),
        "markers": None,
        "markers_truncated": False,
    }
    if (
        not public
        and zoom is not None
        and zoom >= MARKER_ZOOM
        and bbox is not None
        and bbox.span <= MARKER_MAX_SPAN
    ):
        found, truncated = markers(f, bbox, now=now)
        body["markers"] = [
            {"code": m.code, "lat": m.lat, "lon": m.lon, "status": m.status, "category": m.category}
            for m in found
        ]
        body["markers_truncated"] = truncated
    return body
