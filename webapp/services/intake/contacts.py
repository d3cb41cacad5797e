"""Contact details are claims: an e-mail receives news only after its owner confirms it.

Intake writes one confirmation e-mail (through the outbox, once per report) with a signed
link (itsdangerous, the same signer Flask's sessions use; CONFIRM_EMAIL_DAYS to follow it).
Following the link marks that resident's e-mail confirmed; nothing else is merged. At most
RATELIMIT_CONFIRM_EMAIL confirmation mails go to one address, so the form cannot be used to
flood a stranger's inbox.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import inspect

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.infra import i18n
from webapp.models import Report, Resident
from webapp.models.types import utcnow
from webapp.ratelimit import RateLimited, hit_identity
from webapp.services.intake.serializers import absolute_url
from webapp.services.messaging import outbox

SALT = "confirm-email"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def confirmation_link(resident: Resident) -> str:
    """The link that confirms this resident's e-mail."""
    token = _signer().dumps({"r": resident.id, "e": resident.email})
    return absolute_url(f"/xac-nhan-email/{token}")


def send_confirmation(resident: Resident, report: Report) -> bool:
    """Queue the confirmation e-mail (False when this address had enough of them today)."""
    if not resident.email or resident.email_confirmed_at:
        return False
    try:
        hit_identity("confirm-email", resident.email, "RATELIMIT_CONFIRM_EMAIL")
    except RateLimited:
        return False
    if not inspect(resident).has_identity:
        db.session.flush()  # the link carries the resident's id
    subject = _l("Xác nhận e-mail nhận thông báo phản ánh %(code)s", code=report.code)
    body = _l(
        "Địa chỉ e-mail này được ghi khi gửi phản ánh %(code)s.\n"
        "Nếu đúng là bạn, hãy bấm vào liên kết sau để nhận thông báo kết quả xử lý:\n"
        "%(link)s\n\n"
        "Nếu không phải bạn, hãy bỏ qua thư này: bạn sẽ không nhận thêm thư nào.",
        code=report.code,
        link=confirmation_link(resident),
    )
    # The owner of the address may not be the one who typed it: a Vietnamese mail says it in
    # English too; an English one (the report was filed in English) needs no translation.
    language = i18n.normalise(report.language)
    text = i18n.in_language(body, language)
    if language == "vi":
        text = f"{text}\n\n{i18n.in_language(body, 'en')}"
    outbox.add_message(
        dedupe_key=f"confirm:{report.id}",
        recipient_kind="resident",
        channel="email",
        address=resident.email,
        report_id=report.id,
        subject=i18n.in_language(subject, language),
        body=text,
    )
    return True


def confirm(token: str) -> Resident:
    """Mark the e-mail of the link's resident confirmed; ValidationError on a bad link."""
    days = float(current_app.config["CONFIRM_EMAIL_DAYS"])
    try:
        data = _signer().loads(token, max_age=int(days * 86400))
        resident = db.session.get(Resident, int(data["r"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        data, resident = {}, None
    if resident is None or not resident.email or resident.email != data.get("e"):
        raise ValidationError(
            _l("Liên kết xác nhận không hợp lệ hoặc đã hết hạn."),
        )
    if resident.email_confirmed_at is None:
        resident.email_confirmed_at = utcnow()
        db.session.commit()
    return resident


def attach_verified(report: Report, kind: str, value: str) -> Resident:
    """The author proved (a one-time code) that this phone or e-mail is theirs: from now on the
    report's news go to it. A report sent without contact gets its resident here."""
    resident = report.resident
    if resident is None:
        resident = Resident()
        db.session.add(resident)
        report.resident = resident
    now = utcnow()
    if kind == "email":
        resident.email, resident.email_confirmed_at = value, now
    else:
        resident.phone, resident.phone_verified_at = value, now
    return resident
