"""Report categories with their SLA, and the routing rules category × unit → agency."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import Model
from webapp.models.agency import Agency
from webapp.models.types import JSONType, TimestampMixin


class Urgency(StrEnum):
    """The Vietnamese handling classes: urgent (hours), normal and complex (working days)."""

    URGENT = "urgent"
    NORMAL = "normal"
    COMPLEX = "complex"


class Category(TimestampMixin, Model):
    """A stable category code used by the NLU, routing and statistics."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_vi: Mapped[str | None] = mapped_column(String(400))
    icon: Mapped[str | None] = mapped_column(String(40))
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    default_urgency: Mapped[str] = mapped_column(String(10), default=Urgency.NORMAL)
    sla_urgent_hours: Mapped[int] = mapped_column(Integer, default=8)
    sla_normal_days: Mapped[int] = mapped_column(Integer, default=5)
    sla_complex_days: Mapped[int] = mapped_column(Integer, default=15)
    # Public views show no text, photo or point finer than the ward (public security, ...).
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Extra questions (config/categories.yml `questions`): a lamp-post number, "is anyone
    # hurt?"… each {code, vi, en, datatype, required, values}; see webapp.services.intake.questions.
    questions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)

    def label(self, locale: str = "vi") -> str:
        """The label in the requested locale."""
        return self.name_en if locale.startswith("en") else self.name_vi


class RoutingRule(TimestampMixin, Model):
    """Category (or any) in a unit (or the province) → agency; lowest priority first."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"), index=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("admin_units.code"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency] = relationship()
    category: Mapped[Category | None] = relationship()
