"""Working-time calendar: office hours, Vietnamese holidays (Tết, Hùng Kings), deadlines.

Pure tests: explicit aware datetimes, no database, no Flask app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import holidays
import pytest

from webapp.errors import ValidationError
from webapp.services.sla.calendar import (
    VN_TZ,
    OfficeHours,
    WorkingCalendar,
    due_at,
    load_calendar,
)

# The hypothetical Tết 2027 announcement also shown (commented out) in config/calendar.yml:
# two extra days off after the package's break, paid for by two make-up Saturdays.
TET27_EXTRA_OFF = {date(2027, 2, 11), date(2027, 2, 12)}
TET27_MAKEUP = {date(2027, 1, 30), date(2027, 2, 20)}
# Names in Vietnamese regardless of the machine's locale (the package otherwise follows LANG).
VI_2027 = holidays.country_holidays("VN", years=2027, language="vi")


def vn(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A wall-clock time in Vietnam (UTC+7, no daylight saving)."""
    return datetime(y, mo, d, h, mi, tzinfo=VN_TZ)


@dataclass
class Cat:
    """Stands in for webapp.models.category.Category (only the SLA attributes)."""

    default_urgency: str = "normal"
    sla_urgent_hours: int = 8
    sla_normal_days: int = 3
    sla_complex_days: int = 10


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar(years=range(2025, 2028))


# -- holidays the package gives -----------------------------------------------------------


def test_package_tet_2027_days(cal: WorkingCalendar) -> None:
    # Lunar New Year 2027 is Saturday 6 February. The package lists 29 Tết (Thu 4) to
    # mùng 5 (Wed 10): five Tết days, the Saturday/Sunday ones compensated by weekdays.
    vn27 = VI_2027
    tet = sorted(d for d in vn27 if date(2027, 1, 20) <= d <= date(2027, 2, 28))
    assert tet == [date(2027, 2, 4) + timedelta(days=i) for i in range(7)]
    assert vn27[date(2027, 2, 6)] == "Tết Nguyên Đán"
    assert all(not cal.is_working_day(d) for d in tet)
    assert cal.is_working_day(date(2027, 2, 3))  # Wednesday: last working day before Tết
    assert cal.is_working_day(date(2027, 2, 11))  # Thursday: first working day after it


def test_hung_kings_day_2027_is_a_lunar_holiday(cal: WorkingCalendar) -> None:
    # 10th day of the 3rd lunar month of Đinh Mùi = Friday 16 April 2027 (not a fixed
    # Gregorian date: 2026 it was 26 April).
    assert cal.is_public_holiday(date(2027, 4, 16))
    assert not cal.is_working_day(date(2027, 4, 16))
    assert "Giỗ Tổ Hùng Vương" in VI_2027[date(2027, 4, 16)]
    assert cal.is_public_holiday(date(2026, 4, 26))
    # 1 working day from Thu 15 Apr 10:00: day 0 = Thu, Fri 16 holiday, weekend →
    # day 1 = Mon 19 Apr, due 17:00 (10:00 UTC).
    assert cal.add_working_days(vn(2027, 4, 15, 10), 1) == datetime(2027, 4, 19, 10, tzinfo=UTC)
    # 4 urgent hours from Thu 15:00: Thu 15:00–17:00 (2 h), then Mon 07:30–09:30 (2 h).
    assert cal.add_working_hours(vn(2027, 4, 15, 15), 4) == vn(2027, 4, 19, 9, 30)


# -- working days ---------------------------------------------------------------------------


def test_tet_2027_normal_sla_lands_after_the_break(cal: WorkingCalendar) -> None:
    start = vn(2027, 2, 3, 10)  # Wednesday, last working day before Tết
    # Day 0 = Wed 3 Feb (received before 17:00). Thu 4 – Wed 10 are the Tết break
    # (Sat 6 / Sun 7 inside it). Day 1 = Thu 11, day 2 = Fri 12, Sat 13 / Sun 14 off,
    # day 3 = Mon 15 Feb → due Mon 15 Feb 17:00 ICT = 10:00 UTC.
    expected = datetime(2027, 2, 15, 10, 0, tzinfo=UTC)
    assert cal.add_working_days(start, 3) == expected
    assert due_at(Cat(), None, start, cal) == expected


