"""Sign-in and sign-out."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required, login_user, logout_user

from webapp.blueprints.backoffice import bp
from webapp.services import accounts


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(url_for("bo.queue"))
    error = None
    if request.method == "POST":
        try:
            user = accounts.authenticate(
                request.form.get("email", ""),
                request.form.get("password", ""),
                request.form.get("totp") or None,
            )
        except accounts.LoginFailed as exc:
            error = exc.message(str(get_locale()))
        else:
            login_user(user)
            target = request.args.get("next", "")
            return redirect(target if target.startswith("/bo") else url_for("bo.queue"))
    return render_template("bo/login.html", error=error), 401 if error else 200


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    logout_user()
    return redirect(url_for("bo.login"))
