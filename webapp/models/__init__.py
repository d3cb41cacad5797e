"""Domain models, one module per aggregate."""

from webapp.models.account import RecoveryCode, StaffSession
from webapp.models.agency import Agency, agency_units
from webapp.models.audit import AuditEntry, ExportJob, ExportStatus
from webapp.models.cache_version import CacheVersion
from webapp.models.category import Category, RoutingRule, Urgency
from webapp.models.conversation import (
    Conversation,
    ConversationPhoto,
    InboundEvent,
    MessengerToken,
    ReportFollower,
)
from webapp.models.delivery import ChannelWindow
from webapp.models.geo import AdminUnit
from webapp.models.heartbeat import Heartbeat
from webapp.models.nlu_model import NluModel
from webapp.models.outbox import OutboxMessage, OutboxStatus
from webapp.models.partner import Partner
from webapp.models.report import (
    OPEN_STATUSES,
    LocationSource,
    Photo,
    Report,
    ReportEvent,
    ReportStatus,
)
from webapp.models.resident import (
    Channel,
    ContactCode,
    IntakeBlock,
    Resident,
    ResidentIdentity,
)
from webapp.models.rollup import ReportCellCount, ReportKpiCount, ReportKpiTime
from webapp.models.user import Role, User

__all__ = [
    "OPEN_STATUSES",
    "AdminUnit",
    "Agency",
    "AuditEntry",
    "CacheVersion",
    "Category",
    "Channel",
    "ChannelWindow",
    "ContactCode",
    "Conversation",
    "ConversationPhoto",
    "ExportJob",
    "ExportStatus",
    "Heartbeat",
    "InboundEvent",
    "IntakeBlock",
    "LocationSource",
    "MessengerToken",
    "NluModel",
    "OutboxMessage",
    "OutboxStatus",
    "Partner",
    "Photo",
    "RecoveryCode",
    "Report",
    "ReportCellCount",
    "ReportEvent",
    "ReportFollower",
    "ReportKpiCount",
    "ReportKpiTime",
    "ReportStatus",
    "Resident",
    "ResidentIdentity",
    "Role",
    "RoutingRule",
    "StaffSession",
    "Urgency",
    "User",
    "agency_units",
]
