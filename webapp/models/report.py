"""Reports, their photos and their event history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SQLColumnExpression,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import Model
from webapp.models.agency import Agency
from webapp.models.category import Category
from webapp.models.geo import AdminUnit
from webapp.models.resident import Resident, ResidentIdentity
from webapp.models.types import JSONType, TimestampMixin, UTCDateTime, utcnow
from webapp.models.user import User


class ReportStatus(StrEnum):
    """The states of the one state machine (webapp.services.casework.workflow)."""

    RECEIVED = "received"
    CLASSIFIED = "classified"
    NEEDS_TRIAGE = "needs_triage"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    TRANSFERRED = "transferred"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"


OPEN_STATUSES = frozenset(
    {
        ReportStatus.RECEIVED,
        ReportStatus.CLASSIFIED,
        ReportStatus.NEEDS_TRIAGE,
        ReportStatus.ASSIGNED,
        ReportStatus.IN_PROGRESS,
        ReportStatus.TRANSFERRED,
        ReportStatus.REOPENED,
    }
)


# The sweep's partial indexes hold only reports whose clock runs, so resolved history never
# slows it down (must match webapp.services.sla.sweep.CLOCK_RUNNING).
_CLOCK = (
    " AND waiting_since IS NULL"
    " AND status IN ('assigned', 'in_progress', 'reopened', 'transferred')"
)


_HEAT_COLUMNS = ["status", "category_code", "agency_id", "unit_code", "created_at", "due_at"]
_OPEN_SQL = ", ".join(
    f"'{s}'"
    for s in sorted(
        ("assigned", "classified", "in_progress", "needs_triage", "received", "reopened",
         "transferred")
    )
)  # fmt: skip


class LocationSource(StrEnum):
    """How the report's point was obtained."""

    PIN = "pin"  # map pin or shared location
    DEVICE = "device"  # browser geolocation
    EXIF = "exif"  # GPS in a photo
    ADDRESS = "address"  # typed address, geocoded
    TEXT = "text"  # place names found in the description
    NONE = "none"


