"""A report's life replayed in the past: the demo history's reports, one at a time.

`live` draws a report (history.py says what reports look like) and walks it through the state
machine to the status its age calls for: every step checked with `workflow.can_transition`
and stamped as `workflow.transition` stamps it, every assignment given its deadline by
`deadlines.set_deadline` (the working calendar), and the reminder and escalation the sweep
would have made while the clock ran. The events are returned, not sent: nothing reaches the
notification hooks, so replaying the past tells nobody anything.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from config.settings import VN_TZ
from webapp.extensions import db
from webapp.models import Agency, Category, Report
from webapp.services.administration import history
from webapp.services.administration.history import Rng
from webapp.services.casework import workflow
from webapp.services.geography import places
from webapp.services.intake import reports
from webapp.services.sla import deadlines
from webapp.services.sla.sweep import CLOCK_RUNNING


@dataclass
class World:
    """What the lives refer to, loaded once: categories, wards and points, routing."""

    now: datetime
    sampler: history.PointSampler
    categories: dict[str, Category]
    streets: dict[str, list[str]]  # ward code → its streets ("" → every street)
    route: Callable[[str, str | None], Agency | None]
    earlier: list[Report] = field(default_factory=list)  # what a duplicate may point to

    @classmethod
    def load(cls, rng: Rng, province: str, now: datetime) -> World:
        """The province's categories, wards, streets and routing, from the database."""
        from webapp.services.casework import routing

        streets: dict[str, list[str]] = {"": []}
        for name, ward in history.load_streets(province):
            streets.setdefault(ward, []).append(name)
            streets[""].append(name)
        cache: dict[tuple[str, str | None], Agency | None] = {}

        def route(category: str, unit: str | None) -> Agency | None:
            if (category, unit) not in cache:
                cache[category, unit] = routing.route(category, unit)
            return cache[category, unit]

        categories = {c.code: c for c in db.session.scalars(select(Category))}
        wards = history.province_wards(province)
        if not wards:
            raise RuntimeError(f"No communes/wards with a boundary in {province}: import them.")
        return cls(now, history.PointSampler(rng, wards), categories, streets, route)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _local(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y") if value else ""


class Life:
    """One report's steps through the state machine at moments in the past, with its events."""

    def __init__(self, report: Report, now: datetime, rng: Rng):
        self.report, self.now, self.rng = report, now, rng
        self.calendar = deadlines.working_calendar()
        self.events: list[dict[str, Any]] = []
        self.duplicate_of: Report | None = None

    def later(self, at: datetime, hours: float) -> datetime:
        """`hours` of working time after `at` (staff act in office hours)."""
        return self.calendar.add_working_seconds(at, hours * 3600)

    def by_now(self, at: datetime, since: datetime) -> datetime:
        """`at`, or a moment between `since` and now when `at` has not come yet."""
        return at if at <= self.now else since + (self.now - since) * self.rng.random()

    def event(
        self, kind: str, at: datetime, actor: str, note: str | None = None, **extra: Any
    ) -> None:
        """One history entry (status changes go through `move`)."""
        self.events.append(
            {
                "kind": kind,
                "from_status": extra.get("from_status"),
                "to_status": extra.get("to_status"),
                "actor_id": None,
                "actor_label": actor,
                "note": note,
                "public": extra.get("public", False),
                "data": extra.get("data"),
                "created_at": at,
            }
        )
        self.report.updated_at = max(self.report.updated_at or at, at)

    def move(
        self, to: str, at: datetime, actor: str, note: str | None = None, **extra: Any
    ) -> None:
        """A step of the state machine, stamped as `workflow.transition` stamps it."""
        report, current = self.report, self.report.status
        if not workflow.can_transition(current, to):
            raise ValueError(f"history: {current} → {to} is not a step of the state machine")
        if current in CLOCK_RUNNING:
            self.sweep(at)
        report._status = to  # replayed in the past: workflow.transition would stamp "now"
        if to == "resolved":
            report.resolved_at = at
        elif to == "closed":
            report.closed_at = at
        elif to == "reopened":
            report.resolved_at = report.closed_at = None
        extra.setdefault("public", True)
        self.event("status", at, actor, note, from_status=current, to_status=to, **extra)

    def assign(self, agency: Agency, at: datetime, actor: str, note: str | None = None) -> None:
        """To the agency with a deadline from the working calendar, as `routing.assign` does."""
        report, category = self.report, self.report.category
        assert category is not None, "classified before it is assigned"
        report.agency, report.agency_id = agency, agency.id
        report.urgency = report.urgency or category.default_urgency
        deadlines.set_deadline(report, at)
        data = {"agency": agency.code, "due_at": _iso(report.due_at)}
        self.move("assigned", at, actor, note, data=data)

    def sweep(self, until: datetime) -> None:
        """The reminder and escalation the sweep made while the clock ran, up to `until`."""
        report = self.report
        if report.remind_at and report.reminded_at is None and report.remind_at < until:
            report.reminded_at = report.remind_at + timedelta(seconds=30)
            note = f"Sắp đến hạn xử lý ({_local(report.due_at)})."
            self.event("reminder", report.reminded_at, "system", note)
        if report.due_at and report.escalated_at is None and report.due_at < until:
            report.escalated_at, report.overdue = report.due_at + timedelta(seconds=30), True
            note = f"Quá hạn xử lý (hạn {_local(report.due_at)}); đã báo lãnh đạo và IOC."
            self.event("escalation", report.escalated_at, "system", note)

    def extend(self, assigned: datetime, since: datetime) -> datetime:
        """Halfway through, the agency asks for more working days; the IOC decides. Last moment."""
        report, rng, due = self.report, self.rng, self.report.due_at
        assert due is not None, "only a report with a deadline gets more time"
        half = self.calendar.working_seconds_between(assigned, due) / 2
        asked = max(self.calendar.add_working_seconds(assigned, half), since)
        if asked > self.now:
            return since
        report.extension_status, report.extension_reason = "requested", "Cần thêm thời gian."
        report.extension_until = self.calendar.add_working_days(due, history.EXTENSION_DAYS)
        until = _iso(report.extension_until)
        data = {"days": history.EXTENSION_DAYS, "due_at": _iso(due), "until": until}
        self.event("extension_request", asked, "agency_staff", report.extension_reason, data=data)
        decided = self.later(asked, rng.expovariate(1 / 4))
        if decided > self.now:
            return asked
        self.sweep(decided)
        approved = rng.random() < history.EXTENSION_APPROVED
        data = {"approved": approved}
        if approved:
            report.extension_status, data["due_before"] = "approved", _iso(due)
            report.due_at, report.remind_at, report.reminded_at = report.extension_until, None, None
            if report.escalated_at is not None and report.due_at > decided:
                report.escalated_at = None
        else:
            report.extension_status = "refused"
        data["due_at"] = _iso(report.due_at)
        self.event("extension_decision", decided, "ioc_operator", data=data)
        return decided

    def end(self) -> Life:
        """Stamp what the sweep did up to now while the clock still runs; events in order."""
        if self.report.status in CLOCK_RUNNING:
            self.sweep(self.now)
        self.events.sort(key=lambda e: e["created_at"])
        return self


def new_report(rng: Rng, world: World, created: datetime) -> tuple[Report, str]:
    """A report as intake stores it (words, a point placed in its ward, a tracking token), and
    the category the NLU will find for it."""
    ward, lat, lon = world.sampler()
    category = history.pick(rng, history.CATEGORY_MIX)
    streets = world.streets.get(ward.code) or world.streets[""]
    description = history.describe(
        rng, category, streets[int(rng.random() * len(streets))], ward.name
    )
    channel = history.pick(rng, history.CHANNEL_MIX)
    report = Report(
        channel=channel,
        description=description,
        search_text=reports.search_text(description, None),
        created_at=created,
        updated_at=created,
        tracking_token=secrets.token_urlsafe(32),
        lat=lat,
        lon=lon,
        location_source="device" if rng.random() < 0.15 else "pin",
    )
    placement = places.place(lat, lon)
    report.unit_code, report.province_code = placement.unit_code, placement.province_code
    report.outside_area = not placement.inside
    for name, cell in placement.cells.items():
        setattr(report, name, cell)
    return report, category


def live(rng: Rng, world: World, created: datetime, final: str) -> Life:
    """One report from its receipt to `final`, every step at or before `world.now`.

    Call it oldest first: a duplicate points to a report made before it.
    """
    life = _live(rng, world, created, final)
    if life.report.category_code and life.report.status not in ("rejected", "duplicate"):
        world.earlier.append(life.report)
    return life


def _live(rng: Rng, world: World, created: datetime, final: str) -> Life:
    report, code = new_report(rng, world, created)
    life = Life(report, world.now, rng)
    by = "ioc_operator" if report.channel == "hotline" else "resident"
    data = {"channel": report.channel, "photos": 0, "seed": history.MARKER}
    life.move("received", created, by, data=data)
    if final == "received":
        return life.end()
    category = world.categories[code]
    at = created + timedelta(seconds=rng.uniform(4, 90))
    triage = final == "needs_triage" or rng.random() < history.TRIAGE_SHARE
    report.category, report.category_code = category, category.code
    report.classified_at, report.classify_attempts = at, 1
    report.confidence = round(rng.uniform(0.3, 0.59) if triage else rng.uniform(0.62, 0.99), 4)
    report.nlu_ranking = [[category.code, report.confidence]]
    data = {"category": category.code, "confidence": report.confidence}
    life.move("classified", at, "nlu", public=False, data=data)
    if final == "classified":
        return life.end()
    agency = world.route(category.code, report.unit_code)
    if triage:
        note = "Độ tin cậy phân loại thấp, chờ điều phối viên."
        life.move("needs_triage", at, "nlu", note, data={"reason": "low_confidence"})
        if final == "needs_triage" or agency is None:
            return life.end()
        at = life.by_now(life.later(at, rng.expovariate(1 / 2)), at)
        life.move("classified", at, "ioc_operator", public=False)
        life.assign(agency, at, "ioc_operator", "Điều phối viên phân công.")
    elif agency is not None:
        life.assign(agency, at, "nlu")
    else:
        note = "Chưa có cơ quan phụ trách lĩnh vực này tại địa bàn."
        life.move("needs_triage", at, "nlu", note, data={"reason": "no_agency"})
        return life.end()
    assigned = at
    if final in ("rejected", "duplicate", "transferred"):
        at = life.by_now(life.later(at, rng.expovariate(1 / 4)), at)
        return _decline(rng, world, life, final, at)
    if final == "assigned":
        return life.end()
    at = life.by_now(life.later(at, rng.expovariate(1 / history.RESPONSE_HOURS)), at)
    life.move("in_progress", at, "agency_staff", "Đã tiếp nhận xử lý.")
    report.first_response_at = at
    first_due = report.due_at
    assert first_due is not None, "assigned with a deadline"
    if rng.random() < history.EXTENSION_SHARE:
        at = life.extend(assigned, at)
    if final == "in_progress":
        return life.end()
    allowed = life.calendar.working_seconds_between(assigned, first_due)
    share = rng.lognormvariate(*history.RESOLUTION_SHARE)
    resolved = life.calendar.add_working_seconds(assigned, share * allowed)
    at = life.by_now(max(resolved, at + timedelta(minutes=20)), at)
    note = history.RESOLUTIONS[int(rng.random() * len(history.RESOLUTIONS))]
    life.move("resolved", at, "agency_staff", note)
    report.public_note, resolved_at = note, at
    if final == "reopened" or rng.random() < history.RATED_SHARE:
        stars = rng.choice((1, 2)) if final == "reopened" else history.pick(rng, history.RATING_MIX)
        rated = life.by_now(at + timedelta(hours=rng.expovariate(1 / 20)), at)
        report.rating = stars
        life.event("rating", rated, "resident", data={"rating": stars})
        at = rated
    if final == "reopened":
        at = life.by_now(at + timedelta(minutes=rng.uniform(1, 30)), at)
        data = {"reason": "resident", "rating": report.rating}
        life.move("reopened", at, "resident", "Vẫn chưa được khắc phục.", data=data)
        deadlines.set_deadline(report, at)  # back with the agency, on a new deadline
    elif final == "closed":
        after = timedelta(days=rng.uniform(*history.CLOSE_AFTER_DAYS))
        at = life.by_now(resolved_at + after, at)
        life.move("closed", at, "ioc_operator", "Đã kiểm tra kết quả xử lý.")
    return life.end()


def _decline(rng: Rng, world: World, life: Life, final: str, at: datetime) -> Life:
    """Rejected, closed as a duplicate of an earlier report, or sent to another agency."""
    report = life.report
    if final == "duplicate" and world.earlier:
        same = [r for r in world.earlier if r.category_code == report.category_code]
        near = [r for r in same if r.unit_code == report.unit_code]
        pool = near or same or world.earlier
        life.duplicate_of = original = pool[int(rng.random() * len(pool))]
        # Across agencies only the IOC closes a report as a duplicate of another's.
        by = "agency_staff" if original.agency_id == report.agency_id else "ioc_operator"
        life.move("duplicate", at, by, data={"original": None})  # its code once stored
        return life.end()
    if final == "transferred":
        agencies = (world.route(c, report.unit_code) for c in ("other", "road_damage", "waste"))
        other = next((a for a in agencies if a is not None and a.id != report.agency_id), None)
        if other is not None:
            data = {"from_agency_id": report.agency_id, "to_agency_id": other.id}
            note = "Không thuộc phạm vi của đơn vị, đề nghị chuyển."
            life.move("transferred", at, "agency_staff", note, public=False, data=data)
            return life.end()
    reason = "insufficient" if final == "duplicate" else rng.choice(tuple(history.REJECTIONS))
    life.move("rejected", at, "agency_staff", history.REJECTIONS[reason], data={"reason": reason})
    return life.end()
