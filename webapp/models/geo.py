"""Administrative units: a province and its communes/wards, with their boundaries."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import Model
from webapp.models.types import TimestampMixin


class AdminUnit(TimestampMixin, Model):
    """A province ("province") or one of its communes/wards ("ward"), by national code."""

    __tablename__ = "admin_units"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    level: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(120))
    full_name: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str | None] = mapped_column(String(160))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("admin_units.code", ondelete="RESTRICT"), index=True
    )
    area_km2: Mapped[float | None] = mapped_column(Float)
    center_lat: Mapped[float | None] = mapped_column(Float)
    center_lon: Mapped[float | None] = mapped_column(Float)
    # GeoJSON geometry (WGS84). Kept as text so SQLite and PostgreSQL behave the same;
    # lookups never query it, they use the in-memory spatial index.
    geometry: Mapped[str | None] = mapped_column(Text)
    # True when the boundary is a demo approximation, not an official GIS layer.
    approximate: Mapped[bool] = mapped_column(Boolean, default=False)

    parent: Mapped[AdminUnit | None] = relationship(
        remote_side="AdminUnit.code", back_populates="children"
    )
    children: Mapped[list[AdminUnit]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<AdminUnit {self.code} {self.full_name}>"