class Report(TimestampMixin, Model):
    """One problem reported by a resident."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_status_due_at", "status", "due_at"),
        Index("ix_reports_agency_status", "agency_id", "status"),
        # Heatmap aggregation reads only these indexes (index-only scans), see
        # webapp/services/ioc/heatmap.py and bench/heatmap_1m.py.
        Index("ix_reports_heat_r6", "h3_r6", "h3_r8", postgresql_include=_HEAT_COLUMNS),
        Index("ix_reports_heat_r8", "h3_r8", "h3_r10", postgresql_include=_HEAT_COLUMNS),
        Index(
            "ix_reports_heat_open",
            "h3_r6",
            "h3_r8",
            postgresql_include=_HEAT_COLUMNS,
            postgresql_where=text(f"status IN ({_OPEN_SQL})"),
            sqlite_where=text(f"status IN ({_OPEN_SQL})"),
        ),
        Index(
            "ix_reports_heat_created",
            "created_at",
            postgresql_include=[
                "h3_r6",
                "h3_r8",
                "status",
                "category_code",
                "agency_id",
                "unit_code",
                "due_at",
            ],
        ),
        Index(
            "ix_reports_heat_unit",
            "unit_code",
            postgresql_include=[
                "h3_r8",
                "h3_r10",
                "status",
                "category_code",
                "agency_id",
                "created_at",
                "due_at",
            ],
        ),
        # A ward's street cells, unfiltered: key-only, so the count reads a small index.
        Index("ix_reports_unit_cells", "unit_code", "h3_r10", "h3_r8"),
        Index(
            "ix_reports_remind_pending",
            "remind_at",
            postgresql_where=text(f"reminded_at IS NULL AND remind_at IS NOT NULL{_CLOCK}"),
            sqlite_where=text(f"reminded_at IS NULL AND remind_at IS NOT NULL{_CLOCK}"),
        ),
        Index(
            "ix_reports_escalate_pending",
            "due_at",
            postgresql_where=text(f"escalated_at IS NULL AND due_at IS NOT NULL{_CLOCK}"),
            sqlite_where=text(f"escalated_at IS NULL AND due_at IS NOT NULL{_CLOCK}"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    # The secret half of the tracking link the resident receives (≥ 128 random bits): with it
    # the whole report; with the public code alone only the public view.
    tracking_token: Mapped[str | None] = mapped_column(String(43), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    # The language the resident wrote in (the form's, the bot's): what they are told back in.
    language: Mapped[str] = mapped_column(String(5), default="vi", server_default="vi")
    description: Mapped[str] = mapped_column(Text)
    # Lower-case, diacritic-free copy of the text for search ("duong" finds "đường").
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Status is read-only outside the state machine; see the `status` property below.
    _status: Mapped[str] = mapped_column("status", String(20))  # ix_reports_status_due_at

    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    nlu_ranking: Mapped[list[Any] | None] = mapped_column(JSONType)
    nlu_entities: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Several problems in one message ([[part, category], …], nlu.problems): the operator may
    # split the report, one per problem.
    nlu_problems: Mapped[list[Any] | None] = mapped_column(JSONType)
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    classify_attempts: Mapped[int] = mapped_column(Integer, default=0)
    category_hint: Mapped[str | None] = mapped_column(String(40))

    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))  # agency_status
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("admin_units.code"))  # heat_unit
    province_code: Mapped[str | None] = mapped_column(String(4))

    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str] = mapped_column(String(10), default=LocationSource.NONE)
    address_text: Mapped[str | None] = mapped_column(String(500))
    outside_area: Mapped[bool] = mapped_column(Boolean, default=False)
    # H3 cells precomputed at intake: heatmaps aggregate on these, never on raw points.
    h3_r6: Mapped[str | None] = mapped_column(String(16), index=True)
    h3_r8: Mapped[str | None] = mapped_column(String(16))  # ix_reports_heat_r8
    h3_r10: Mapped[str | None] = mapped_column(String(16))

    urgency: Mapped[str | None] = mapped_column(String(10))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The sweep reminds at remind_at (e.g. 75 % of the working time) and escalates at due_at;
    # the *_at stamps make each happen once. Partial indexes keep the sweep fast.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Deadline extensions: due_at moves, original_due_at keeps the first deadline.
    original_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extension_status: Mapped[str | None] = mapped_column(String(10))  # requested|approved|refused
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Waiting for the resident's information: the clock pauses from this moment.
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    public_note: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    # Moderation took the report off the public views (they show its status only).
    public_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    # Personal data: only the IOC sees these (webapp.services.intake.serializers keeps them out).
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("resident_identities.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Keyed hash of the client address it came from (webapp.services.intake.blocks), never
    # the address.
    client_hash: Mapped[str | None] = mapped_column(String(64))
    # Digest of the client's idempotency key with the channel and text (intake.idempotency).
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The privacy notice the resident accepted (its version), and when the resident's identity
    # and contact, then the original photos, were removed (retention or erasure;
    # webapp.services.privacy): the public record stays.
    consent_version: Mapped[str | None] = mapped_column(String(20))
    # Answers to the category's questions ({question code: value}).
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Partner system that posted it (Open311 / API key), if any.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id"))
    # The agency's own system's id for it (Open311 delivery), and when it last answered.
    external_id: Mapped[str | None] = mapped_column(String(100))
    external_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    personal_data_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    originals_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category | None] = relationship()
    agency: Mapped[Agency | None] = relationship()
    unit: Mapped[AdminUnit | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    resident: Mapped[Resident | None] = relationship()
    identity: Mapped[ResidentIdentity | None] = relationship()
    photos: Mapped[list[Photo]] = relationship(
        back_populates="report", order_by="Photo.position", cascade="all, delete-orphan"
    )
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", order_by="ReportEvent.id", cascade="all, delete-orphan"
    )

    @hybrid_property
    def status(self) -> str:
        """The current state; change it only with webapp.services.casework.workflow.transition."""
        return self._status

    @status.inplace.expression
    @classmethod
    def _status_expression(cls) -> SQLColumnExpression[str]:
        return cls._status

    @property
    def status_enum(self) -> ReportStatus:
        """The status as an enum."""
        return ReportStatus(self._status)

    @property
    def is_open(self) -> bool:
        """Whether the report still awaits handling."""
        return self._status in OPEN_STATUSES

    @property
    def public_photos(self) -> list[Photo]:
        """Photos that may be shown to staff and the public."""
        return [p for p in self.photos if not p.hidden]

    def __repr__(self) -> str:
        return f"<Report {self.code} {self._status}>"


class Photo(TimestampMixin, Model):
    """A photo of a report (or of its result); files live in the photo store under `key`."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="report")  # report | result
    position: Mapped[int] = mapped_column(Integer, default=0)
    mime: Mapped[str] = mapped_column(String(40))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    original_name: Mapped[str | None] = mapped_column(String(200))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    blurred: Mapped[bool] = mapped_column(Boolean, default=False)

    report: Mapped[Report] = relationship(back_populates="photos")


class ReportEvent(Model):
    """One entry of a report's history: a status change, a reply, a note, a reminder."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)  # status, reply, note, ...
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(40), default="system")
    note: Mapped[str | None] = mapped_column(Text)
    # Public events show on the tracking page; internal notes never do.
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    report: Mapped[Report] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
