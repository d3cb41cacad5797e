"""A report as a channel hands it to intake, and what intake answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webapp.models import Report, User


@dataclass
class PhotoUpload:
    """Bytes of one uploaded photo and the name the resident's device gave it."""

    data: bytes
    filename: str | None = None


@dataclass
class ChannelIdentity:
    """Who sent the report on a messenger (Telegram or Zalo user id)."""

    channel: str
    external_id: str
    display_name: str | None = None


@dataclass
class Contact:
    """Optional contact details typed by the resident on the web form or to the hotline."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class ReportDraft:
    """A channel-neutral report as an adapter hands it to intake."""

    channel: str
    description: str
    photos: list[PhotoUpload] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    location_source: str | None = None  # pin | device; default pin when lat/lon given
    address: str | None = None
    contact: Contact | None = None
    identity: ChannelIdentity | None = None
    category_hint: str | None = None
    created_by: User | None = None
    client_address: str | None = None  # the HTTP client's address (web, API), for locks
    language: str = "vi"  # the resident's language (catalog locale), for what they are told
    # The resident accepted the privacy notice (webapp.services.privacy.notice): required on the
    # web form and the hotline; the bots show it first and sending means agreeing.
    consent: bool = False
    # Answers to the category's questions, and the partner system that sent it (Open311).
    attributes: dict[str, Any] | None = None
    partner_id: int | None = None
    # The client's idempotency key (intake.idempotency): sent again, the same report answers.
    client_key: str | None = None
    # A problem split off this report by an operator: the same resident, no questions asked.
    split_from: Report | None = None


@dataclass(frozen=True)
class IntakeResult:
    """What the resident is told: the code and the status."""

    report_id: int
    code: str
    status: str
    queued: bool
    tracking_token: str = ""
    replayed: bool = False  # the report stored the first time this submission was sent