def test_tet_2027_with_announced_extra_days_off() -> None:
    cal = WorkingCalendar(extra_days_off=TET27_EXTRA_OFF, makeup_days=TET27_MAKEUP)
    # The (hypothetical) announcement closes Thu 11 and Fri 12 too: day 1 = Mon 15,
    # day 2 = Tue 16, day 3 = Wed 17 Feb → 17:00 ICT = 10:00 UTC.
    assert cal.add_working_days(vn(2027, 2, 3, 10), 3) == datetime(2027, 2, 17, 10, tzinfo=UTC)


def test_makeup_saturday_is_a_working_day(cal: WorkingCalendar) -> None:
    with_makeup = WorkingCalendar(makeup_days={date(2027, 2, 13)})
    assert not cal.is_working_day(date(2027, 2, 13))
    assert with_makeup.is_working_day(date(2027, 2, 13))
    start = vn(2027, 2, 3, 10)
    # Without it: day 3 = Mon 15 Feb (see above). With Sat 13 Feb worked: day 1 = Thu 11,
    # day 2 = Fri 12, day 3 = Sat 13 → due Sat 13 Feb 17:00 ICT, two days earlier.
    assert with_makeup.add_working_days(start, 3) == vn(2027, 2, 13, 17)
    assert cal.add_working_days(start, 3) == vn(2027, 2, 15, 17)


def test_makeup_saturday_counts_office_hours() -> None:
    cal = WorkingCalendar(extra_days_off=TET27_EXTRA_OFF, makeup_days=TET27_MAKEUP)
    # 8 urgent hours from Fri 29 Jan 15:00: Fri 15:00–17:00 (2 h), make-up Sat 30 Jan
    # 07:30–11:30 (4 h, total 6 h), 13:30–15:30 (2 h) → Sat 30 Jan 15:30.
    assert cal.add_working_hours(vn(2027, 1, 29, 15), 8) == vn(2027, 1, 30, 15, 30)
    # 1 working day from Fri 29 Jan: day 1 = the make-up Saturday.
    assert cal.add_working_days(vn(2027, 1, 29, 10), 1) == vn(2027, 1, 30, 17)


def test_package_known_swaps(cal: WorkingCalendar) -> None:
    # Announced swaps the package already carries: Sat 26 Apr 2025 worked for Fri 2 May 2025.
    assert cal.is_working_day(date(2025, 4, 26))
    assert not cal.is_working_day(date(2025, 5, 2))
    assert not cal.is_working_day(date(2025, 4, 27))  # an ordinary Sunday


def test_normal_and_complex_days(cal: WorkingCalendar) -> None:
    start = vn(2027, 3, 3, 9)  # Wednesday, no holiday in March 2027
    # 3 days: Thu 4, Fri 5, Mon 8 → Mon 8 Mar 17:00.
    assert due_at(Cat(), "normal", start, cal) == vn(2027, 3, 8, 17)
    # 10 days: Thu 4, Fri 5, Mon 8 … Fri 12 (7), Mon 15, Tue 16, Wed 17 (10) → Wed 17 Mar 17:00.
    assert due_at(Cat(), "complex", start, cal) == vn(2027, 3, 17, 17)
    # 0 days: the end of the receipt day.
    assert cal.add_working_days(start, 0) == vn(2027, 3, 3, 17)
    assert cal.add_working_days(start, 3).tzinfo is UTC


# -- working hours --------------------------------------------------------------------------


def test_urgent_hours_stop_at_closing_and_resume_next_morning(cal: WorkingCalendar) -> None:
    # 8 h from Fri 5 Mar 2027 15:00: Fri 15:00–17:00 (2 h), weekend skipped, Mon 8 Mar
    # 07:30–11:30 (4 h, total 6 h), lunch 11:30–13:30 skipped, 13:30–15:30 (2 h)
    # → Mon 8 Mar 15:30 ICT = 08:30 UTC.
    due = cal.add_working_hours(vn(2027, 3, 5, 15), 8)
    assert due == datetime(2027, 3, 8, 8, 30, tzinfo=UTC)
    assert due.tzinfo is UTC
    assert due_at(Cat(default_urgency="urgent"), None, vn(2027, 3, 5, 15), cal) == due


def test_urgent_hours_exclude_lunch_and_end_at_closing(cal: WorkingCalendar) -> None:
    # 4 h from Mon 10:00: 10:00–11:30 (1.5 h) + 13:30–16:00 (2.5 h).
    assert cal.add_working_hours(vn(2027, 3, 8, 10), 4) == vn(2027, 3, 8, 16)
    # Time that fills the afternoon exactly ends at 17:00, not at the next morning's 07:30.
    assert cal.add_working_hours(vn(2027, 3, 5, 15), 2) == vn(2027, 3, 5, 17)
    assert cal.add_working_hours(vn(2027, 3, 8, 7, 30), 4) == vn(2027, 3, 8, 11, 30)
    assert cal.add_working_hours(vn(2027, 3, 8, 10), 0.25) == vn(2027, 3, 8, 10, 15)


