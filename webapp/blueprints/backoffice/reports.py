"""The agency queue and the report page with its actions (thin: parse, call, redirect)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict

from webapp.blueprints import params
from webapp.blueprints.backoffice import bp
from webapp.errors import DomainError, NotFound, ValidationError
from webapp.extensions import db
from webapp.infra import storage
from webapp.models import Agency, Partner, Photo, Report, User
from webapp.permissions import Action, can, require, visible_reports
from webapp.services.casework import (
    deadline_changes,
    duplicates,
    handling,
    identity_views,
    moderation,
    reply_templates,
    splitting,
)
from webapp.services.intake import questions
from webapp.services.ioc import queries
from webapp.services.messaging import fallback


def _report(code: str) -> Report:
    code = params.report_code(code)
    report = db.session.scalar(select(Report).where(Report.code == code))
    if report is None:
        raise NotFound(_l("Không tìm thấy phản ánh."))
    require(current_user, Action.VIEW, report)
    return report


def _choices() -> dict:
    return queries.filter_choices()


@bp.get("/")
@login_required
def queue() -> ResponseReturnValue:
    """My agency's reports (the whole province for the IOC), filtered and paginated."""
    args = params.parse(params.QueueArgs, request.args, ignore_invalid=True)
    f = args.to_filter()
    if not request.args:
        f.status = "open"
    page = queries.paginate(queries.apply(visible_reports(current_user), f), args.page)
    staff: Sequence[User] = []
    if current_user.agency_id and can(current_user, Action.ASSIGN_PERSON):
        staff = db.session.scalars(
            select(User).where(User.agency_id == current_user.agency_id, User.active)
        ).all()
    return render_template(
        "bo/queue.html", page=page, f=f, badge=queries.sla_badge, staff=staff, **_choices()
    )


@bp.post("/bulk-assign")
@login_required
def bulk_assign() -> ResponseReturnValue:
    """Assign the selected reports to one staff member."""
    form = params.parse(params.BulkAssignForm, request.form)
    assignee = db.session.get(User, form.assignee)
    if assignee is None:
        abort(400)
    selected = [_report(code) for code in form.codes]
    _do(lambda: handling.bulk_assign(current_user, selected, assignee), "Đã giao việc.")
    return redirect(request.referrer or url_for("bo.queue"))


@bp.get("/r/<code>")
@login_required
def report_page(code: str) -> ResponseReturnValue:
    """Everything about one report, and the actions the user may take."""
    return _render_report(_report(code))


def _render_report(report: Report) -> str:
    allowed = {a.value for a in Action if can(current_user, a, report)}
    templates = reply_templates.for_category(report.category_code)
    staff = db.session.scalars(
        select(User).where(User.agency_id == report.agency_id, User.active)
    ).all()
    show_identity = Action.VIEW_IDENTITY.value in allowed
    messages, unreachable = fallback.deliveries(report.id)
    return render_template(
        "bo/report.html",
        report=report,
        allowed=allowed,
        badge=queries.sla_badge(report),
        nearby=duplicates.nearby_for(current_user, report),
        agencies=db.session.scalars(
            select(Agency).where(Agency.active, Agency.kind != "group").order_by(Agency.name)
        ).all(),
        staff=staff,
        reply_templates=templates,
        reject_reasons=handling.REJECT_REASONS,
        show_identity=show_identity,
        messages=messages,
        unreachable=unreachable,
        answers=questions.answered(report, str(get_locale())),
        partner=db.session.get(Partner, report.partner_id) if report.partner_id else None,
        # Shown only through the service, which records each look (who, when, which report).
        identity=identity_views.identity_card(current_user, report) if show_identity else None,
        **_choices(),
    )


@bp.get("/r/<code>/anh/<key>")
@login_required
def photo(code: str, key: str) -> ResponseReturnValue:
    """Full-size (stripped) copy of a photo, for staff; hidden photos for the IOC only."""
    report = _report(code)
    key = params.photo_key(key)
    item = db.session.scalar(select(Photo).where(Photo.key == key, Photo.report_id == report.id))
    if item is None or (item.hidden and not can(current_user, Action.MODERATE, report)):
        abort(404)
    return storage.send_public_photo(key, "web", max_age=0)


def _do(fn: Callable[[], object], ok_message: str) -> bool:
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


