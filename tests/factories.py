"""Test data, made with factory-boy: every report, resident, user, agency and unit tests build.

Two kinds of report:

- `ReportFactory` stores a `Report` row directly, with the attributes a test chooses (status,
  dates, agency, category, cells...), placed and given its heatmap cells from `point` like
  intake would. Nothing is committed: tests commit once their rows are added.
- `SubmittedReportFactory` sends a `ReportDraft` through the real intake service
  (`submit_report`: validation, resident, first event, public code, queue) and returns the
  stored `Report`; `AssignedReportFactory` then classifies it and assigns it to an agency, as
  the back office sees a resident's report. Both commit, as intake does.

`ReportDraftFactory.build()` gives the draft alone. Rows use `db.session` of the current app
context, so the same factories serve the PostgreSQL session app and the SQLite ones.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AdminUnit, Agency, Report, ReportStatus, Resident, Role, User
from webapp.models.types import utcnow
from webapp.services.casework import routing, workflow
from webapp.services.geography import places
from webapp.services.intake.reports import ChannelIdentity, Contact, ReportDraft, submit_report

HAI_CHAU = (16.0700, 108.2246)  # a point in phường Hải Châu, Đà Nẵng
RESIDENT_NAME = "Trần Văn Bình"
RESIDENT_PHONE = "0905111222"


def agency_by_code(code: str) -> Agency:
    """A seeded agency by code."""
    found = db.session.scalar(select(Agency).where(Agency.code == code))
    assert found is not None, f"no agency {code}"
    return found


class _RowFactory(SQLAlchemyModelFactory):
    """Rows added to the current app's session, not flushed: the test commits when ready."""

    class Meta:
        abstract = True
        sqlalchemy_session = db.session
        sqlalchemy_session_persistence = None


# ------------------------------------------------------------------------ reference data


class AdminUnitFactory(_RowFactory):
    """A ward (or, with level="province", a province) without a boundary."""

    class Meta:
        model = AdminUnit

    code = factory.Sequence(lambda n: f"{90000 + n}")
    level = "ward"
    name = factory.Sequence(lambda n: f"Thử Nghiệm {n}")
    full_name = factory.LazyAttribute(lambda o: f"Phường {o.name}" if o.level == "ward" else o.name)
    parent_code = None


class AgencyFactory(_RowFactory):
    """An agency (a department unless `kind` says otherwise)."""

    class Meta:
        model = Agency

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.LazyAttribute(lambda o: f"Cơ quan {o.code}")


class UserFactory(_RowFactory):
    """A back-office account; its password hash matches no password (it cannot sign in)."""

    class Meta:
        model = User

    class Params:
        lead = factory.Trait(role=Role.AGENCY_LEAD)
        ioc_viewer = factory.Trait(role=Role.IOC_VIEWER)

    email = factory.Sequence(lambda n: f"canbo{n}@test.example.vn")
    name = factory.Sequence(lambda n: f"Cán bộ {n}")
    password_hash = "!"
    role = Role.AGENCY_STAFF
    agency = None
    active = True


class ResidentFactory(_RowFactory):
    """A resident with a name and a phone; flushed, so its id is there at once."""

    class Meta:
        model = Resident
        sqlalchemy_session_persistence = "flush"

    display_name = RESIDENT_NAME
    phone = RESIDENT_PHONE
    email = None


# ------------------------------------------------------------------------ reports as rows


