"""What a web resident does with the private link of their report, as the bots' users do.

Rate the result 1–5 once it is resolved, send it back to the agency after a rating of 1 or 2,
receive the news on an e-mail or phone proved with a one-time code, see every message sent
about the report, and download or erase their data after proving their contact again. The
secret link is the author's key; each action is limited per client address, each code per
phone or e-mail (webapp.services.intake.codes).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer

from webapp.blueprints.public import map_settings, private_response
from webapp.errors import DomainError, ValidationError
from webapp.extensions import db
from webapp.infra.i18n import request_language
from webapp.models import Report
from webapp.ratelimit import limit
from webapp.services.casework import feedback
from webapp.services.intake import codes, contacts, reports, serializers
from webapp.services.messaging import fallback
from webapp.services.privacy import erasure, requests
from webapp.services.privacy import export as data_export

bp = Blueprint("resident", __name__)
CHANNEL_LABELS = {
    "telegram": _l("Telegram"),
    "zalo": _l("Zalo"),
    "zalo_transaction": _l("Zalo (tin giao dịch)"),
    "zns": _l("Zalo (tin ZNS tới số điện thoại)"),
    "sms": _l("SMS"),
    "email": _l("E-mail"),
    "tracking": _l("Trang theo dõi"),
}
GRANT_SALT = "resident-data"
GRANT_SECONDS = 15 * 60


def page(
    report: Report, status: int = 200, new: bool = False, **extra: object
) -> ResponseReturnValue:
    """The private page, with the outcome of an action (`done`, `error`, `step`)."""
    rows, unreachable = fallback.deliveries(report.id)
    resident = report.resident
    contact = _data_contact(report)
    html = render_template(
        "public/track.html",
        report=serializers.private_view(report, request_language()),
        map=map_settings(),
        private=True,
        new=new,
        token=report.tracking_token,
        actions={
            "ratable": report.status in feedback.RATABLE,
            "rating": report.rating,
            "reopenable": report.status in feedback.RATABLE
            and report.rating is not None
            and report.rating <= feedback.REOPEN_OFFER_AT,
            "email": codes.masked(resident.email)
            if resident and resident.email_confirmed_at
            else "",
            "phone": codes.masked(resident.phone)
            if resident and resident.phone_verified_at
            else "",
            "verify_pending": codes.pending("verify", report) is not None,
            "data_pending": codes.pending("data", report) is not None,
            "data_contact": codes.masked(contact.value) if contact else "",
            "messenger": bool(report.identity_id),
            "erased": report.personal_data_removed_at is not None,
        },
        messages=rows,
        channel_labels=CHANNEL_LABELS,
        unreachable=unreachable,
        **extra,
    )
    return private_response(current_app.make_response((html, status)))


@bp.get("/t/<token>")
@limit("RATELIMIT_LOOKUP")
def track_private(token: str) -> ResponseReturnValue:
    """The resident's own page, opened by the secret link they received: the whole report."""
    return page(reports.get_by_token(token), new=bool(request.args.get("new")))


def _failed(report: Report, error: DomainError, step: str | None = None) -> ResponseReturnValue:
    db.session.rollback()
    return page(report, error.status_code, error=error.message(request_language()), step=step)


@bp.post("/t/<token>/danh-gia")
@limit("RATELIMIT_RESIDENT_ACTION")
def rate(token: str) -> ResponseReturnValue:
    """The author's rating, 1–5."""
    report = reports.get_by_token(token)
    stars = request.form.get("rating", "")
    try:
        low = feedback.rate_by_link(report, int(stars) if stars.isdigit() else 0)
    except DomainError as error:
        return _failed(report, error)
    db.session.commit()
    done = _("Cảm ơn bạn đã đánh giá.")
    if low:
        done += " " + _("Nếu vấn đề vẫn còn, bạn có thể yêu cầu xử lý lại bên dưới.")
    return page(report, done=done)


@bp.post("/t/<token>/mo-lai")
@limit("RATELIMIT_RESIDENT_ACTION")
def reopen(token: str) -> ResponseReturnValue:
    """Send the report back to its agency with what is still wrong."""
    report = reports.get_by_token(token)
    try:
        feedback.reopen_by_link(report, request.form.get("reason", "")[:2000])
    except DomainError as error:
        return _failed(report, error, step="reopen")
    db.session.commit()
    return page(report, done=_("Phản ánh đã được chuyển lại cơ quan xử lý."))


@bp.post("/t/<token>/nhan-tin")
@limit("RATELIMIT_RESIDENT_ACTION")
def follow(token: str) -> ResponseReturnValue:
    """Send a code to the e-mail or phone that should receive the report's news."""
    report = reports.get_by_token(token)
    try:
        address = codes.parse_address(request.form.get("contact"))
        codes.send("verify", address, report, report.language)
    except DomainError as error:
        return _failed(report, error, step="follow")
    db.session.commit()
    return page(report, done=_("Đã gửi mã xác minh tới %(to)s.", to=codes.masked(address.value)))


