"""The heatmap's server-side aggregation against a brute-force count of the same reports."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import h3
import pytest

from tests.factories import ReportFactory
from tests.ioc.conftest import login, ward_codes
from webapp.extensions import db
from webapp.models import OPEN_STATUSES
from webapp.services.geography import places
from webapp.services.ioc import heatmap
from webapp.services.ioc.queries import LOCAL_TZ


def brute(reports, resolution: int, keep=lambda r: True) -> Counter:
    """Count the reports per H3 cell in Python, from their points (not the stored cells)."""
    counts: Counter = Counter()
    for r in reports:
        if r.lat is not None and keep(r):
            counts[h3.latlng_to_cell(r.lat, r.lon, resolution)] += 1
    return counts


def served(client, **params) -> dict:
    resp = client.get("/ioc/ban-do/du-lieu", query_string=params)
    assert resp.status_code == 200, resp.data
    return resp.get_json()


def as_counter(body: dict) -> Counter:
    return Counter({cell: count for cell, _lat, _lon, count in body["cells"]})


def local_day_start(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL_TZ)


def test_zoom_picks_the_resolution():
    assert [heatmap.resolution_for_zoom(z) for z in (None, 5, 10, 11, 13, 14, 18)] == [
        6, 6, 6, 8, 8, 10, 10,
    ]  # fmt: skip


@pytest.mark.parametrize("zoom", [9, 12])
def test_unfiltered_counts_match_brute_force(app, random_reports, zoom):
    client = login(app.test_client(), "viewer")
    body = served(client, zoom=zoom)
    resolution = heatmap.resolution_for_zoom(zoom)
    assert body["resolution"] == resolution
    assert as_counter(body) == brute(random_reports, resolution)
    assert body["total"] == sum(1 for r in random_reports if r.lat is not None) == 300
    assert body["max"] == max(brute(random_reports, resolution).values())
    assert body["markers"] is None
    # Centres are the cells' own centres (h3.cell_to_latlng), rounded to 5 decimals.
    for cell, lat, lon, _count in body["cells"]:
        clat, clon = h3.cell_to_latlng(cell)
        assert (lat, lon) == (round(clat, 5), round(clon, 5))


def test_filtered_counts_match_brute_force(app, random_reports):
    client = login(app.test_client(), "viewer")
    sample = random_reports[0]
    today = datetime.now(UTC).astimezone(LOCAL_TZ).date()
    d_from, d_to = today - timedelta(days=40), today - timedelta(days=10)
    cases = [
        ({"category": sample.category_code}, lambda r: r.category_code == sample.category_code),
        ({"status": "open"}, lambda r: r.status in OPEN_STATUSES),
        ({"status": "rejected"}, lambda r: r.status == "rejected"),
        ({"agency": str(sample.agency_id)}, lambda r: r.agency_id == sample.agency_id),
        ({"unit": sample.unit_code}, lambda r: r.unit_code == sample.unit_code),
        (
            {"from": d_from.isoformat(), "to": d_to.isoformat()},
            lambda r: (
                local_day_start(d_from) <= r.created_at < local_day_start(d_to + timedelta(days=1))
            ),
        ),
        (
            {"due": "overdue"},
            lambda r: r.due_at < datetime.now(UTC) and r.status in OPEN_STATUSES,
        ),
        (
            {"status": "open", "due": "overdue", "agency": str(sample.agency_id)},
            lambda r: (
                r.status in OPEN_STATUSES
                and r.due_at < datetime.now(UTC)
                and r.agency_id == sample.agency_id
            ),
        ),
    ]
    for params, keep in cases:
        for zoom in (9, 12):
            body = served(client, zoom=zoom, **params)
            expected = brute(random_reports, heatmap.resolution_for_zoom(zoom), keep)
            assert as_counter(body) == expected, params
            assert body["total"] == sum(expected.values()), params
    # At least one filter really narrows the map (the test data is not degenerate).
    assert served(client, zoom=9, status="open")["total"] < 300


def test_street_cells_of_a_ward(app, random_reports):
    client = login(app.test_client(), "viewer")
    with app.app_context():
        hot = ward_codes()[0]
    body = served(client, zoom=14, unit=hot)
    assert body["resolution"] == 10
    assert as_counter(body) == brute(random_reports, 10, lambda r: r.unit_code == hot)
    assert body["total"] >= 20  # a third of the reports went to 3 hot wards


def test_ward_in_its_viewport_and_cut_by_a_smaller_one(app, random_reports):
    client = login(app.test_client(), "viewer")
    with app.app_context():
        hot = ward_codes()[0]
        west, south, east, north = places.places().index.geometry(hot).bounds
    ward = brute(random_reports, 10, lambda r: r.unit_code == hot)
    around = f"{west - 0.01},{south - 0.01},{east + 0.01},{north + 0.01}"
    assert as_counter(served(client, zoom=14, unit=hot, bbox=around)) == ward
    # A viewport on the ward's western half: the eastern reports (and cells) are left out.
    mid = (west + east) / 2
    western = f"{west - 0.01},{south},{mid},{north}"
    half = as_counter(served(client, zoom=14, unit=hot, bbox=western))
    assert half and set(half) <= set(ward) and sum(half.values()) < sum(ward.values())
    assert all(half[cell] == ward[cell] for cell in half)


def test_street_cells_need_a_viewport_or_a_ward(app, random_reports):
    client = login(app.test_client(), "viewer")
    body = served(client, zoom=15)
    assert body["resolution"] == 8  # never every r10 cell of the province
    assert as_counter(body) == brute(random_reports, 8)


def test_viewport_returns_whole_cells_inside_it(app, random_reports):
    client = login(app.test_client(), "viewer")
    pivot = next(r for r in random_reports if r.lat is not None)
    south, north = pivot.lat - 0.05, pivot.lat + 0.05
    west, east = pivot.lon - 0.08, pivot.lon + 0.08
    bbox = heatmap.BBox(west, south, east, north)
    for zoom in (12, 14):
        resolution = heatmap.resolution_for_zoom(zoom)
        body = served(client, zoom=zoom, bbox=f"{west},{south},{east},{north}")
        assert body["resolution"] == resolution
        got, everything = as_counter(body), brute(random_reports, resolution)
        inside = {
            cell: n for cell, n in everything.items() if bbox.contains(*h3.cell_to_latlng(cell))
        }
        assert inside, "the viewport holds reports"
        for cell, n in inside.items():
            assert got[cell] == n, cell
        # Cells outside the viewport are at most one ring away (edges stay whole).
        assert len(got) < len(everything)


def test_markers_at_street_zoom_are_the_reports_in_the_viewport(app, random_reports):
    client = login(app.test_client(), "viewer")
    pivot = next(r for r in random_reports if r.lat is not None)
    south, north = pivot.lat - 0.03, pivot.lat + 0.03
    west, east = pivot.lon - 0.03, pivot.lon + 0.03
    bbox = heatmap.BBox(west, south, east, north)
    body = served(client, zoom=16, bbox=f"{west},{south},{east},{north}")
    expected = {r.code for r in random_reports if r.lat is not None and bbox.contains(r.lat, r.lon)}
    assert {m["code"] for m in body["markers"]} == expected
    assert pivot.code in expected and body["markers_truncated"] is False
    # The same zoom over a large viewport gives cells only, never every report.
    wide = served(client, zoom=16, bbox="107.5,15.0,108.6,16.3")
    assert wide["markers"] is None


def test_marker_list_is_capped(ctx, random_reports):
    f = heatmap.ReportFilter()
    found, truncated = heatmap.markers(f, heatmap.BBox(107.0, 14.5, 109.0, 16.5), limit=10)
    assert len(found) == 10 and truncated


def test_cell_link_lists_exactly_the_reports_of_the_cell(app, random_reports):
    client = login(app.test_client(), "viewer")
    cells = brute(random_reports, 8)
    cell, count = cells.most_common(1)[0]
    page = client.get(f"/bo/?cell={cell}").get_data(as_text=True)
    assert f"<small>({count})</small>" in page


def test_public_map_is_coarse_and_hides_rejected_reports(app, random_reports):
    client = app.test_client()  # anonymous
    month_start = datetime.now(UTC).astimezone(LOCAL_TZ).date().replace(day=1)

    def keep(r):
        return r.status not in ("rejected", "duplicate") and r.created_at >= local_day_start(
            month_start
        )

    for zoom, resolution in ((9, 6), (12, 8), (17, 8)):
        body = client.get("/cong-khai/ban-do.json", query_string={"zoom": zoom}).get_json()
        assert body["resolution"] == resolution
        assert body["markers"] is None
        assert as_counter(body) == brute(random_reports, resolution, keep)


def test_views_are_shared_for_a_short_while(app, random_reports, monkeypatch):
    """Wall screens and public visitors asking for the same view reuse one count."""
    monkeypatch.setitem(app.config, "HEATMAP_CACHE_SECONDS", 30)
    with app.app_context():
        # This month holds few random reports early in a month: one resolved for certain.
        ReportFactory(lat=16.07, lon=108.22, status="resolved", created_at=datetime.now(UTC))
        db.session.commit()
    client = app.test_client()
    first = client.get("/cong-khai/ban-do.json?zoom=9").get_json()
    with app.app_context():
        ReportFactory(lat=16.07, lon=108.22, created_at=datetime.now(UTC))
        db.session.commit()
    assert client.get("/cong-khai/ban-do.json?zoom=9").get_json() == first
    other = client.get("/cong-khai/ban-do.json?zoom=9&trang_thai=dang-xu-ly").get_json()
    assert other["total"] != first["total"]  # another view, another count
    monkeypatch.setitem(app.config, "HEATMAP_CACHE_SECONDS", 0)
    assert client.get("/cong-khai/ban-do.json?zoom=9").get_json()["total"] == first["total"] + 1


def test_cells_and_markers_on_sqlite(lite):
    """The embedded default (SQLite) groups the same way."""
    points = [(16.0614, 108.2270), (16.0615, 108.2271), (16.0700, 108.2200), (15.88, 108.33)]
    for n, (lat, lon) in enumerate(points):
        cells = {f"h3_r{r}": h3.latlng_to_cell(lat, lon, r) for r in (6, 8, 10)}
        report = ReportFactory(code=f"PA-L-{n}", created_at=datetime.now(UTC), **cells)
        report.lat, report.lon = lat, lon  # placed by hand: no boundaries in this database
    db.session.commit()
    reports = [type("R", (), {"lat": lat, "lon": lon}) for lat, lon in points]
    for resolution in (6, 8, 10):
        got = heatmap.heat(heatmap.ReportFilter(), resolution)
        assert Counter({c.id: c.count for c in got.cells}) == brute(reports, resolution)
    found, _ = heatmap.markers(heatmap.ReportFilter(), heatmap.BBox(108.2, 16.05, 108.25, 16.08))
    assert {m.code for m in found} == {"PA-L-0", "PA-L-1", "PA-L-2"}
