"""The monthly budgets of the paid channels to residents (Zalo transaction, ZNS, SMS)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_login import login_required

from webapp.blueprints.backoffice import bp
from webapp.blueprints.backoffice.admin import require_admin
from webapp.services.messaging import budgets


@bp.get("/quan-tri/ngan-sach-tin-nhan")
@login_required
def message_budgets() -> ResponseReturnValue:
    """This month's messages on each paid channel against MESSAGE_BUDGETS; administrators."""
    require_admin()
    return render_template("bo/message_budgets.html", summary=budgets.budget_summary())