@bp.post("/t/<token>/xac-minh")
@limit("RATELIMIT_RESIDENT_ACTION")
def verify(token: str) -> ResponseReturnValue:
    """The code typed back: the e-mail or phone now receives the report's news."""
    report = reports.get_by_token(token)
    try:
        address = codes.check("verify", report, request.form.get("code", ""))
    except DomainError as error:
        db.session.commit()  # the wrong guess counts
        return page(
            report, error.status_code, error=error.message(request_language()), step="verify"
        )
    contacts.attach_verified(report, address.kind, address.value)
    db.session.commit()
    done = _(
        "Từ nay bạn sẽ nhận thông báo về phản ánh này qua %(to)s.", to=codes.masked(address.value)
    )
    return page(report, done=done)


def _data_contact(report: Report) -> codes.Address | None:
    resident = report.resident
    if resident is None:
        return None
    if resident.email:
        return codes.Address("email", resident.email)
    if resident.phone:
        return codes.Address("phone", resident.phone)
    return None


def _grant(report: Report) -> str:
    signer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=GRANT_SALT)
    return str(signer.dumps({"r": report.id}))


def _granted(report: Report) -> bool:
    signer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=GRANT_SALT)
    try:
        data = signer.loads(request.form.get("grant", "")[:500], max_age=GRANT_SECONDS)
    except BadSignature:
        return False
    return isinstance(data, dict) and data.get("r") == report.id


@bp.post("/t/<token>/du-lieu")
@limit("RATELIMIT_RESIDENT_ACTION")
def data_request(token: str) -> ResponseReturnValue:
    """Ask for one's data: a code goes to the contact on the report (none: the link is enough);
    with `code`, the code typed back opens the download and erasure buttons."""
    report = reports.get_by_token(token)
    contact = _data_contact(report)
    if report.identity_id:
        error = ValidationError(_l("Hãy gửi lệnh /dulieu hoặc /xoadulieu trong bot đã dùng."))
        return _failed(report, error)
    if contact is None:
        return page(report, grant=_grant(report), step="data")
    try:
        if "code" in request.form:
            codes.check("data", report, request.form.get("code", ""))
        else:
            codes.send("data", contact, report, report.language)
            db.session.commit()
            sent = _("Đã gửi mã xác minh tới %(to)s.", to=codes.masked(contact.value))
            return page(report, done=sent, step="data-code")
    except DomainError as error:
        db.session.commit()  # the wrong guess counts
        return page(
            report, error.status_code, error=error.message(request_language()), step="data-code"
        )
    db.session.commit()
    return page(report, grant=_grant(report), step="data")


@bp.post("/t/<token>/du-lieu/tai")
@limit("RATELIMIT_RESIDENT_ACTION")
def data_download(token: str) -> ResponseReturnValue:
    """The resident's data as a JSON file (within the quarter hour the code opened)."""
    report = reports.get_by_token(token)
    if not _granted(report):
        return _failed(report, ValidationError(_l("Hãy xác minh lại để tải dữ liệu.")), "data")
    resident = report.resident
    data = (
        data_export.resident_data(resident)
        if resident is not None
        else data_export.report_only(report)
    )
    data_export.audit("data_export", resident.id if resident else 0, "web", [report.code or ""])
    db.session.commit()
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="du-lieu-{report.code}.json"'
    return private_response(response)


@bp.post("/t/<token>/du-lieu/xoa")
@limit("RATELIMIT_RESIDENT_ACTION")
def data_erase(token: str) -> ResponseReturnValue:
    """Erase the resident's identity, contact and private photos; the public record stays."""
    report = reports.get_by_token(token)
    if not _granted(report):
        return _failed(report, ValidationError(_l("Hãy xác minh lại để xoá dữ liệu.")), "data")
    if not request.form.get("confirm"):
        error = ValidationError(_l("Hãy đánh dấu ô xác nhận để xoá dữ liệu."), field="confirm")
        return page(
            report, 422, error=error.message(request_language()), grant=_grant(report), step="data"
        )
    resident = report.resident
    if resident is not None:
        done = erasure.erase_resident(resident)
        data_export.audit("data_erase", resident.id, "web", done.reports)
    else:
        erasure.erase_report(report)
        data_export.audit("data_erase", 0, "web", [report.code or ""])
    db.session.commit()
    done_text = _(
        "Dữ liệu cá nhân của bạn đã được xoá. Nội dung công khai của phản ánh vẫn được giữ."
    )
    return page(report, done=done_text)


@bp.get("/du-lieu/<token>")
@limit("RATELIMIT_LOOKUP")
def data_link(token: str) -> ResponseReturnValue:
    """The data copy a bot's /dulieu link opens (an hour long)."""
    data = requests.data_for_link(token)
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="du-lieu.json"'
    return private_response(response)
