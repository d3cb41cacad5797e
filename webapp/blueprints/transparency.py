"""The public transparency page: map of reports, on-time ranking, units with overdue reports.

No login. Nothing personal is published: the map shows counts per cell (never finer than
H3 resolution 8), the tables show agency names and counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from flask import Blueprint, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from sqlalchemy import select

from webapp.blueprints.ioc import map_settings
from webapp.extensions import db
from webapp.models import Category
from webapp.ratelimit import limit
from webapp.services.ioc import heatmap, stats
from webapp.services.ioc.queries import ReportFilter

bp = Blueprint("transparency", __name__)

CACHE_SECONDS = 60
# ?trang_thai= of the public map: still being handled, or resolved.
OPEN, RESOLVED = "dang-xu-ly", "da-xu-ly"


def _locale() -> str:
    return str(get_locale() or "vi")


def _month_choices(today: date, count: int = 12) -> list[stats.Period]:
    months, day = [], today.replace(day=1)
    for _ in range(count):
        months.append(stats.Period.month_of(day))
        day = (day - timedelta(days=1)).replace(day=1)
    return months


def _map_filter(args: Mapping[str, str], period: stats.Period) -> ReportFilter:
    state = args.get("trang_thai", "")
    return period.filter(
        ReportFilter(
            category=args.get("linh_vuc") or None,
            status="open" if state == OPEN else None,
            outcome="resolved" if state == RESOLVED else None,
        )
    )


def _cached(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@bp.get("/cong-khai")
def page() -> ResponseReturnValue:
    """The public page: map, ranking of agencies for the month, units with overdue reports."""
    period = stats.month_from_arg(request.args.get("thang"))
    return render_template(
        "public/transparency.html",
        period=period,
        month=f"{period.start:%Y-%m}",
        months=_month_choices(stats.local_today()),
        summary=stats.public_summary(period, locale=_locale()),
        categories=db.session.scalars(
            select(Category).where(Category.active).order_by(Category.sort_order)
        ).all(),
        map=map_settings(),
    )


@bp.get("/cong-khai/ban-do.json")
@limit("RATELIMIT_PUBLIC_JSON")
def map_data() -> ResponseReturnValue:
    """Counts per cell of the reports received in the month (?thang=, ?linh_vuc=, ?trang_thai=).

    ?zoom= and ?bbox= that do not parse give the province-wide view; the work a viewport can
    cause is bounded in `heatmap.view`.
    """
    period = stats.month_from_arg(request.args.get("thang"))
    body = heatmap.view(
        _map_filter(request.args, period),
        request.args.get("zoom", type=int),
        heatmap.BBox.parse(request.args.get("bbox")),
        public=True,
    )
    return _cached(jsonify(body))


@bp.get("/cong-khai/du-lieu.json")
@limit("RATELIMIT_PUBLIC_JSON")
def data() -> ResponseReturnValue:
    """The ranking and the overdue list of the month as JSON."""
    period = stats.month_from_arg(request.args.get("thang"))
    return _cached(jsonify(stats.public_summary(period, locale=_locale())))
