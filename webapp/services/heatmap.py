"""Server-side heatmap: reports counted per stored H3 cell, never shipped to the map one by one.

Every report stores its H3 cells at resolutions 6, 8 and 10 (`Report.h3_r6/h3_r8/h3_r10`,
computed at intake). The map asks for a zoom and a viewport; the zoom picks the resolution
(r6 ≈ 36 km² for the province, r8 ≈ 0.7 km² for a city, r10 ≈ 0.015 km² for streets) and the
database returns one row per cell: its id and its count. Only at street zoom, in a small
viewport, are individual reports sent, for markers that open the report.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import h3
from flask import current_app
from sqlalchemy import func, select

from webapp.errors import NotFound
from webapp.extensions import db
from webapp.models import AdminUnit, Report, ReportStatus
from webapp.services import places, queries
from webapp.services.queries import ReportFilter

# zoom ≤ 10: province (r6); 11–13: city (r8); ≥ 14: streets (r10).
CITY_ZOOM = 11
STREET_ZOOM = 14
MARKER_ZOOM = 16
# Markers only for a viewport this small (degrees of latitude/longitude), and at most this many.
MARKER_MAX_SPAN = 0.08
MAX_MARKERS = 2000
# A viewport covered by more parent cells than this is treated as "everything".
MAX_COVER_CELLS = 600
# The public map never goes finer than r8 (≈ 460 m across): a house must not be found from it.
PUBLIC_MAX_RESOLUTION = 8
# Rejected reports (abusive, spam) and duplicates are not shown to the public.
PUBLIC_HIDDEN_STATUSES = (ReportStatus.REJECTED.value, ReportStatus.DUPLICATE.value)
# Seconds a view's cells are reused (HEATMAP_CACHE_SECONDS), and how many views are kept.
DEFAULT_CACHE_SECONDS = 30
MAX_CACHED_VIEWS = 256
_cache_lock = threading.Lock()
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


def cell_column(resolution: int):
    """The stored cell column of a resolution."""
    if resolution not in queries.CELL_RESOLUTIONS:
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


def viewport_cells(bbox: BBox | None, resolution: int) -> tuple[int, tuple[str, ...]] | None:
    """The parent cells (resolution, ids) that limit a view to its viewport; None: no limit."""
    if bbox is None or resolution == 6:
        return None
    parent = 6 if resolution == 8 else 8
    cells = cover(bbox, parent)
    if len(cells) > MAX_COVER_CELLS:
        return None
    return parent, tuple(sorted(cells))


def _restrict(stmt, limit: tuple[int, tuple[str, ...]] | None):
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


def _public(stmt):
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
    return _heat(f, resolution, viewport_cells(bbox, resolution), public, now)


def _heat(
    f: ReportFilter,
    resolution: int,
    limit: tuple[int, tuple[str, ...]] | None,
    public: bool,
    now: datetime | None,
) -> Heat:
    column = cell_column(resolution)
    stmt = select(column, func.count()).where(column.is_not(None)).group_by(column)
    stmt = _restrict(queries.where(stmt, f, now), limit)
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
    stmt = select(Report.code, Report.lat, Report.lon, Report.status, Report.category_code).where(
        Report.lat.between(bbox.south, bbox.north),
        Report.lon.between(bbox.west, bbox.east),
        Report.code.is_not(None),
    )
    stmt = _restrict(queries.where(stmt, f, now), viewport_cells(bbox, 10))
    rows = db.session.execute(stmt.order_by(Report.id.desc()).limit(limit + 1)).all()
    found = [
        Marker(code, round(lat, 6), round(lon, 6), status, category)
        for code, lat, lon, status, category in rows[:limit]
    ]
    return found, len(rows) > limit


def _cached(key: tuple, compute: Callable[[], Heat]) -> Heat:
    """The heat of a view, shared for HEATMAP_CACHE_SECONDS by every screen asking for it.

    Wall screens refresh every minute and the public map is open to everyone: counting a
    million reports once per half minute per view, not once per visitor, keeps the database
    free for intake. 0 turns the cache off.
    """
    ttl = float(current_app.config.get("HEATMAP_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))
    if ttl <= 0:
        return compute()
    cache: OrderedDict = current_app.extensions.setdefault("heatmap_cache", OrderedDict())
    now = time.monotonic()
    with _cache_lock:
        hit = cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    value = compute()
    with _cache_lock:
        cache[key] = (now + ttl, value)
        cache.move_to_end(key)
        while len(cache) > MAX_CACHED_VIEWS:
            cache.popitem(last=False)
    return value


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
    """The JSON of one map view: cells (id, lat, lon, count) and, at street zoom, markers."""
    resolution = resolution_for_zoom(zoom)
    if public:
        resolution = min(resolution, PUBLIC_MAX_RESOLUTION)
    elif resolution == 10 and bbox is None and not f.unit:
        resolution = 8  # street cells only for a viewport or a ward, never the whole province
    limit = None if _unit_inside(f.unit, bbox) else viewport_cells(bbox, resolution)
    key = (public, resolution, tuple(sorted(f.to_args().items())), limit)
    result = _cached(key, lambda: _heat(f, resolution, limit, public, now))
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
