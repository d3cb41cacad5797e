"""KPI arithmetic on a hand-made set: on time, late, late with extension, medians, links."""

from __future__ import annotations

import functools
import re
from datetime import date

import pytest
import time_machine

from tests.factories import ReportFactory
from tests.ioc.conftest import agency, at, login
from webapp.extensions import db
from webapp.models import AdminUnit
from webapp.services.ioc import stats

MARCH = stats.Period(date(2026, 3, 1), date(2026, 3, 31))
NOW = at("2026-04-20 03:00")  # 10:00 in Vietnam, after every deadline of the set
H = 3600.0


def hand_made_set(a_id: int, b_id: int, ward_a: str, ward_b: str) -> None:
    """Agency A: one report of each kind; agency B: one on time, one rejected. See EXPECTED."""

    add = functools.partial(ReportFactory, unit_code=ward_a)  # unit_code=... overrides it

    light, waste = "street_lighting", "waste"
    # A1 on time: resolved 2 days after, before the first deadline. 2 h to first response.
    add(
        agency_id=a_id,
        category_code=light,
        status="resolved",
        created_at=at("2026-03-02 08:00"),
        first_response_at=at("2026-03-02 10:00"),
        resolved_at=at("2026-03-04 08:00"),
        original_due_at=at("2026-03-05 08:00"),
        due_at=at("2026-03-05 08:00"),
        rating=5,
    )
    # A2 late with an approved extension: after the first deadline, before the extended one.
    add(
        agency_id=a_id,
        category_code=light,
        status="closed",
        created_at=at("2026-03-03 08:00"),
        first_response_at=at("2026-03-03 12:00"),
        resolved_at=at("2026-03-10 08:00"),
        original_due_at=at("2026-03-06 08:00"),
        due_at=at("2026-03-12 08:00"),
        extension_status="approved",
        rating=3,
    )
    # A3 late: no extension.
    add(
        agency_id=a_id,
        category_code=light,
        status="resolved",
        created_at=at("2026-03-04 08:00"),
        first_response_at=at("2026-03-05 08:00"),
        resolved_at=at("2026-03-09 08:00"),
        original_due_at=at("2026-03-06 08:00"),
        due_at=at("2026-03-06 08:00"),
        rating=1,
    )
    # A4 late: an approved extension, but resolved after the extended deadline too.
    add(
        agency_id=a_id,
        category_code=light,
        status="resolved",
        created_at=at("2026-03-05 08:00"),
        first_response_at=at("2026-03-05 09:00"),
        resolved_at=at("2026-03-14 08:00"),
        original_due_at=at("2026-03-07 08:00"),
        due_at=at("2026-03-12 08:00"),
        extension_status="approved",
    )
    # A5 open and overdue (no response yet).
    add(
        agency_id=a_id,
        category_code=light,
        status="assigned",
        created_at=at("2026-03-06 08:00"),
        original_due_at=at("2026-03-10 08:00"),
        due_at=at("2026-03-10 08:00"),
    )
    # A6 open, in time (an extension was refused: the deadline did not move), 6 h to respond.
    add(
        agency_id=a_id,
        category_code=light,
        status="in_progress",
        unit_code=ward_b,
        created_at=at("2026-03-07 08:00"),
        first_response_at=at("2026-03-07 14:00"),
        original_due_at=at("2026-04-30 08:00"),
        due_at=at("2026-04-30 08:00"),
        extension_status="refused",
    )
    # B1 on time, 30 min to respond, resolved in one day.
    add(
        agency_id=b_id,
        category_code=waste,
        status="resolved",
        unit_code=ward_b,
        created_at=at("2026-03-10 08:00"),
        first_response_at=at("2026-03-10 08:30"),
        resolved_at=at("2026-03-11 08:00"),
        original_due_at=at("2026-03-15 08:00"),
        due_at=at("2026-03-15 08:00"),
        rating=4,
    )
    # B2 rejected: received, neither resolved nor open.
    add(
        agency_id=b_id,
        category_code=waste,
        status="rejected",
        unit_code=ward_b,
        created_at=at("2026-03-12 08:00"),
    )
    # Outside the period: received on 28 February (21:00 local = 14:00 UTC), and in April.
    add(
        agency_id=b_id,
        category_code=waste,
        status="resolved",
        created_at=at("2026-02-28 14:00"),
        resolved_at=at("2026-03-02 08:00"),
        original_due_at=at("2026-03-01 08:00"),
        due_at=at("2026-03-01 08:00"),
    )
    add(
        agency_id=b_id,
        category_code=waste,
        status="assigned",
        created_at=at("2026-04-02 08:00"),
        due_at=at("2026-04-03 08:00"),
    )
    # Received at 23:30 local on 31 March (16:30 UTC): inside the period.
    add(
        agency_id=b_id,
        category_code=waste,
        status="assigned",
        unit_code=ward_b,
        created_at=at("2026-03-31 16:30"),
        due_at=at("2026-04-25 08:00"),
    )
    db.session.commit()