# action → (its form, what it does with the user, the report, the parsed form and the files).
# The form is typed Any: each entry's function takes the model of that entry.
Perform = Callable[[User, Report, Any, Any], object]
ACTIONS: dict[str, tuple[type[params.Params], Perform]] = {
    "accept": (params.NoForm, lambda u, r, f, files: handling.accept(u, r)),
    "reply": (params.TextForm, lambda u, r, f, files: handling.reply(u, r, f.text)),
    "request_info": (params.TextForm, lambda u, r, f, files: handling.request_info(u, r, f.text)),
    "info_received": (params.TextForm, lambda u, r, f, files: handling.info_received(u, r, f.text)),
    "resolve": (
        params.ResolveForm,
        lambda u, r, f, files: handling.resolve(u, r, f.note, _upload(files)),
    ),
    "transfer": (
        params.TransferForm,
        lambda u, r, f, files: handling.transfer(u, r, _agency(f.agency), f.reason),
    ),
    "accept_transfer": (
        params.NoteForm,
        lambda u, r, f, files: handling.decide_transfer(u, r, True, f.note),
    ),
    "refuse_transfer": (
        params.NoteForm,
        lambda u, r, f, files: handling.decide_transfer(u, r, False, f.note),
    ),
    "reject": (params.RejectForm, lambda u, r, f, files: handling.reject(u, r, f.reason, f.note)),
    "duplicate": (
        params.DuplicateForm,
        lambda u, r, f, files: duplicates.mark_duplicate(
            u, r, duplicates.find_original(u, f.original)
        ),
    ),
    "note": (params.TextForm, lambda u, r, f, files: handling.add_note(u, r, f.text)),
    "assign_person": (
        params.AssignForm,
        lambda u, r, f, files: handling.assign_person(
            u, r, db.session.get(User, f.assignee) or _missing()
        ),
    ),
    "urgency": (
        params.UrgencyForm,
        lambda u, r, f, files: deadline_changes.change_urgency(u, r, f.urgency, f.reason),
    ),
    "extension": (
        params.ExtensionForm,
        lambda u, r, f, files: deadline_changes.request_extension(u, r, f.days, f.reason),
    ),
    "approve_extension": (
        params.NoteForm,
        lambda u, r, f, files: deadline_changes.decide_extension(u, r, True, f.note),
    ),
    "refuse_extension": (
        params.NoteForm,
        lambda u, r, f, files: deadline_changes.decide_extension(u, r, False, f.note),
    ),
    "triage": (
        params.TriageForm,
        lambda u, r, f, files: handling.triage(
            u, r, f.category or "", _agency(f.agency) if f.agency else None
        ),
    ),
    "split": (params.NoForm, lambda u, r, f, files: splitting.split(u, r)),
    "redact": (params.TextForm, lambda u, r, f, files: moderation.redact_text(u, r, f.text)),
    "photo_blur": (
        params.PhotoForm,
        lambda u, r, f, files: moderation.moderate_photo(u, r, _photo(f.photo), "blur"),
    ),
    "photo_hide": (
        params.PhotoForm,
        lambda u, r, f, files: moderation.moderate_photo(u, r, _photo(f.photo), "hide"),
    ),
    "lock_resident": (params.NoForm, lambda u, r, f, files: moderation.lock_resident(u, r)),
    "unlock_sender": (params.NoForm, lambda u, r, f, files: moderation.unlock_sender(u, r)),
    "hide_public": (params.NoForm, lambda u, r, f, files: moderation.hide_from_public(u, r)),
    "show_public": (
        params.NoForm,
        lambda u, r, f, files: moderation.hide_from_public(u, r, hidden=False),
    ),
}


def _missing() -> NoReturn:
    raise DomainError(_l("Thiếu thông tin."))


def _agency(agency_id: int) -> Agency:
    return db.session.get(Agency, agency_id) or _missing()


def _photo(photo_id: int) -> Photo:
    return db.session.get(Photo, photo_id) or _missing()


def _upload(files: MultiDict[str, FileStorage]) -> bytes | None:
    item = files.get("photo")
    return (item.read() or None) if item else None


@bp.post("/r/<code>/<action>")
@login_required
def act(code: str, action: str) -> ResponseReturnValue:
    """Perform one action on the report, then come back to its page.

    A malformed field (see `params`) re-renders the report page with the message, status 422.
    """
    if action not in ACTIONS:
        abort(404)
    report = _report(code)
    form_model, perform = ACTIONS[action]
    try:
        form = params.parse(form_model, request.form)
    except ValidationError as error:
        flash(error.message(str(get_locale())), "error")
        return _render_report(report), error.status_code
    _do(lambda: perform(current_user, report, form, request.files), _("Đã cập nhật phản ánh."))
    if not can(current_user, Action.VIEW, report):
        return redirect(url_for("bo.queue"))
    return redirect(url_for("bo.report_page", code=report.code))
