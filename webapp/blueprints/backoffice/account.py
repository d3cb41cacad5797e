"""A staff member's own account (password, second factor, sessions) and the administrator's
view of another user's sessions and second factor."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from webapp.blueprints import params
from webapp.blueprints.backoffice import bp
from webapp.blueprints.backoffice.admin import require_admin
from webapp.errors import DomainError, ValidationError
from webapp.extensions import db
from webapp.models import AuditEntry, User
from webapp.ratelimit import limit
from webapp.services.staff import accounts, second_factor, sessions

# What a user who must enrol a second factor may still open.
ENROLMENT_ENDPOINTS = frozenset({"bo.second_factor", "bo.logout", "bo.login", "static"})


@bp.before_app_request
def _second_factor_gate() -> ResponseReturnValue | None:
    """Users whose role needs a second factor do nothing else until they have one."""
    if request.blueprint not in ("bo", "ioc") or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return None
    if second_factor.required_for(current_user) and not second_factor.is_enabled(current_user):
        flash(_("Vai trò của bạn cần xác thực hai bước. Hãy bật nó để tiếp tục."), "info")
        return redirect(url_for("bo.second_factor"))
    return None


def _current_hash() -> str | None:
    return getattr(g, "staff_session_hash", None)


def _error(exc: DomainError) -> None:
    flash(exc.message(str(get_locale())), "error")


@bp.get("/tai-khoan/")
@login_required
def account() -> ResponseReturnValue:
    """Password, second factor and the sessions of the signed-in user."""
    return render_template(
        "bo/account.html",
        live=sessions.active(current_user.id),
        current_hash=_current_hash(),
        enabled=second_factor.is_enabled(current_user),
        required=second_factor.required_for(current_user),
        recovery_left=second_factor.remaining_recovery_codes(current_user),
    )


@bp.post("/tai-khoan/mat-khau")
@login_required
@limit("RATELIMIT_LOGIN_ADDRESS")
def change_password() -> ResponseReturnValue:
    """Change one's password; the other sessions end."""
    try:
        form = params.parse(params.PasswordChangeForm, request.form)
        if form.password != form.confirm:
            raise ValidationError(
                _l("Hai lần nhập mật khẩu mới không khớp."),
                field="confirm",
            )
        ended = accounts.change_password(
            current_user, form.current, form.password, session.get(sessions.COOKIE_KEY)
        )
    except DomainError as exc:
        db.session.rollback()
        _error(exc)
        return redirect(url_for("bo.account")), 303
    flash(_("Đã đổi mật khẩu. %(n)s phiên khác đã được đăng xuất.", n=ended), "ok")
    return redirect(url_for("bo.account")), 303


@bp.post("/tai-khoan/phien")
@login_required
def end_my_sessions() -> ResponseReturnValue:
    """End one of one's sessions, or (without one) every session including this one."""
    try:
        form = params.parse(params.SessionForm, request.form)
    except DomainError as exc:
        _error(exc)
        return redirect(url_for("bo.account")), 303
    if form.session:
        if form.session == _current_hash():
            return logout_everywhere(only_this=True)
        sessions.end_one(current_user.id, form.session, "user")
        flash(_("Đã đăng xuất phiên đó."), "ok")
        return redirect(url_for("bo.account")), 303
    return logout_everywhere()


def logout_everywhere(only_this: bool = False) -> ResponseReturnValue:
    """Sign this browser out too, after ending the chosen sessions."""
    if only_this:
        sessions.end(session.get(sessions.COOKIE_KEY), "logout")
    else:
        sessions.end_all(current_user.id, "everywhere")
    session.pop(sessions.COOKIE_KEY, None)
    logout_user()
    flash(_("Đã đăng xuất khỏi mọi thiết bị.") if not only_this else _("Đã đăng xuất."), "ok")
    return redirect(url_for("bo.login")), 303


@bp.route("/tai-khoan/xac-thuc-hai-buoc", methods=["GET", "POST"], endpoint="second_factor")
@login_required
@limit("RATELIMIT_LOGIN_ADDRESS", exempt_when=lambda: request.method != "POST")
def second_factor_page() -> ResponseReturnValue:
    """Enrol: a QR code (and the secret as text), confirmed by a first code."""
    if second_factor.is_enabled(current_user):
        return redirect(url_for("bo.account"))
    status = 200
    if request.method == "POST":
        try:
            form = params.parse(params.CodeForm, request.form)
            codes = second_factor.confirm(current_user, form.code)
        except DomainError as exc:
            db.session.rollback()
            _error(exc)
            status = exc.status_code
        else:
            return render_template("bo/recovery_codes.html", codes=codes)
    secret = second_factor.begin(current_user)
    uri = second_factor.provisioning_uri(current_user, secret)
    return render_template(
        "bo/second_factor.html",
        secret=secret,
        qr=second_factor.qr_data_uri(uri),
        required=second_factor.required_for(current_user),
    ), status


# ---------------------------------------------------------------- administrators


def _managed_user(user_id: str) -> User:
    require_admin()
    user = db.session.get(User, params.object_id(User, user_id))
    if user is None:
        abort(404)
    return user


@bp.get("/quan-tri/users/<user_id>/bao-mat")
@login_required
def user_security(user_id: str) -> ResponseReturnValue:
    """An administrator sees a user's live sessions and second factor."""
    user = _managed_user(user_id)
    return render_template(
        "bo/user_security.html",
        user=user,
        live=sessions.active(user.id),
        enabled=second_factor.is_enabled(user),
        required=second_factor.required_for(user),
    )


@bp.post("/quan-tri/users/<user_id>/bao-mat/phien")
@login_required
def end_user_sessions(user_id: str) -> ResponseReturnValue:
    """An administrator ends one or all of a user's sessions (audited)."""
    user = _managed_user(user_id)
    try:
        form = params.parse(params.SessionForm, request.form)
    except DomainError as exc:
        _error(exc)
        return redirect(url_for("bo.user_security", user_id=user.id)), 303
    if form.session:
        ended = int(sessions.end_one(user.id, form.session, "admin"))
    else:
        ended = sessions.end_all(user.id, "admin")
    db.session.add(
        AuditEntry(actor_id=current_user.id, action="end_sessions", entity="users",
                   entity_id=str(user.id), after={"ended": ended})
    )  # fmt: skip
    db.session.commit()
    flash(_("Đã kết thúc %(n)s phiên.", n=ended), "ok")
    return redirect(url_for("bo.user_security", user_id=user.id)), 303


@bp.post("/quan-tri/users/<user_id>/bao-mat/dat-lai-xac-thuc")
@login_required
def reset_second_factor(user_id: str) -> ResponseReturnValue:
    """An administrator turns a user's second factor off (lost phone); audited."""
    user = _managed_user(user_id)
    second_factor.reset(current_user, user)
    sessions.end_all(user.id, "admin")
    flash(_("Đã đặt lại xác thực hai bước; người dùng sẽ đăng ký lại khi đăng nhập."), "ok")
    return redirect(url_for("bo.user_security", user_id=user.id)), 303
