"""The public transparency page: map of reports, on-time ranking, units with overdue reports;
the open-data page and its daily files (`webapp.services.ioc.opendata`).

No login. Nothing personal is published: the map shows counts per cell (never finer than
H3 resolution 8), the tables show agency names and counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from webapp.blueprints.ioc import map_settings
from webapp.errors import NotFound
from webapp.extensions import db
from webapp.infra import storage
from webapp.infra.i18n import request_language
from webapp.models import Category
from webapp.ratelimit import limit
from webapp.services.ioc import heatmap, opendata, stats
from webapp.services.ioc.queries import ReportFilter

bp = Blueprint("transparency", __name__)

CACHE_SECONDS = 60
OPEN_DATA_CACHE_SECONDS = 3600
# ?trang_thai= of the public map: still being handled, or resolved.
OPEN, RESOLVED = "dang-xu-ly", "da-xu-ly"


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
        summary=stats.public_summary(period, locale=request_language()),
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
    return _cached(jsonify(stats.public_summary(period, locale=request_language())))


@bp.get("/du-lieu-mo")
def open_data() -> ResponseReturnValue:
    """The open-data page: what the dataset is, its files, dictionary, licence and limits."""
    return render_template(
        "public/opendata.html",
        meta=opendata.read_meta(),
        fields=opendata.FIELDS,
        files=opendata.FILES,
        days=current_app.config["OPEN_DATA_DAYS"],
        licence=opendata.LICENCE,
        licence_url=opendata.LICENCE_URL,
        attribution=current_app.config["PRIVACY_CONTROLLER"],
    )


@bp.get("/du-lieu-mo/<any('reports.csv', 'reports.geojson'):name>")
@limit("RATELIMIT_PUBLIC_JSON")
def open_data_file(name: str) -> ResponseReturnValue:
    """One file of the last build: from the exports folder, or a signed link to the bucket."""
    files, key = storage.export_objects(), opendata.object_name(name)
    mimetype = opendata.FILES[name]
    path = files.local_path(key)
    response: BaseResponse
    if path is not None:
        response = send_file(path, mimetype=mimetype, download_name=name, conditional=True)
    elif files.exists(key):
        url = files.presigned_url(key, 2 * OPEN_DATA_CACHE_SECONDS)
        response = redirect(url) if url else Response(files.get(key), mimetype=mimetype)
    else:
        raise NotFound(
            _l("Dữ liệu mở chưa được tạo. Tệp được cập nhật hằng đêm, vui lòng quay lại sau.")
        )
    response.headers["Cache-Control"] = f"public, max-age={OPEN_DATA_CACHE_SECONDS}"
    return response
