"""Sign-in and sign-out."""

from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_login import current_user, login_required, login_user, logout_user

from webapp.blueprints import params
from webapp.blueprints.backoffice import bp
from webapp.errors import ValidationError
from webapp.ratelimit import RateLimited, client_address, limit
from webapp.services.staff import accounts, sessions


def _attempts_limited() -> bool:
    return request.method != "POST"


@bp.route("/login", methods=["GET", "POST"])
@limit("RATELIMIT_LOGIN_ADDRESS", exempt_when=_attempts_limited)
def login() -> ResponseReturnValue:
    """The sign-in form; failures slow the next attempts down (webapp.services.staff.accounts)."""
    if current_user.is_authenticated:
        return redirect(url_for("bo.queue"))
    error, status, retry = None, 200, None
    if request.method == "POST":
        try:
            form = params.parse(params.LoginForm, request.form)
            user = accounts.authenticate(
                form.email,
                form.password,
                form.totp,
                address=client_address(),
                device=request.cookies.get(accounts.DEVICE_COOKIE),
            )
        except (accounts.LoginFailed, RateLimited, ValidationError) as exc:
            error, status = exc.message(str(get_locale())), exc.status_code
            retry = getattr(exc, "retry_after", None)
        else:
            token = sessions.start(user.id, client_address(), request.user_agent.string)
            login_user(user)
            session[sessions.COOKIE_KEY] = token
            target = params.parse(params.LoginArgs, request.args, ignore_invalid=True).next
            response = redirect(target or url_for("bo.queue"))
            response.set_cookie(
                accounts.DEVICE_COOKIE,
                accounts.device_token(user),
                max_age=accounts.DEVICE_DAYS * 86400,
                path="/bo",
                httponly=True,
                samesite="Lax",
                secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
            )
            return response
    response = make_response(render_template("bo/login.html", error=error), status)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return response


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    """Sign out: the server forgets the session, so a copy of the cookie opens nothing."""
    sessions.end(session.pop(sessions.COOKIE_KEY, None))
    logout_user()
    return redirect(url_for("bo.login"))
