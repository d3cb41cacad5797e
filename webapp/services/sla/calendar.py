"""Working-time calendar for handling deadlines: Vietnamese office hours and public holidays.

Pure module (no Flask, no database): the SLA code and the Celery sweeps build one
``WorkingCalendar`` (``load_calendar()``, cached by the caller) and ask it for deadlines,
working time used so far, and the fraction of the allowed time already spent.

Every public function takes and returns timezone-aware datetimes; results are in UTC.
Wall-clock reasoning (office hours, which day it is) happens in Asia/Ho_Chi_Minh.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import holidays
import yaml
from flask_babel import lazy_gettext as _l

from config.settings import ROOT, VN_TZ
from webapp.errors import ValidationError

DEFAULT_CONFIG_PATH = ROOT / "config" / "calendar.yml"

# The handling classes of webapp.models.category.Urgency, spelled out so that this module
# does not import the models (and with them Flask-SQLAlchemy).
URGENT, NORMAL, COMPLEX = "urgent", "normal", "complex"

# A calendar with no working day at all (a broken config) would make the searches below
# loop forever; ten years without a single working period is treated as that error.
_MAX_IDLE_DAYS = 3660

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


@dataclass(frozen=True)
class OfficeHours:
    """Office periods of a working day (default 07:30–11:30, 13:30–17:00) and working weekdays."""

    periods: tuple[tuple[time, time], ...] = (
        (time(7, 30), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )
    # Monday = 0 … Sunday = 6, as date.weekday().
    working_weekdays: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))

    def __post_init__(self) -> None:
        # Normalise lists to tuples so the dataclass stays hashable and immutable.
        object.__setattr__(self, "periods", tuple((s, e) for s, e in self.periods))
        object.__setattr__(self, "working_weekdays", frozenset(self.working_weekdays))
        if not self.periods:
            raise ValueError("office hours need at least one period")
        previous_end: time | None = None
        for start, end in self.periods:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("office periods are local wall-clock times, without tzinfo")
            if start >= end:
                raise ValueError(f"office period {start}–{end} ends before it starts")
            if previous_end is not None and start < previous_end:
                raise ValueError("office periods must be in order and must not overlap")
            previous_end = end
        if not self.working_weekdays <= set(range(7)):
            raise ValueError("working weekdays are 0 (Monday) … 6 (Sunday)")

    @property
    def closing_time(self) -> time:
        """End of the last period of the day (17:00 by default)."""
        return self.periods[-1][1]

    @property
    def seconds_per_day(self) -> float:
        """Working seconds in one full working day."""
        return float(sum(_seconds(s, e) for s, e in self.periods))


class CategoryLike(Protocol):
    """What due_at needs from a category (webapp.models.category.Category fits)."""

    default_urgency: str
    sla_urgent_hours: int
    sla_normal_days: int
    sla_complex_days: int


class WorkingCalendar:
    """Working days and office hours in Vietnam: weekends, public holidays, announced swaps."""

    def __init__(
        self,
        hours: OfficeHours | None = None,
        extra_days_off: Iterable[date] = (),
        makeup_days: Iterable[date] = (),
        years: range | None = None,
        *,
        tz: tzinfo = VN_TZ,
    ) -> None:
        self.hours = hours or OfficeHours()
        self.extra_days_off = frozenset(extra_days_off)
        self.makeup_days = frozenset(makeup_days)
        self.tz = tz
        clash = self.extra_days_off & self.makeup_days
        if clash:
            days = ", ".join(d.isoformat() for d in sorted(clash))
            raise ValueError(f"days both off and make-up working days: {days}")
        # Per-year (public holidays, make-up weekend days known to the package). Filled
        # lazily and never mutated in place, so concurrent readers are safe; `years` only
        # pre-computes (e.g. at start-up) — dates outside it are still answered.
        self._years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
        self._lock = threading.Lock()
        for year in years or ():
            self._year(year)

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(hours={self.hours!r}, extra_days_off={len(self.extra_days_off)}, "
            f"makeup_days={len(self.makeup_days)})"
        )

    # -- days -------------------------------------------------------------------------------

    def _year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            if year not in self._years:
                # The next year is populated too because a government swap may pair a day
                # off with a make-up Saturday of the previous year (e.g. 02/01/2015 ↔
                # 27/12/2014); the package files such a pair under the later year.
                vn = holidays.country_holidays("VN", years=(year, year + 1))
                days_off = frozenset(d for d in vn if d.year == year)
                workdays = frozenset(d for d in vn.weekend_workdays if d.year == year)
                self._years[year] = (days_off, workdays)
            return self._years[year]

    def is_public_holiday(self, d: date) -> bool:
        """True on a public holiday (or its observed/substituted day) listed by `holidays`."""
        return d in self._year(d.year)[0]

    def is_working_day(self, d: date) -> bool:
        """Working weekday that is neither a holiday nor a day off, or a make-up working day."""
        if isinstance(d, datetime):
            raise TypeError("is_working_day takes a date; convert the datetime to local time")
        if d in self.makeup_days:
            return True
        if d in self.extra_days_off:
            return False
        days_off, package_workdays = self._year(d.year)
        if d.weekday() not in self.hours.working_weekdays:
            # The package knows some announced make-up Saturdays (e.g. 26/04/2025).
            return d in package_workdays
        return d not in days_off

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after d."""
        for _ in range(_MAX_IDLE_DAYS):
            d += timedelta(days=1)
            if self.is_working_day(d):
                return d
        raise ValueError("the calendar has no working day within ten years")

    # -- office periods ---------------------------------------------------------------------

    def _local(self, value: datetime, name: str = "datetime") -> datetime:
        if not isinstance(value, datetime):
            raise TypeError(f"{name} must be a datetime")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware (got naive {value.isoformat()})")
        return value.astimezone(self.tz)

    def _day_periods(self, d: date) -> list[tuple[datetime, datetime]]:
        if not self.is_working_day(d):
            return []
        return [
            (datetime.combine(d, s, self.tz), datetime.combine(d, e, self.tz))
            for s, e in self.hours.periods
        ]

    def _periods_from(self, local: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Office periods (clipped to start at `local`) from `local` on, endlessly."""
        d = local.date()
        idle = 0
        while True:
            found = False
            for start, end in self._day_periods(d):
                if end > local:
                    found = True
                    yield max(start, local), end
            idle = 0 if found else idle + 1
            if idle > _MAX_IDLE_DAYS:
                raise ValueError("the calendar has no working period within ten years")
            d += timedelta(days=1)

    def next_office_moment(self, moment: datetime) -> datetime:
        """`moment` if it is inside office hours, else the start of the next office period."""
        start, _ = next(self._periods_from(self._local(moment)))
        return start.astimezone(UTC)

    # -- arithmetic -------------------------------------------------------------------------

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The moment when `seconds` of office time have passed since `start` (UTC)."""
        if seconds < 0:
            raise ValueError("working time to add must not be negative")
        remaining = float(seconds)
        for period_start, period_end in self._periods_from(self._local(start, "start")):
            available = (period_end - period_start).total_seconds()
            # `<=` so that time which fills a period exactly ends at its closing time
            # (17:00), not at the start of the next period.
            if remaining <= available:
                return (period_start + timedelta(seconds=remaining)).astimezone(UTC)
            remaining -= available
        raise AssertionError("unreachable: _periods_from is endless")  # pragma: no cover

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """Add office hours: the clock stops outside office periods, resumes next working morning.

        A start outside office hours (night, weekend, holiday, lunch break) counts from the
        start of the next office period; the lunch break is never counted.
        """
        return self.add_working_seconds(start, hours * 3600.0)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Deadline of `days` working days: closing time of the Nth working day after receipt.

        Rule (Civil Code 2015 art. 147: a period counted in days starts on the day *after*
        the event; one-stop-shop practice (Decree 61/2018, and Decree 45/2020 for online
        dossiers) counts time limits in working days from receipt and treats a dossier
        received after hours, on a weekend or on a holiday as received the next working day):

        * day 0 is the receipt day: the working day of `start` if it arrives before closing
          time (07:30 or earlier, during the lunch break or during a period are all day 0);
          a start at/after closing time, on a weekend, holiday or announced day off makes
          the next working day day 0;
        * the deadline is the closing time (17:00) of the Nth working day after day 0.

        So 3 days from Wednesday 10:00 are due Monday 17:00; from Friday 18:00 or from
        Sunday, day 0 is Monday and the deadline is Thursday 17:00. ``days=0`` is due at
        the closing time of day 0.
        """
        if days < 0:
            raise ValueError("working days to add must not be negative")
        received = self._local(self.next_office_moment(start), "start")
        d = received.date()
        for _ in range(int(days)):
            d = self.next_working_day(d)
        return datetime.combine(d, self.hours.closing_time, self.tz).astimezone(UTC)

    def working_seconds_between(self, a: datetime, b: datetime) -> float:
        """Office seconds between a and b (negative if b is before a); for pauses and reminders."""
        local_a, local_b = self._local(a, "a"), self._local(b, "b")
        if local_b < local_a:
            return -self.working_seconds_between(b, a)
        total = 0.0
        for period_start, period_end in self._periods_from(local_a):
            if period_start >= local_b:
                break
            total += (min(period_end, local_b) - period_start).total_seconds()
        return total

    def elapsed_fraction(self, start: datetime, due: datetime, now: datetime) -> float:
        """Share of the working time from start to due already used at `now` (>1 once overdue).

        0.0 before `start`; not capped at 1.0 so the sweep can tell "just late" from
        "twice the allowed time".
        """
        allowed = self.working_seconds_between(start, due)
        used = max(0.0, self.working_seconds_between(start, now))
        if allowed <= 0:
            # A deadline with no office time in it (due at/just after start): all or nothing.
            return 1.0 if self._local(now, "now") >= self._local(due, "due") else 0.0
        return used / allowed


def due_at(
    category_like: CategoryLike,
    urgency: str | None,
    start: datetime,
    calendar: WorkingCalendar,
) -> datetime:
    """Deadline (UTC) for a report of this category and urgency received/assigned at `start`."""
    chosen = str(urgency if urgency is not None else category_like.default_urgency)
    if chosen == URGENT:
        return calendar.add_working_hours(start, float(category_like.sla_urgent_hours))
    if chosen == NORMAL:
        return calendar.add_working_days(start, int(category_like.sla_normal_days))
    if chosen == COMPLEX:
        return calendar.add_working_days(start, int(category_like.sla_complex_days))
    raise ValidationError(
        _l("Mức độ xử lý không hợp lệ: %(chosen)s", chosen=chosen),
        field="urgency",
    )


# -- configuration ----------------------------------------------------------------------------


def _seconds(start: time, end: time) -> int:
    return (end.hour * 3600 + end.minute * 60 + end.second) - (
        start.hour * 3600 + start.minute * 60 + start.second
    )


def _parse_time(value: Any, where: str) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # PyYAML (YAML 1.1) reads an unquoted 07:30 as the base-60 integer 450, i.e. the
        # minutes after midnight — accept it rather than fail on a missing pair of quotes.
        if not 0 <= value < 24 * 60:
            raise ValueError(f"{where}: {value} is not a time of day")
        return time(value // 60, value % 60)
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f'{where}: expected a time like "07:30", got {value!r}')


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"{where}: expected a date, got a date and time {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{where}: expected a date like 2027-02-11, got {value!r}")


def _parse_weekday(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    if isinstance(value, str) and value.strip().lower()[:3] in _WEEKDAYS:
        return _WEEKDAYS[value.strip().lower()[:3]]
    raise ValueError(f"{where}: expected mon … sun (or 0 … 6), got {value!r}")


def _date_list(raw: Any, key: str) -> set[date]:
    if raw is None:
        return set()
    if not isinstance(raw, list):
        raise ValueError(f"{key}: expected a list of dates")
    return {_parse_date(item, f"{key}[{i}]") for i, item in enumerate(raw)}


def calendar_from_dict(data: dict[str, Any]) -> WorkingCalendar:
    """Build a calendar from the parsed contents of config/calendar.yml."""
    if not isinstance(data, dict):
        raise ValueError("calendar config must be a mapping")
    office = data.get("office_hours") or {}
    if not isinstance(office, dict):
        raise ValueError("office_hours must be a mapping")
    hours_kwargs: dict[str, Any] = {}
    if office.get("periods") is not None:
        periods = []
        for i, period in enumerate(office["periods"]):
            where = f"office_hours.periods[{i}]"
            if not isinstance(period, list | tuple) or len(period) != 2:
                raise ValueError(f"{where}: expected [start, end]")
            periods.append((_parse_time(period[0], where), _parse_time(period[1], where)))
        hours_kwargs["periods"] = tuple(periods)
    if office.get("working_weekdays") is not None:
        hours_kwargs["working_weekdays"] = frozenset(
            _parse_weekday(v, f"office_hours.working_weekdays[{i}]")
            for i, v in enumerate(office["working_weekdays"])
        )
    years = None
    span = data.get("holiday_years")
    if span is not None:
        if not (
            isinstance(span, list) and len(span) == 2 and all(isinstance(y, int) for y in span)
        ):
            raise ValueError("holiday_years: expected [first, last]")
        years = range(span[0], span[1] + 1)
    tz = ZoneInfo(str(data["timezone"])) if data.get("timezone") else VN_TZ
    return WorkingCalendar(
        OfficeHours(**hours_kwargs),
        extra_days_off=_date_list(data.get("extra_days_off"), "extra_days_off"),
        makeup_days=_date_list(data.get("makeup_days"), "makeup_days"),
        years=years,
        tz=tz,
    )


def load_calendar(path: Path | None = None) -> WorkingCalendar:
    """Read config/calendar.yml (or `path`) into a WorkingCalendar; pure, the caller caches.

    Without `path`, a missing config/calendar.yml gives the defaults (office hours,
    Monday–Friday, the package's holidays); an explicit `path` must exist.
    """
    target = path or DEFAULT_CONFIG_PATH
    if path is None and not target.exists():
        return WorkingCalendar()
    with target.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    return calendar_from_dict(data)
