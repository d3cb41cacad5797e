"""Session loading for Flask-Login: a user is signed in only while their server-side session
record lives (webapp.services.staff.sessions)."""

from __future__ import annotations

from flask import Flask, g, session
from flask_babel import lazy_gettext

from webapp.extensions import db, login_manager
from webapp.models import User
from webapp.services.staff import sessions


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The active user of a live session whose record names this user, or None."""
    token = session.get(sessions.COOKIE_KEY)
    record = sessions.resume(token)
    if record is None or str(record.user_id) != user_id:
        return None
    user = db.session.get(User, record.user_id)
    if user is None or not user.active:
        return None
    g.staff_session_hash = record.token_hash
    return user


def init_app(app: Flask) -> None:
    """Flask-Login's settings and the session store."""
    login_manager.init_app(app)
    login_manager.login_view = "bo.login"
    login_manager.login_message = lazy_gettext("Vui lòng đăng nhập.")
    login_manager.login_message_category = "info"
    sessions.init_app(app)