# Worked out by hand from the set above.
EXPECTED_A = dict(received=6, resolved=4, open=2, overdue=1, on_time=1, late=2,
                  late_extension=1, no_deadline=0, rating_count=3)  # fmt: skip
EXPECTED_B = dict(received=3, resolved=1, open=1, overdue=0, on_time=1, late=0,
                  late_extension=0, no_deadline=0, rating_count=1)  # fmt: skip
EXPECTED_TOTAL = dict(received=9, resolved=5, open=3, overdue=1, on_time=2, late=2,
                      late_extension=1, no_deadline=0, rating_count=4)  # fmt: skip


def figures(k: stats.Kpi) -> dict:
    return {name: getattr(k, name) for name in EXPECTED_A}


def check_hand_made(a_id: int, b_id: int, ward_a: str, ward_b: str) -> None:
    """The assertions shared by the PostgreSQL and SQLite runs."""
    total = stats.totals(MARCH, now=NOW)
    assert figures(total) == EXPECTED_TOTAL
    # First responses (h): 2, 4, 24, 1, 6, 0.5 → median (2 + 4) / 2 = 3 h.
    assert total.median_first_response_s == pytest.approx(3 * H)
    # Resolutions (h): 48, 168, 120, 216, 24 → median 120 h.
    assert total.median_resolution_s == pytest.approx(120 * H)
    assert total.rating_avg == pytest.approx((5 + 3 + 1 + 4) / 4)
    assert total.on_time_rate == pytest.approx(2 / 6)

    by_agency = {k.key: k for k in stats.table(MARCH, "agency", now=NOW)}
    assert set(by_agency) == {a_id, b_id}
    a, b = by_agency[a_id], by_agency[b_id]
    assert figures(a) == EXPECTED_A and figures(b) == EXPECTED_B
    # A: first responses 1, 2, 4, 6, 24 → 4 h; resolutions 48, 120, 168, 216 → 144 h.
    assert a.median_first_response_s == pytest.approx(4 * H)
    assert a.median_resolution_s == pytest.approx(144 * H)
    assert a.rating_avg == pytest.approx(3.0)
    # on time / (on time + late + late with extension + overdue) = 1 / (1 + 2 + 1 + 1)
    assert a.on_time_rate == pytest.approx(0.2)
    assert b.median_first_response_s == pytest.approx(0.5 * H)
    assert b.median_resolution_s == pytest.approx(24 * H)
    assert b.on_time_rate == pytest.approx(1.0)

    by_category = {k.key: k for k in stats.table(MARCH, "category", now=NOW)}
    assert figures(by_category["street_lighting"]) == EXPECTED_A
    assert figures(by_category["waste"]) == EXPECTED_B

    by_unit = {k.key: k for k in stats.table(MARCH, "unit", now=NOW)}
    assert by_unit[ward_a].received == 5 and by_unit[ward_b].received == 4
    assert by_unit[ward_b].open == 2 and by_unit[ward_b].on_time == 1

    weeks = stats.trend(MARCH, now=NOW)
    assert [(w.start, w.end) for w in weeks][:3] == [
        (date(2026, 3, 1), date(2026, 3, 1)),  # Sunday 1 March: the end of a week
        (date(2026, 3, 2), date(2026, 3, 8)),
        (date(2026, 3, 9), date(2026, 3, 15)),
    ]
    assert weeks[-1].end == date(2026, 3, 31)
    received = {w.start: w.kpi.received for w in weeks}
    assert received[date(2026, 3, 2)] == 6 and received[date(2026, 3, 9)] == 2
    assert received[date(2026, 3, 30)] == 1 and sum(received.values()) == 9
    assert weeks[1].kpi.on_time == 1 and weeks[1].kpi.late_extension == 1

    ranking = stats.agency_ranking(MARCH, now=NOW)
    assert [k.key for k in ranking] == [b_id, a_id]  # 100 % before 20 %