class ReportFactory(_RowFactory):
    """A report row with chosen attributes, added to the session (not committed).

    `point=(lat, lon)` (or lat= and lon=) places it in its ward and gives its H3 cells, as
    intake does; an explicit `unit_code` or cell wins. `status` writes the state directly,
    bypassing the state machine (no event). Traits: `resolved`, `with_contact` (a resident with
    a name and phone).
    """

    class Meta:
        model = Report
        rename = {"status": "_status"}

    class Params:
        point = None
        placement = factory.LazyAttribute(
            lambda o: places.place(o.lat, o.lon) if o.lat is not None else None
        )
        resolved = factory.Trait(
            status="resolved",
            resolved_at=factory.LazyAttribute(lambda o: o.created_at + timedelta(days=1)),
        )
        with_contact = factory.Trait(resident=factory.SubFactory(ResidentFactory))

    code = factory.LazyFunction(lambda: f"PA-T-{uuid.uuid4().hex[:10].upper()}")
    channel = "web"
    description = "Ổ gà trên đường Trần Phú"
    search_text = "o ga tren duong tran phu"
    status = "assigned"
    created_at = factory.LazyFunction(utcnow)
    lat = factory.LazyAttribute(lambda o: o.point[0] if o.point else None)
    lon = factory.LazyAttribute(lambda o: o.point[1] if o.point else None)
    location_source = factory.LazyAttribute(lambda o: "pin" if o.lat is not None else "none")
    unit_code = factory.LazyAttribute(lambda o: o.placement.unit_code if o.placement else None)
    province_code = factory.LazyAttribute(
        lambda o: o.placement.province_code if o.placement else None
    )
    outside_area = factory.LazyAttribute(lambda o: bool(o.placement and not o.placement.inside))
    h3_r6 = factory.LazyAttribute(lambda o: o.placement.cells["h3_r6"] if o.placement else None)
    h3_r8 = factory.LazyAttribute(lambda o: o.placement.cells["h3_r8"] if o.placement else None)
    h3_r10 = factory.LazyAttribute(lambda o: o.placement.cells["h3_r10"] if o.placement else None)


# ------------------------------------------------------------- reports through real intake


class ContactFactory(factory.Factory):
    """The contact details a resident types (a name and a phone)."""

    class Meta:
        model = Contact

    name = RESIDENT_NAME
    phone = RESIDENT_PHONE
    email = None


class ChannelIdentityFactory(factory.Factory):
    """A messenger account the report came from."""

    class Meta:
        model = ChannelIdentity

    channel = "telegram"
    external_id = factory.Sequence(lambda n: str(5_550_000 + n))
    display_name = "Minh"


class ReportDraftFactory(factory.Factory):
    """What a resident sends: by default an anonymous web report with a pin in Hải Châu.

    `point=None` for no location; traits `with_contact` (RESIDENT_NAME, RESIDENT_PHONE) and
    `telegram` (sent from a Telegram account, `identity__external_id=...` to choose it).
    """

    class Meta:
        model = ReportDraft

    class Params:
        point = HAI_CHAU
        with_contact = factory.Trait(contact=factory.SubFactory(ContactFactory))
        telegram = factory.Trait(
            channel="telegram", identity=factory.SubFactory(ChannelIdentityFactory)
        )

    channel = "web"
    description = "Đèn đường hỏng ở đường Bạch Đằng"
    lat = factory.LazyAttribute(lambda o: o.point[0] if o.point else None)
    lon = factory.LazyAttribute(lambda o: o.point[1] if o.point else None)
    contact = None
    consent = True  # the resident ticked the privacy notice's box


class SubmittedReportFactory(ReportDraftFactory):
    """A report stored by the intake service (`submit_report`, committed): the `Report` row.

    `.build()` gives the draft that would be sent.
    """

    @classmethod
    def _create(cls, model_class, *args, **kwargs) -> Report:
        result = submit_report(model_class(*args, **kwargs))
        return db.session.get(Report, result.report_id)


class AssignedReportFactory(SubmittedReportFactory):
    """A resident's report (name and phone) sent through intake, classified and assigned.

    `agency`: an agency or its code; by default the routing rules choose it from `category`
    and the report's ward. `contact=None` for an anonymous report. Committed.
    """

    contact = factory.SubFactory(ContactFactory)
    category = "street_lighting"
    agency = None

    @classmethod
    def _build(cls, model_class, *args, category=None, agency=None, **kwargs) -> ReportDraft:
        return super()._build(model_class, *args, **kwargs)

    @classmethod
    def _create(
        cls, model_class, *args, category: str, agency: Agency | str | None, **kwargs
    ) -> Report:
        report = super()._create(model_class, *args, **kwargs)
        report.category_code = category
        workflow.transition(report, ReportStatus.CLASSIFIED)
        if isinstance(agency, str):
            agency = agency_by_code(agency)
        routing.assign(report, agency or routing.route(category, report.unit_code))
        db.session.commit()
        return report
