"""Signs of life: each worker, the scheduler's lease, and the last sweep, by name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.types import JSONType, UTCDateTime


class Heartbeat(Model):
    """`worker:<hostname>`, `sweep`, `beat-leader`: when each was last seen, and by whom."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The beat lease: who holds it, and until when another beat must wait.
    holder: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    info: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
