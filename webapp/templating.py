"""Jinja filters and globals."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import get_locale

from config.settings import VN_TZ
from webapp.blueprints import kpi_cells
from webapp.services.privacy import notice

LOCAL_TZ = VN_TZ


def localtime(value: str | datetime | None) -> str:
    """An ISO time or datetime shown in Vietnam's time zone, e.g. 23/11/2026 14:05."""
    if not value:
        return ""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return when.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def register(app: Flask) -> None:
    """Install the filters."""
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["privacy_notice"] = notice
    app.jinja_env.globals["kpi"] = kpi_cells
