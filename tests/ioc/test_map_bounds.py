"""The work a map viewport causes is bounded: clipped to the province, capped, cached by grid.

The public map is open to everyone: a viewport of any size, anywhere, must neither build a
large H3 cover nor lose a report that lies inside it. Covers are counted by spying on
`h3.h3shape_to_cells`, the call whose cost grows with the viewport's area.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime

import h3
import pytest

from tests.factories import ReportFactory
from tests.ioc.conftest import login, random_point, ward_codes
from tests.ioc.test_heatmap import as_counter, brute, local_day_start, served
from webapp.extensions import db
from webapp.services.geography import places
from webapp.services.ioc import heatmap
from webapp.services.ioc.queries import LOCAL_TZ

PUBLIC = "/cong-khai/ban-do.json"
HUGE = "60,-20,120,40"  # 60° wide, the province somewhere inside
EUROPE = "2,45,10,50"


@pytest.fixture()
def covers(monkeypatch) -> list[int]:
    """How many cells each call of h3.h3shape_to_cells returned (memoised covers forgotten)."""
    heatmap._cover_cells.cache_clear()
    sizes: list[int] = []
    real = h3.h3shape_to_cells

    def spy(shape, resolution):
        lats, lons = zip(*shape.outer, strict=True)
        box = heatmap.BBox(min(lons), min(lats), max(lons), max(lats))
        width, height = box.size_km()
        rough = width * height / h3.average_hexagon_area(resolution, "km^2")
        if rough > 100 * heatmap.MAX_COVER_CELLS:  # fail at once, not after minutes of CPU
            raise AssertionError(f"a cover of ~{rough:.0f} cells at r{resolution} was asked for")
        cells = real(shape, resolution)
        sizes.append(len(cells))
        return cells

    monkeypatch.setattr(h3, "h3shape_to_cells", spy)
    yield sizes
    heatmap._cover_cells.cache_clear()


def public(client, **params) -> dict:
    resp = client.get(PUBLIC, query_string=params)
    assert resp.status_code == 200, resp.data
    return resp.get_json()


def shown_publicly(r) -> bool:
    """What the public map counts: this month's reports, neither rejected nor duplicates."""
    month_start = datetime.now(UTC).astimezone(LOCAL_TZ).date().replace(day=1)
    return r.status not in ("rejected", "duplicate") and r.created_at >= local_day_start(
        month_start
    )


def bbox_text(box: heatmap.BBox) -> str:
    return f"{box.west},{box.south},{box.east},{box.north}"


# --------------------------------------------------------------------------- large viewports


def test_huge_public_viewport_is_the_unrestricted_view_without_a_cover(app, random_reports, covers):
    client = app.test_client()
    everything = public(client, zoom=12)
    assert everything["resolution"] == 8 and everything["cell_count"] > 0
    assert public(client, zoom=12, bbox=HUGE) == everything
    assert all(size <= heatmap.MAX_COVER_CELLS for size in covers), covers


def test_huge_ioc_viewport_builds_no_large_cover(app, random_reports, covers):
    client = login(app.test_client(), "viewer")
    for zoom, resolution in ((12, 8), (15, 10)):
        body = served(client, zoom=zoom, bbox=HUGE)
        assert body["resolution"] == resolution
        assert as_counter(body) == brute(random_reports, resolution)
    assert all(size <= heatmap.MAX_COVER_CELLS for size in covers), covers


def test_large_cover_is_estimated_and_never_built(ctx, covers):
    """The province's whole bounds at r6, and 2° at r8: too many cells, known before building."""
    province = heatmap.province_area()
    assert heatmap.estimated_cells(province, 6) > heatmap.MAX_COVER_CELLS
    assert heatmap.viewport_limit(province, 8) is None
    assert heatmap.viewport_cells(heatmap.BBox(107.5, 15.0, 109.5, 17.0), 10) is None
    found, _ = heatmap.markers(heatmap.ReportFilter(), heatmap.BBox(107.5, 15.0, 109.5, 17.0))
    assert found == [] and covers == []


def polygon(box: heatmap.BBox) -> h3.LatLngPoly:
    corners = [(box.south, box.west), (box.south, box.east), (box.north, box.east)]
    return h3.LatLngPoly([*corners, (box.north, box.west)])


@pytest.mark.parametrize("resolution", [6, 8])
def test_a_viewport_let_through_has_a_small_cover(resolution):
    """Boxes of every shape just under the estimated cap: h3shape_to_cells stays under it."""
    rng = random.Random(resolution)
    checked = 0
    for _ in range(100):
        south, west = rng.uniform(14.9, 16.5), rng.uniform(107.2, 111.5)
        height = 0.01
        width = height * math.exp(rng.uniform(-3, 3))  # from 1:20 to 20:1
        unit = heatmap.estimated_cells(heatmap.BBox(west, south, west + width, south + height), 6)
        grow = math.sqrt(heatmap.MAX_COVER_CELLS * rng.uniform(0.9, 1) / unit)
        if resolution == 8:
            grow *= math.sqrt(
                h3.average_hexagon_area(8, "km^2") / h3.average_hexagon_area(6, "km^2")
            )
        box = heatmap.BBox(west, south, west + width * grow, south + height * grow)
        if heatmap.estimated_cells(box, resolution) <= heatmap.MAX_COVER_CELLS:
            assert len(h3.h3shape_to_cells(polygon(box), resolution)) <= heatmap.MAX_COVER_CELLS
            checked += 1
    assert checked >= 50