# -- starts outside office hours ------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours_due", "days_due"),
    [
        # Sunday night: counts from Mon 07:30; day 0 = Monday → 3 days = Thu 17:00.
        (vn(2027, 3, 7, 22), vn(2027, 3, 8, 9, 30), vn(2027, 3, 11, 17)),
        # Monday 06:00, before opening: same as Sunday night.
        (vn(2027, 3, 8, 6), vn(2027, 3, 8, 9, 30), vn(2027, 3, 11, 17)),
        # Monday lunch break 12:00: counts from 13:30; still day 0 = Monday.
        (vn(2027, 3, 8, 12), vn(2027, 3, 8, 15, 30), vn(2027, 3, 11, 17)),
        # Monday 16:59: one minute today, the rest Tuesday morning; day 0 = Monday.
        (vn(2027, 3, 8, 16, 59), vn(2027, 3, 9, 9, 29), vn(2027, 3, 11, 17)),
        # Monday 17:00 (closing) and 18:30: received Tuesday → 3 days = Fri 12 Mar 17:00.
        (vn(2027, 3, 8, 17), vn(2027, 3, 9, 9, 30), vn(2027, 3, 12, 17)),
        (vn(2027, 3, 8, 18, 30), vn(2027, 3, 9, 9, 30), vn(2027, 3, 12, 17)),
        # Saturday afternoon given in UTC (Sat 6 Mar 07:00 UTC = 14:00 ICT): as Sunday night.
        (datetime(2027, 3, 6, 7, tzinfo=UTC), vn(2027, 3, 8, 9, 30), vn(2027, 3, 11, 17)),
    ],
)
def test_start_outside_office_hours(
    cal: WorkingCalendar, start: datetime, hours_due: datetime, days_due: datetime
) -> None:
    assert cal.add_working_hours(start, 2) == hours_due
    assert cal.add_working_days(start, 3) == days_due


def test_next_office_moment(cal: WorkingCalendar) -> None:
    assert cal.next_office_moment(vn(2027, 3, 7, 22)) == vn(2027, 3, 8, 7, 30)
    assert cal.next_office_moment(vn(2027, 3, 8, 12)) == vn(2027, 3, 8, 13, 30)
    assert cal.next_office_moment(vn(2027, 3, 8, 9)) == vn(2027, 3, 8, 9)
    # Wednesday before Tết, after closing → Thursday 11 Feb (the break in between).
    assert cal.next_office_moment(vn(2027, 2, 3, 17, 30)) == vn(2027, 2, 11, 7, 30)


# -- elapsed working time -------------------------------------------------------------------


def test_working_seconds_between(cal: WorkingCalendar) -> None:
    assert cal.working_seconds_between(vn(2027, 3, 8, 8), vn(2027, 3, 8, 10)) == 2 * 3600
    # 11:00–14:00 spans lunch: 11:00–11:30 + 13:30–14:00.
    assert cal.working_seconds_between(vn(2027, 3, 8, 11), vn(2027, 3, 8, 14)) == 3600
    # Fri 16:00 → Mon 08:30: 1 h Friday + 1 h Monday.
    assert cal.working_seconds_between(vn(2027, 3, 5, 16), vn(2027, 3, 8, 8, 30)) == 7200
    # A whole working day is 7.5 h (4 h + 3.5 h); a weekend is nothing.
    assert cal.working_seconds_between(vn(2027, 3, 8), vn(2027, 3, 9)) == 7.5 * 3600
    assert cal.working_seconds_between(vn(2027, 3, 6), vn(2027, 3, 8)) == 0
    # The whole Tết break is nothing either.
    assert cal.working_seconds_between(vn(2027, 2, 3, 17), vn(2027, 2, 11, 7, 30)) == 0
    # Reversed bounds give the negative.
    assert cal.working_seconds_between(vn(2027, 3, 8, 10), vn(2027, 3, 8, 8)) == -7200


