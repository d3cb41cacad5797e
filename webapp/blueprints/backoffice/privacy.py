"""Personal data, for administrators: the log of staff views of residents' identities, and the
register of processing activities."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from pydantic import Field

from webapp.blueprints import params
from webapp.blueprints.backoffice import bp
from webapp.blueprints.backoffice.admin import require_admin
from webapp.blueprints.param_types import IsoDate, Page, PositiveId
from webapp.services.casework import identity_views as views
from webapp.services.privacy import activities


class IdentityViewArgs(params.Params):
    """?user=&from=&to=&page= of the identity-view log."""

    user: PositiveId | None = None
    date_from: IsoDate | None = Field(None, alias="from")
    date_to: IsoDate | None = Field(None, alias="to")
    page: Page = 1

    def to_filter(self) -> views.IdentityViewFilter:
        """The service's filter."""
        return views.IdentityViewFilter(self.user, self.date_from, self.date_to)


@bp.get("/quan-tri/truy-cap-danh-tinh")
@login_required
def identity_views() -> ResponseReturnValue:
    """Every view of a resident's identity: who, when, which report; by user and date."""
    args = params.parse(IdentityViewArgs, request.args, ignore_invalid=True)
    page = views.identity_view_log(current_user, args.to_filter(), args.page)
    return render_template(
        "bo/identity_views.html",
        page=page,
        args=args,
        viewers=views.identity_viewers(),
        page_args={k: v for k, v in request.args.items() if k != "page"},
    )


@bp.get("/quan-tri/du-lieu-ca-nhan")
@login_required
def processing_activities() -> ResponseReturnValue:
    """The register of processing activities of residents' personal data; administrators."""
    require_admin()
    return render_template("bo/processing_activities.html", register=activities.register())