# --------------------------------------------------------------------------- outside the province


def test_viewport_outside_the_province_builds_nothing_and_shows_nothing(
    app, random_reports, covers
):
    body = public(app.test_client(), zoom=12, bbox=EUROPE)
    assert body["cells"] == [] and body["total"] == 0
    ioc = login(app.test_client(), "viewer")
    street = served(ioc, zoom=16, bbox="2.35,48.85,2.36,48.86")  # Paris, at marker zoom
    assert street["cells"] == [] and street["markers"] == []
    assert served(ioc, zoom=12, bbox=EUROPE)["cells"] == []
    assert covers == []


def test_outlying_islands_keep_their_viewport(app, covers):
    """Hoàng Sa, ~4° east of the mainland, is inside the province: its viewport gets a cover."""
    with app.app_context():
        index = places.places().index
        island = next(c for c in ward_codes() if index.geometry(c).bounds[0] > 111)
        lat, lon = random_point(random.Random(3), island)
        ReportFactory(lat=lat, lon=lon, status="assigned", created_at=datetime.now(UTC))
        db.session.commit()
    box = heatmap.BBox(lon - 0.15, lat - 0.1, lon + 0.15, lat + 0.1)
    body = public(app.test_client(), zoom=12, bbox=bbox_text(box))
    assert as_counter(body) == Counter({h3.latlng_to_cell(lat, lon, 8): 1})
    assert len(covers) == 1 and 0 < covers[0] <= heatmap.MAX_COVER_CELLS
    with app.app_context():
        limit = heatmap.viewport_limit(box, 8)
    assert limit is not None and limit.area is not None and limit.area.covers(box)


# --------------------------------------------------------------------------- snapping and the cache


def test_nearby_viewports_share_one_entry_and_one_cover(app, random_reports, covers, monkeypatch):
    monkeypatch.setitem(app.config, "HEATMAP_CACHE_SECONDS", 30)
    computed = []
    real_heat = heatmap._heat

    def counting_heat(*args, **kwargs):
        computed.append(args)
        return real_heat(*args, **kwargs)

    monkeypatch.setattr(heatmap, "_heat", counting_heat)
    pivot = next(r for r in random_reports if r.lat is not None)
    step = heatmap.snap_step(6)  # public zoom 12: r8 cells limited by r6 parents
    west = math.floor(pivot.lon / step) * step - 1.5 * step  # edges between grid lines
    south = math.floor(pivot.lat / step) * step - 1.5 * step
    first = heatmap.BBox(west, south, west + 4 * step, south + 3 * step)
    few_metres = 0.00003
    second = heatmap.BBox(*(v + few_metres for v in (west, south, first.east, first.north)))
    client = app.test_client()
    body = public(client, zoom=12, bbox=bbox_text(first))
    assert len(covers) == 1 and len(computed) == 1
    heatmap._cover_cells.cache_clear()  # a cache hit must not need the memoised cover
    assert public(client, zoom=12, bbox=bbox_text(second)) == body
    assert len(covers) == 1 and len(computed) == 1
    assert len(app.extensions["heatmap_cache"]) == 1
    with app.app_context():
        limits = {heatmap.viewport_limit(box, 8) for box in (first, second)}
    (limit,) = limits
    assert limit.area.covers(first) and limit.area.covers(second)
    for edge in (limit.area.west, limit.area.south, limit.area.east, limit.area.north):
        assert edge / step == round(edge / step)


def test_snapping_widens_outward_onto_the_grid():
    box = heatmap.BBox(108.2012345, 16.0498765, 108.2345678, 16.0712345)
    for resolution in (6, 8):
        step = heatmap.snap_step(resolution)
        edge_deg = h3.average_hexagon_edge_length(resolution, "km") / heatmap.KM_PER_DEGREE_LAT
        assert edge_deg / 2 < step <= edge_deg  # under one cell's width more on each side
        snapped = box.snap(step)
        assert snapped.covers(box)
        assert max(box.west - snapped.west, snapped.east - box.east) < step
        assert max(box.south - snapped.south, snapped.north - box.north) < step
        assert snapped.snap(step) == snapped


# --------------------------------------------------------------------------- nothing lost


