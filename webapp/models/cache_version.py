"""Versions of what processes cache in memory (the ward index…), so that all reload it."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import Model


class CacheVersion(Model):
    """Bumped when the data behind a cache changes; a process holding an older copy rebuilds."""

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
