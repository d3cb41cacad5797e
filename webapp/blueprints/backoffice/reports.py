"""The agency queue and the report page with its actions (thin: parse, call, redirect)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.blueprints.backoffice import bp
from webapp.errors import DomainError, NotFound
from webapp.extensions import db
from webapp.models import AdminUnit, Agency, Category, Photo, Report, User
from webapp.permissions import Action, can, require, visible_reports
from webapp.services import handling, queries, reports
from webapp.services.serializers import STATUS_LABELS


def _report(code: str) -> Report:
    report = db.session.scalar(select(Report).where(Report.code == code.upper()))
    if report is None:
        raise NotFound("Không tìm thấy phản ánh.", "Report not found.")
    require(current_user, Action.VIEW, report)
    return report


def _choices() -> dict:
    return {
        "categories": db.session.scalars(select(Category).order_by(Category.sort_order)).all(),
        "units": db.session.scalars(
            select(AdminUnit).where(AdminUnit.level == "ward").order_by(AdminUnit.name)
        ).all(),
        "statuses": STATUS_LABELS,
    }


@bp.get("/")
@login_required
def queue():
    """My agency's reports (the whole province for the IOC), filtered and paginated."""
    f = queries.ReportFilter.from_args(request.args)
    if not request.args:
        f.status = "open"
    page = queries.paginate(
        queries.apply(visible_reports(current_user), f), request.args.get("page", 1, type=int)
    )
    staff = []
    if current_user.agency_id and can(current_user, Action.ASSIGN_PERSON):
        staff = db.session.scalars(
            select(User).where(User.agency_id == current_user.agency_id, User.active)
        ).all()
    return render_template(
        "bo/queue.html", page=page, f=f, badge=queries.sla_badge, staff=staff, **_choices()
    )


@bp.post("/bulk-assign")
@login_required
def bulk_assign():
    """Assign the selected reports to one staff member."""
    assignee = db.session.get(User, request.form.get("assignee", type=int) or 0)
    if assignee is None:
        abort(400)
    selected = [_report(code) for code in request.form.getlist("codes")]
    _do(lambda: handling.bulk_assign(current_user, selected, assignee), "Đã giao việc.")
    return redirect(request.referrer or url_for("bo.queue"))


@bp.get("/r/<code>")
@login_required
def report_page(code: str):
    """Everything about one report, and the actions the user may take."""
    report = _report(code)
    allowed = {a.value for a in Action if can(current_user, a, report)}
    templates = handling.reply_templates(report.category_code)
    staff = db.session.scalars(
        select(User).where(User.agency_id == report.agency_id, User.active)
    ).all()
    return render_template(
        "bo/report.html",
        report=report,
        allowed=allowed,
        badge=queries.sla_badge(report),
        nearby=handling.nearby(report),
        agencies=db.session.scalars(
            select(Agency).where(Agency.active, Agency.kind != "group").order_by(Agency.name)
        ).all(),
        staff=staff,
        reply_templates=templates,
        reject_reasons=handling.REJECT_REASONS,
        show_identity=Action.VIEW_IDENTITY.value in allowed,
        **_choices(),
    )


@bp.get("/r/<code>/anh/<key>")
@login_required
def photo(code: str, key: str):
    """Full-size (stripped) copy of a photo, for staff; hidden photos for the IOC only."""
    report = _report(code)
    item = db.session.scalar(select(Photo).where(Photo.key == key, Photo.report_id == report.id))
    if item is None or (item.hidden and not can(current_user, Action.MODERATE, report)):
        abort(404)
    return send_file(reports.photo_store().open_public(key, "web"), mimetype="image/jpeg")


def _do(fn, ok_message: str) -> bool:
    try:
        fn()
    except DomainError as error:
        db.session.rollback()
        if error.status_code in (403, 404):
            raise
        flash(error.message(str(get_locale())), "error")
        return False
    flash(ok_message, "ok")
    return True


ACTIONS = {
    "accept": lambda u, r, f, files: handling.accept(u, r),
    "reply": lambda u, r, f, files: handling.reply(u, r, f.get("text", "")),
    "request_info": lambda u, r, f, files: handling.request_info(u, r, f.get("text", "")),
    "info_received": lambda u, r, f, files: handling.info_received(u, r, f.get("text")),
    "resolve": lambda u, r, f, files: handling.resolve(
        u, r, f.get("note", ""), (files.get("photo").read() or None) if files.get("photo") else None
    ),
    "transfer": lambda u, r, f, files: handling.transfer(
        u, r, _agency(f.get("agency")), f.get("reason", "")
    ),
    "accept_transfer": lambda u, r, f, files: handling.decide_transfer(u, r, True, f.get("note")),
    "refuse_transfer": lambda u, r, f, files: handling.decide_transfer(u, r, False, f.get("note")),
    "reject": lambda u, r, f, files: handling.reject(u, r, f.get("reason", ""), f.get("note")),
    "duplicate": lambda u, r, f, files: handling.mark_duplicate(
        u, r, reports.get_by_code(f.get("original", ""))
    ),
    "note": lambda u, r, f, files: handling.add_note(u, r, f.get("text", "")),
    "assign_person": lambda u, r, f, files: handling.assign_person(
        u, r, db.session.get(User, int(f.get("assignee") or 0)) or _missing()
    ),
    "urgency": lambda u, r, f, files: handling.change_urgency(
        u, r, f.get("urgency", ""), f.get("reason", "")
    ),
    "extension": lambda u, r, f, files: handling.request_extension(
        u, r, int(f.get("days") or 0), f.get("reason", "")
    ),
    "approve_extension": lambda u, r, f, files: handling.decide_extension(
        u, r, True, f.get("note")
    ),
    "refuse_extension": lambda u, r, f, files: handling.decide_extension(
        u, r, False, f.get("note")
    ),
    "triage": lambda u, r, f, files: handling.triage(
        u, r, f.get("category", ""), _agency(f.get("agency")) if f.get("agency") else None
    ),
    "redact": lambda u, r, f, files: handling.redact_text(u, r, f.get("text", "")),
    "photo_blur": lambda u, r, f, files: handling.moderate_photo(u, r, _photo(f), "blur"),
    "photo_hide": lambda u, r, f, files: handling.moderate_photo(u, r, _photo(f), "hide"),
    "lock_resident": lambda u, r, f, files: handling.lock_resident(u, r),
}


def _missing():
    raise DomainError("Thiếu thông tin.", "Missing value.")


def _agency(value) -> Agency:
    agency = db.session.get(Agency, int(value)) if str(value or "").isdigit() else None
    return agency or _missing()


def _photo(form) -> Photo:
    return db.session.get(Photo, int(form.get("photo") or 0)) or _missing()


@bp.post("/r/<code>/<action>")
@login_required
def act(code: str, action: str):
    """Perform one action on the report, then come back to its page."""
    if action not in ACTIONS:
        abort(404)
    report = _report(code)
    _do(
        lambda: ACTIONS[action](current_user, report, request.form, request.files),
        "Đã cập nhật phản ánh.",
    )
    if not can(current_user, Action.VIEW, report):
        return redirect(url_for("bo.queue"))
    return redirect(url_for("bo.report_page", code=report.code))