def test_add_then_measure_round_trip(cal: WorkingCalendar) -> None:
    # Pausing the clock relies on: time used (working_seconds_between) + the rest
    # (add_working_hours from the resume time) = the SLA.
    for start in (vn(2027, 2, 3, 15, 45), vn(2027, 3, 8, 11, 10), vn(2027, 4, 15, 16)):
        for hours in (0.5, 4, 8, 30):
            due = cal.add_working_hours(start, hours)
            assert cal.working_seconds_between(start, due) == pytest.approx(hours * 3600)


def test_elapsed_fraction(cal: WorkingCalendar) -> None:
    start = vn(2027, 3, 8, 7, 30)  # Monday opening
    due = cal.add_working_hours(start, 10)  # Mon 7.5 h + Tue 2.5 h → Tue 10:00
    assert due == vn(2027, 3, 9, 10)
    assert cal.elapsed_fraction(start, due, vn(2027, 3, 8, 12)) == pytest.approx(0.4)
    # Monday evening and Tuesday 07:00 are the same working moment: 75 % used.
    assert cal.elapsed_fraction(start, due, vn(2027, 3, 8, 20)) == pytest.approx(0.75)
    assert cal.elapsed_fraction(start, due, vn(2027, 3, 9, 7)) == pytest.approx(0.75)
    assert cal.elapsed_fraction(start, due, due) == pytest.approx(1.0)
    # Overdue is not capped: Tue 15:00 = 7.5 h + 4 h + 1.5 h = 13 h of 10 h.
    assert cal.elapsed_fraction(start, due, vn(2027, 3, 9, 15)) == pytest.approx(1.3)
    assert cal.elapsed_fraction(start, due, vn(2027, 3, 7, 9)) == 0.0
    # A deadline with no working time in it is all or nothing.
    assert cal.elapsed_fraction(due, due, vn(2027, 3, 9, 9)) == 0.0
    assert cal.elapsed_fraction(due, due, vn(2027, 3, 9, 11)) == 1.0


# -- validation -----------------------------------------------------------------------------


def test_naive_datetimes_rejected(cal: WorkingCalendar) -> None:
    naive = datetime(2027, 3, 8, 9)
    aware = vn(2027, 3, 8, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_working_hours(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add_working_days(naive, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.working_seconds_between(aware, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.elapsed_fraction(aware, aware, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(Cat(), None, naive, cal)


def test_bad_inputs(cal: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        cal.add_working_hours(vn(2027, 3, 8, 9), -1)
    with pytest.raises(ValueError):
        cal.add_working_days(vn(2027, 3, 8, 9), -1)
    with pytest.raises(ValidationError) as err:
        due_at(Cat(), "whenever", vn(2027, 3, 8, 9), cal)
    assert err.value.field == "urgency"
    with pytest.raises(ValueError, match="both off and make-up"):
        WorkingCalendar(extra_days_off={date(2027, 2, 13)}, makeup_days={date(2027, 2, 13)})
    with pytest.raises(ValueError, match="overlap"):
        OfficeHours(periods=((time(7, 30), time(12)), (time(11), time(17))))
    with pytest.raises(ValueError, match="ends before"):
        OfficeHours(periods=((time(17), time(7, 30)),))


# -- configuration --------------------------------------------------------------------------


def test_shipped_config_loads() -> None:
    loaded = load_calendar()
    assert loaded.hours == OfficeHours()
    assert loaded.hours.seconds_per_day == 7.5 * 3600


def test_load_calendar_from_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    # Unquoted times on purpose: YAML 1.1 reads 07:30 as 450 (minutes), which is accepted.
    path.write_text(
        "office_hours:\n"
        "  periods:\n"
        "    - [07:30, 11:30]\n"
        '    - ["13:30", "17:00"]\n'
        "  working_weekdays: [mon, tue, wed, thu, fri]\n"
        "holiday_years: [2027, 2027]\n"
        "extra_days_off:\n"
        "  - 2027-02-11\n"
        '  - "2027-02-12"\n'
        "makeup_days: [2027-01-30, 2027-02-20]\n",
        encoding="utf-8",
    )
    loaded = load_calendar(path)
    assert loaded.hours == OfficeHours()
    assert loaded.extra_days_off == TET27_EXTRA_OFF
    assert loaded.makeup_days == TET27_MAKEUP
    assert loaded.add_working_days(vn(2027, 2, 3, 10), 3) == vn(2027, 2, 17, 17)


def test_load_calendar_rejects_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yml"
    path.write_text("extra_days_off: [next tuesday]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"extra_days_off\[0\]"):
        load_calendar(path)
    with pytest.raises(FileNotFoundError):
        load_calendar(tmp_path / "missing.yml")
