"""The IOC operator desk: triage queue, transfers and extensions waiting, hotline intake."""

from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from webapp.blueprints.backoffice import bp
from webapp.blueprints.forms import draft_from_request
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.models import Agency, Category, Channel, Report, ReportStatus
from webapp.permissions import Action, can


def _require_desk() -> None:
    if not can(current_user, Action.TRIAGE):
        raise PermissionDenied(_l("Chỉ dành cho điều phối viên IOC."))


@bp.get("/ioc/dieu-phoi")
@login_required
def triage_queue() -> ResponseReturnValue:
    """Reports a person must place: low confidence, outside every unit, refused transfers."""
    _require_desk()
    waiting = db.session.scalars(
        select(Report)
        .where(
            or_(
                Report.status.in_([ReportStatus.NEEDS_TRIAGE, ReportStatus.TRANSFERRED]),
                Report.extension_status == "requested",
            )
        )
        .order_by(Report.created_at)
        .limit(200)
    ).all()
    return render_template(
        "bo/triage.html",
        reports=waiting,
        categories=db.session.scalars(select(Category).order_by(Category.sort_order)).all(),
        agencies=db.session.scalars(
            select(Agency).where(Agency.active, Agency.kind != "group").order_by(Agency.name)
        ).all(),
    )


@bp.route("/ioc/1022", methods=["GET", "POST"])
@login_required
def hotline() -> ResponseReturnValue:
    """A call to the 1022 hotline typed in by the operator, through the same intake."""
    _require_desk()
    from webapp.services.intake import reports

    if request.method == "POST":
        try:
            draft = draft_from_request(request, Channel.HOTLINE)
            draft.created_by = current_user
            result = reports.submit_report(draft)
        except DomainError as error:
            flash(error.message(str(get_locale())), "error")
            page = render_template("bo/hotline.html", form=request.form, client_key=_key())
            return page, error.status_code
        flash(_("Đã tạo phản ánh %(code)s.", code=result.code), "ok")
        return redirect(url_for("bo.report_page", code=result.code))
    return render_template("bo/hotline.html", form={}, client_key=_key())


def _key() -> str:
    """The call's idempotency key: a double click on "create" files it once."""
    return request.form.get("client_key") or secrets.token_urlsafe(18)