def _viewports(random_reports, span: float) -> list[heatmap.BBox]:
    """Viewports around reports: random sizes, edges on or a hair off grid lines, and one
    reaching far outside the province (clipped)."""
    rng = random.Random(11)
    placed = [r for r in random_reports if r.lat is not None]
    boxes = []
    for pivot in rng.sample(placed, 6):
        w, h = rng.uniform(span / 10, span), rng.uniform(span / 10, span)
        dx, dy = rng.uniform(0, w), rng.uniform(0, h)
        boxes.append(heatmap.BBox(pivot.lon - dx, pivot.lat - dy, pivot.lon + w, pivot.lat + h))
    step = heatmap.snap_step(8)
    pivot = placed[0]
    for hair in (0.0, 1e-9, -1e-9):
        west = math.floor(pivot.lon / step) * step + hair
        south = math.floor(pivot.lat / step) * step + hair
        boxes.append(heatmap.BBox(west, south, west + 3 * step + hair, south + 2 * step - hair))
    boxes.append(heatmap.BBox(100.0, pivot.lat - span / 4, pivot.lon + span / 4, pivot.lat + 0.01))
    return boxes


def _on_screen(box: heatmap.BBox, cell: str) -> bool:
    return box.contains(*h3.cell_to_latlng(cell))


@pytest.mark.parametrize(("zoom", "resolution", "span"), [(12, 8, 0.3), (14, 10, 0.06)])
def test_small_viewports_count_every_report_inside_them(
    app, random_reports, zoom, resolution, span
):
    client = login(app.test_client(), "viewer")
    everything = brute(random_reports, resolution)
    checked = 0
    for box in _viewports(random_reports, span):
        got = as_counter(served(client, zoom=zoom, bbox=bbox_text(box)))
        inside = {
            h3.latlng_to_cell(r.lat, r.lon, resolution)
            for r in random_reports
            if r.lat is not None and box.contains(r.lat, r.lon)
        }
        for cell in inside:
            assert got[cell] == everything[cell], (box, cell)
        # Whole cells only, on screen: a cell at the cover's far edge (off screen) may hold
        # points whose stored parent cell lies outside the cover (H3 parents are not nested
        # geometrically), so only cells centred in the viewport are compared.
        assert all(everything[cell] == n for cell, n in got.items() if _on_screen(box, cell))
        checked += len(inside)
    assert checked >= 10  # the viewports hold reports


def test_small_public_viewports_count_every_report_inside_them(app, random_reports):
    client = app.test_client()
    everything = as_counter(public(client, zoom=12))
    assert everything == brute(random_reports, 8, shown_publicly)
    for box in _viewports(random_reports, 0.3):
        got = as_counter(public(client, zoom=12, bbox=bbox_text(box)))
        for r in random_reports:
            if r.lat is not None and shown_publicly(r) and box.contains(r.lat, r.lon):
                cell = h3.latlng_to_cell(r.lat, r.lon, 8)
                assert got[cell] == everything[cell], (box, cell)
        assert all(everything[cell] == n for cell, n in got.items() if _on_screen(box, cell))


# --------------------------------------------------------------------------- garbage in


GARBAGE_BBOXES = [
    "nan,nan,nan,nan", "inf,-inf,inf,inf", "-inf,-inf,inf,inf", "1e999,16,108.3,16.1",
    "108.2,16.0,108.3,16.1,5", "", ",,,", "108.2,16.0,108.3", "108.3,16.1,108.2,16.0",
    "abc,def,ghi,jkl", "108.2,16.0,108.2,16.1",
]  # fmt: skip


@pytest.mark.parametrize("bbox", GARBAGE_BBOXES)
def test_garbage_bbox_gives_the_default_view(app, bbox):
    client = app.test_client()
    assert public(client, zoom=12, bbox=bbox) == public(client, zoom=12)
    ioc = login(app.test_client(), "viewer")
    assert served(ioc, zoom=14, bbox=bbox)["cells"] == served(ioc, zoom=14)["cells"]


@pytest.mark.parametrize(
    ("zoom", "expected"),
    [
        ("abc", None), ("1e309", None), ("", None), ("nan", None), ("12.5", None),
        ("-5", 0), ("-99999999999999999999", 0), ("99999999999999999999", 20), ("9" * 5000, None),
    ],
)  # fmt: skip
def test_garbage_zoom_is_ignored_or_clamped(app, zoom, expected):
    for bbox in ("", "108.2,16.0,108.3,16.1", HUGE):
        body = public(app.test_client(), zoom=zoom, bbox=bbox)
        assert body["zoom"] == expected
        ioc = login(app.test_client(), "viewer")
        assert served(ioc, zoom=zoom, bbox=bbox)["zoom"] == expected


@pytest.mark.parametrize(
    "month",
    ["9999-99", "0000-01", "abc", "9999-12", "9999-11", "0001-01", "2026-13", "-1-01", "2026", ""],
)
def test_garbage_month_gives_the_current_month(app, month):
    client = app.test_client()
    assert public(client, thang=month, zoom=12) == public(client, zoom=12)


@pytest.mark.parametrize(
    "params", [{"linh_vuc": "\x00"}, {"linh_vuc": "x" * 5000}, {"trang_thai": "\x00"}]
)
def test_garbage_filters_never_fail(app, params):
    resp = app.test_client().get(PUBLIC, query_string={"zoom": 12, **params})
    assert resp.status_code < 500, resp.data  # the NUL byte: refused app-wide (4xx)
