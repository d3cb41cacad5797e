"""Partner systems' API keys in the back office: issue, list and revoke; administrators only.

The same service as `flask partners add/list/revoke` (`webapp.services.partners.keys`): a key
is shown once, on the page that answers the form that issued it (never in a URL, a flash or
the session); the database keeps only its keyed hash and prefix. Each issue and revocation
names the administrator in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp.blueprints import params
from webapp.blueprints.backoffice import bp
from webapp.blueprints.backoffice.admin import require_admin
from webapp.errors import DomainError, NotFound
from webapp.extensions import db
from webapp.models import Agency, Partner
from webapp.services.partners import keys

SCOPE_LABELS = {
    "submit": _l("Gửi phản ánh"),
    "read": _l("Đọc dữ liệu toàn tỉnh"),
}
MAX_NAME = 120


@dataclass(frozen=True)
class PartnerRow:
    """One partner as the list shows it: its scopes in words."""

    partner: Partner
    scopes: list[str]


def _agency_name(agency: Agency) -> str:
    """The agency's name in the reader's language (Vietnamese when no English one is set)."""
    if str(get_locale()) == "en" and agency.name_en:
        return agency.name_en
    return agency.name


def scope_label(scope: str, agencies: dict[int, Agency]) -> str:
    """A scope in words: `agency:<id>` by the agency's name."""
    match = keys.AGENCY_SCOPE.match(scope)
    if match:
        agency = agencies.get(int(match.group(1)))
        if agency is None:
            return scope
        return _("Phản ánh của %(agency)s, kèm trường riêng", agency=_agency_name(agency))
    return str(SCOPE_LABELS[scope]) if scope in SCOPE_LABELS else scope


def _page(status: int = 200, **context: object) -> ResponseReturnValue:
    """The list and the form; `context` adds the new key, an error or the form's values."""
    agencies = db.session.scalars(select(Agency).order_by(Agency.name)).all()
    by_id = {a.id: a for a in agencies}
    partners = db.session.scalars(select(Partner).order_by(Partner.id.desc())).all()
    rows = [PartnerRow(p, [scope_label(s, by_id) for s in p.scope_list]) for p in partners]
    context.setdefault("form", {"name": "", "scopes": [], "agency": ""})
    html = render_template(
        "bo/partners.html",
        rows=rows,
        agencies=agencies,
        agency_label=_agency_name,
        scope_labels=SCOPE_LABELS,
        **context,
    )
    # The page may hold a key: no cache keeps it.
    return html, status, {"Cache-Control": "no-store"}


@bp.get("/quan-tri/doi-tac")
@login_required
def partners() -> ResponseReturnValue:
    """Every partner key: prefix, scopes, uses, last use, state; the form to issue one."""
    require_admin()
    return _page()


@bp.post("/quan-tri/doi-tac")
@login_required
def partner_issue() -> ResponseReturnValue:
    """Issue a key and show it on this page, once; a bad form: the page again, 422."""
    require_admin()
    name = request.form.get("name", "")[: MAX_NAME * 2]
    chosen = [s for s in request.form.getlist("scope") if s in keys.SCOPES]
    agency = request.form.get("agency", "").strip()[:12]
    scopes = chosen + ([f"agency:{agency}"] if agency else [])
    try:
        partner, key = keys.issue(name, scopes, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        form = {"name": name, "scopes": chosen, "agency": agency}
        return _page(422, error=error.message(str(get_locale())), form=form)
    db.session.commit()
    return _page(new_key=key, new_partner=partner)


@bp.post("/quan-tri/doi-tac/<partner_id>/thu-hoi")
@login_required
def partner_revoke(partner_id: str) -> ResponseReturnValue:
    """Revoke a key at once, once the box is ticked; an unknown id: 404."""
    require_admin()
    partner = db.session.get(Partner, params.path_id(partner_id))
    if partner is None:
        raise NotFound(_l("Không tìm thấy hệ thống đối tác."))
    if not partner.active:
        flash(_("Khóa của %(name)s đã bị thu hồi trước đó.", name=partner.name), "ok")
        return redirect(url_for("bo.partners"))
    if request.form.get("confirm") != "yes":
        return _page(422, error=_("Đánh dấu ô xác nhận để thu hồi khóa."))
    keys.revoke(partner, actor=current_user)
    db.session.commit()
    flash(_("Đã thu hồi khóa của %(name)s.", name=partner.name), "ok")
    return redirect(url_for("bo.partners"))
