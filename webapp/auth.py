"""Session loading for Flask-Login."""

from __future__ import annotations

from webapp.extensions import db, login_manager
from webapp.models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The active user of a session, or None."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user and user.active else None
