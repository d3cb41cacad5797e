"""The IOC: full-screen heatmap, KPIs, exports (thin: parse, call one service, render).

Parameters are typed by `webapp.blueprints.params` (what a bad value gives: see there).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.blueprints import params
from webapp.errors import PermissionDenied
from webapp.extensions import db
from webapp.infra.i18n import request_language
from webapp.models import Agency, ExportJob, ExportStatus
from webapp.models.types import utcnow
from webapp.services.ioc import heatmap, queries, stats
from webapp.services.ioc.exports import jobs, kpi, lists, weekly, writers
from webapp.services.ioc.queries import ReportFilter

bp = Blueprint("ioc", __name__)

REFRESH_SECONDS = 60


def ioc_required(
    view: Callable[..., ResponseReturnValue],
) -> Callable[..., ResponseReturnValue]:
    """Signed in with an IOC role (operator, viewer) or as an administrator."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not current_user.role_enum.is_ioc:
            raise PermissionDenied(_l("Chỉ dành cho Trung tâm IOC."))
        return view(*args, **kwargs)

    return wrapped


def _list_url(f: ReportFilter) -> str:
    """The back-office list of the reports of a filter."""
    # Any: url_for types its own keywords (_external: bool, ...), which a filter never uses.
    args: dict[str, Any] = f.to_args()
    return url_for("bo.queue", **args)


def map_settings() -> dict:
    """Tiles (MAP_TILE_URL, none: boundaries only), the first view, the ward layer."""
    return {
        "tile_url": current_app.config.get("MAP_TILE_URL") or "",
        "tile_attribution": current_app.config.get("MAP_TILE_ATTRIBUTION") or "",
        "bounds": heatmap.initial_bounds(),
        "units_url": url_for("api.units_geojson"),
    }


def _choices() -> dict:
    agencies = select(Agency).where(Agency.active, Agency.kind != "group").order_by(Agency.name)
    return {**queries.filter_choices(), "agencies": db.session.scalars(agencies).all()}


# --------------------------------------------------------------------------- heatmap


@bp.get("/ban-do")
@ioc_required
def heatmap_page() -> ResponseReturnValue:
    """The full-screen heatmap with its filters."""
    return render_template(
        "ioc/heatmap.html",
        f=params.parse(params.ListFilter, request.args, ignore_invalid=True).to_filter(),
        map=map_settings(),
        refresh_seconds=REFRESH_SECONDS,
        **_choices(),
    )


@bp.get("/ban-do/du-lieu")
@ioc_required
def heatmap_data() -> ResponseReturnValue:
    """Cells (id, lat, lon, count) for ?zoom=&bbox=w,s,e,n and the list filters."""
    args = params.parse(params.HeatmapArgs, request.args, ignore_invalid=True)
    f = args.to_filter()
    body = heatmap.view(f, args.zoom, heatmap.BBox.parse(args.bbox))
    body["list_url"] = _list_url(f)
    body["updated_at"] = utcnow().isoformat(timespec="seconds")
    return jsonify(body)


# --------------------------------------------------------------------------- KPIs


@bp.get("/chi-so")
@ioc_required
def kpi_page() -> ResponseReturnValue:
    """KPIs of the reports received in a period: totals, per agency/category/ward, weeks."""
    period = params.parse(params.PeriodArgs, request.args, ignore_invalid=True).to_period()
    locale = request_language()
    return render_template(
        "ioc/kpi.html",
        period=period,
        total=stats.totals(period, locale=locale),
        tables={by: stats.table(period, by, locale=locale) for by in stats.DIMENSIONS},
        weeks=stats.trend(period, locale=locale),
        last_week=stats.Period.last_week(),
        queue_url=url_for("bo.queue"),
    )


def _download(export: writers.Export) -> Response:
    body = export.body
    if not isinstance(body, bytes):
        body = stream_with_context(body)
    return Response(
        body,
        mimetype=export.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{export.file_name}"'},
    )


@bp.get("/chi-so/xuat")
@ioc_required
def kpi_export() -> ResponseReturnValue:
    """A KPI table as CSV or Excel (?by=agency|category|unit|week; none: every table)."""
    period = params.parse(params.PeriodArgs, request.args, ignore_invalid=True).to_period()
    table = params.parse(params.KpiTableArgs, request.args)
    return _download(kpi.kpi_export(period, table.by, table.fmt, request_language()))


@bp.get("/chi-so/tong-hop-tuan.xlsx")
@ioc_required
def weekly_summary() -> ResponseReturnValue:
    """The leadership's weekly summary (?week=any day of it; default: last full week)."""
    week = params.parse(params.WeekArgs, request.args, ignore_invalid=True).week
    period = stats.Period.week_of(week) if week else None
    return _download(weekly.weekly_summary(period, request_language()))


# --------------------------------------------------------------------------- list exports


@bp.get("/xuat")
@login_required
def export_form() -> ResponseReturnValue:
    """Export the list for the filters in the URL (any back-office user, within their scope)."""
    f = params.parse(params.ListFilter, request.args, ignore_invalid=True).to_filter()
    return render_template(
        "ioc/export.html",
        f=f,
        count=lists.count_reports(current_user, f),
        threshold=jobs.background_threshold(),
        list_url=_list_url(f),
    )


@bp.post("/xuat")
@login_required
def export_list() -> ResponseReturnValue:
    """The file at once for a small list, else a background job and its page."""
    form = params.parse(params.ExportForm, request.form)
    result = jobs.list_export(current_user, form.to_filter(), form.fmt, request_language())
    if isinstance(result, ExportJob):
        return redirect(url_for("ioc.export_job", job_id=result.id))
    return _download(result)


@bp.get("/xuat/<int:job_id>")
@login_required
def export_job(job_id: int) -> ResponseReturnValue:
    """A background export: its state, and the download link when ready."""
    job = jobs.job_for(current_user, params.path_id(job_id))
    wants_json = params.parse(params.JobArgs, request.args, ignore_invalid=True).json_
    if request.accept_mimetypes.best == "application/json" or wants_json:
        return jsonify(
            {
                "id": job.id,
                "status": job.status,
                "row_count": job.row_count,
                "error": job.error,
                "download_url": url_for("ioc.export_download", job_id=job.id)
                if job.status == ExportStatus.DONE
                else None,
            }
        )
    return render_template("ioc/export_job.html", job=job)


@bp.get("/xuat/<int:job_id>/tai-ve")
@login_required
def export_download(job_id: int) -> ResponseReturnValue:
    """The finished file, for the user who asked or the IOC."""
    job, data = jobs.download(current_user, params.path_id(job_id))
    return send_file(
        io.BytesIO(data),
        mimetype=writers.MIMETYPES[job.fmt],
        as_attachment=True,
        download_name=job.file_name,
    )
