"""What the messengers allow: each resident's reply window on a channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model
from webapp.models.types import UTCDateTime


class ChannelWindow(Model):
    """A resident's last message on a channel (Zalo): the id a free reply must quote, when it
    came, and how many replies have used the window since."""

    __tablename__ = "channel_windows"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    address: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_message_id: Mapped[str] = mapped_column(String(100))
    last_inbound_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used: Mapped[int] = mapped_column(Integer, default=0)