def test_kpis_on_postgresql(ctx):
    a, b = agency("CHIEUSANG"), agency("MTDT")
    wards = db.session.scalars(
        db.select(AdminUnit.code).where(AdminUnit.level == "ward").order_by(AdminUnit.code)
    ).all()
    hand_made_set(a.id, b.id, wards[0], wards[1])
    check_hand_made(a.id, b.id, wards[0], wards[1])


def test_overdue_agencies_now(ctx):
    a, b = agency("CHIEUSANG"), agency("MTDT")
    ward = db.session.scalar(db.select(AdminUnit.code).where(AdminUnit.level == "ward"))
    hand_made_set(a.id, b.id, ward, ward)
    units = stats.overdue_agencies(now=NOW)
    # A5 (due 10 March); B's report of 2 April (due 3 April), received outside March: the list
    # is the situation now, whatever the month of reception.
    assert [(u.agency_id, u.overdue) for u in units] == [(a.id, 1), (b.id, 1)]
    assert units[0].days_overdue == 40


def _seed(app) -> int:
    """The hand-made set, stored in a context of its own (requests must not share one)."""
    with app.app_context():
        a, b = agency("CHIEUSANG"), agency("MTDT")
        wards = db.session.scalars(
            db.select(AdminUnit.code).where(AdminUnit.level == "ward").order_by(AdminUnit.code)
        ).all()
        hand_made_set(a.id, b.id, wards[0], wards[1])
        a_id = a.id
        db.session.remove()
    return a_id


def test_each_figure_links_to_exactly_its_reports(app):
    _seed(app)
    with time_machine.travel(NOW, tick=False):  # signed in then: the session cookie is dated
        client = login(app.test_client(), "viewer")
        page = client.get("/ioc/chi-so?from=2026-03-01&to=2026-03-31")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        links = re.findall(r'<a href="(/bo/\?[^"]+)" data-figure="(\w+)">([\d.]+)</a>', html)
        assert len(links) > 30
        for url, figure, value in links:
            listing = client.get(url.replace("&amp;", "&")).get_data(as_text=True)
            assert f"<small>({value.replace('.', '')})</small>" in listing, (figure, url)


def test_kpi_page_shows_the_hand_made_figures(app):
    a_id = _seed(app)
    with time_machine.travel(NOW, tick=False):  # signed in then: the session cookie is dated
        client = login(app.test_client(), "viewer")
        html = client.get("/ioc/chi-so?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    row = html.split(f'<tr data-key="{a_id}">')[1].split("</tr>")[0]
    assert 'data-col="rate">20,0 %' in row
    assert 'data-col="first_response">4,0 giờ' in row
    assert 'data-col="resolution">6,0 ngày' in row  # 144 h
    assert 'data-col="rating">3,00/5' in row
    assert 'id="kpi-trend"' in html and "chart.umd.min.js" in html


# --------------------------------------------------------------------------- SQLite


def test_kpis_on_sqlite_with_python_medians(lite):
    from webapp.models import Agency

    assert db.session.get_bind().dialect.name == "sqlite"
    a = db.session.scalar(db.select(Agency).where(Agency.code == "A"))
    b = db.session.scalar(db.select(Agency).where(Agency.code == "B"))
    hand_made_set(a.id, b.id, "20194", "20197")
    check_hand_made(a.id, b.id, "20194", "20197")
