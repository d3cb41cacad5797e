"""Back-office accounts and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import Model
from webapp.models.agency import Agency
from webapp.models.types import TimestampMixin, UTCDateTime


class Role(StrEnum):
    """What an account may do; agency roles are bound to one agency."""

    AGENCY_STAFF = "agency_staff"
    AGENCY_LEAD = "agency_lead"
    IOC_OPERATOR = "ioc_operator"
    IOC_VIEWER = "ioc_viewer"
    ADMIN = "admin"

    @property
    def is_ioc(self) -> bool:
        """IOC roles and administrators see the whole province and residents' identity."""
        return self in (Role.IOC_OPERATOR, Role.IOC_VIEWER, Role.ADMIN)


class User(UserMixin, TimestampMixin, Model):
    """A member of an agency or of the IOC."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The TOTP secret, encrypted (webapp.services.staff.second_factor); on once
    # totp_enabled_at is set.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time step of the last code accepted: a code is good once (no replay).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of the password."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def role_enum(self) -> Role:
        """The role as an enum."""
        return Role(self.role)
