"""The NLU models page for administrators: which model classifies reports, the figures each
candidate was judged on, and a button that runs the learning loop now."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from webapp.blueprints.backoffice import bp
from webapp.blueprints.backoffice.admin import require_admin
from webapp.infra import task_names
from webapp.infra.queue import enqueue
from webapp.services.nlu_models import registry
from webapp.services.nlu_models.report import history_rows


@bp.get("/quan-tri/mo-hinh-nlu")
@login_required
def nlu_models() -> ResponseReturnValue:
    """The model history, newest first; administrators."""
    require_admin()
    return render_template("bo/nlu_models.html", rows=history_rows(registry.history(50)))


@bp.post("/quan-tri/mo-hinh-nlu/huan-luyen")
@login_required
def nlu_retrain_now() -> ResponseReturnValue:
    """Queue the learning loop now, however few corrections arrived (a click while a run is
    going, or with no correction since the last candidate, trains nothing)."""
    require_admin()
    if enqueue(task_names.NLU_RETRAIN, True):
        flash(_("Đã xếp lịch huấn luyện lại; kết quả hiện ở bảng này sau vài phút."), "ok")
    else:
        flash(_("Không gửi được việc huấn luyện tới hàng đợi; hãy thử lại sau."), "error")
    return redirect(url_for("bo.nlu_models"))
