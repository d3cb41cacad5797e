"""Administration pages: agencies, users, categories and SLAs, routing rules, audit trail."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.blueprints import params
from webapp.blueprints.backoffice import bp
from webapp.errors import DomainError, PermissionDenied
from webapp.extensions import db
from webapp.models import Agency, Category, Role
from webapp.services.administration import admin
from webapp.services.intake import questions


def require_admin() -> None:
    if current_user.role_enum is not Role.ADMIN:
        raise PermissionDenied(_l("Chỉ dành cho quản trị viên."))


def _options() -> dict:
    return {
        "agencies": db.session.scalars(select(Agency).order_by(Agency.name)).all(),
        "categories": db.session.scalars(select(Category).order_by(Category.sort_order)).all(),
        "roles": [r.value for r in Role],
    }


@bp.get("/quan-tri/")
@login_required
def admin_home() -> ResponseReturnValue:
    """The audit trail and links to each table."""
    require_admin()
    return render_template("bo/admin_home.html", entities=admin.ENTITIES, trail=admin.audit_trail())


@bp.get("/quan-tri/<key>")
@login_required
def admin_list(key: str) -> ResponseReturnValue:
    """All rows of one table."""
    require_admin()
    if key not in admin.ENTITIES:
        abort(404)
    return render_template(
        "bo/admin_list.html", entity=admin.ENTITIES[key], rows=admin.rows(key), **_options()
    )


@bp.route("/quan-tri/<key>/sua", methods=["GET", "POST"])
@bp.route("/quan-tri/<key>/sua/<obj_id>", methods=["GET", "POST"])
@login_required
def admin_edit(key: str, obj_id: str | None = None) -> ResponseReturnValue:
    """Create or edit one row; every change lands in the audit trail.

    The form is checked by `webapp.services.administration.admin` (a bad field: the form
    again, flashed).
    """
    require_admin()
    if key not in admin.ENTITIES:
        abort(404)
    entity = admin.ENTITIES[key]
    pk = params.object_id(entity.model, obj_id) if obj_id is not None else None
    obj = db.session.get(entity.model, pk) if pk else None
    if pk and obj is None:
        abort(404)
    if request.method == "POST":
        try:
            admin.save(current_user, key, pk, request.form)
        except DomainError as error:
            db.session.rollback()
            flash(error.message(str(get_locale())), "error")
        else:
            flash(_("Đã lưu."), "ok")
            return redirect(url_for("bo.admin_list", key=key))
    return render_template(
        "bo/admin_edit.html",
        entity=entity,
        obj=obj,
        posted=request.form if request.method == "POST" else None,  # kept after a refusal
        questions_yaml=questions.to_text,
        **_options(),
    )
