"""One-time codes that prove a resident holds a phone or an e-mail.

A code is six digits, sent through the outbox (the first phone channel of RESIDENT_FALLBACK,
ZNS or SMS, for a phone; e-mail otherwise), valid CONTACT_CODE_MINUTES, void after
CONTACT_CODE_ATTEMPTS wrong guesses, and only the latest code of a purpose and report counts:
guessing is 5 tries in a million. Only a keyed hash is stored. At most RATELIMIT_CONTACT_CODE
codes go to one address, and as many from one report, so the form cannot be used to flood a
stranger's phone or to spend the province's SMS budget; the routes add a limit per client address.

Written here because the pieces are small (secrets, hmac) and the rules are the platform's own.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import phonenumbers
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.infra import i18n
from webapp.models import ContactCode, Report
from webapp.models.types import utcnow
from webapp.ratelimit import hit_identity
from webapp.services.intake.checks import EMAIL_RE
from webapp.services.messaging import fallback, outbox

DIGITS = 6
PURPOSES = ("verify", "follow", "data")


@dataclass(frozen=True)
class Address:
    """A phone (in its national form, 0xxxxxxxxx) or an e-mail (lower case)."""

    kind: str  # phone | email
    value: str


def parse_address(text: str | None) -> Address:
    """A typed phone or e-mail, checked; ValidationError in the resident's words otherwise."""
    text = (text or "").strip()[:200]
    if "@" in text:
        if not EMAIL_RE.match(text):  # the one intake checks typed contacts with
            raise ValidationError(_l("Địa chỉ e-mail không hợp lệ."), field="contact")
        return Address("email", text.lower())
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        number = None
    # Vietnamese mobiles only: a code by SMS to a foreign or premium number is the classic way
    # to make a sender pay for someone else's traffic ("SMS pumping").
    mobile = (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.region_code_for_number(number) != "VN"
        or phonenumbers.number_type(number) not in mobile
    ):
        raise ValidationError(
            _l("Hãy nhập số điện thoại hoặc địa chỉ e-mail hợp lệ."), field="contact"
        )
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return Address("phone", re.sub(r"\D", "", national))


def _digest(code_id: int, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _channel(address: Address) -> str:
    if address.kind == "email":
        return "email"
    channel = fallback.first_phone_channel()
    if channel is None or not fallback.within_budget(channel):
        raise ValidationError(
            _l("Hiện chưa gửi được mã qua điện thoại. Vui lòng dùng địa chỉ e-mail."),
            field="contact",
        )
    return channel


def send(
    purpose: str, address: Address, report: Report, language: str = "vi", *, own: bool = True
) -> ContactCode:
    """Write a new code for this purpose, report and address to the outbox; earlier ones are
    void. `own`: the address is the report's author's (not a follower's)."""
    assert purpose in PURPOSES
    channel = _channel(address)
    hit_identity("contact-code", address.value, "RATELIMIT_CONTACT_CODE", what="code")
    # And per report: one link must not send codes to a thousand strangers' phones, nor the
    # public page of a report (followers, RATELIMIT_FOLLOW_CODE) spend the SMS budget.
    per_report = "RATELIMIT_CONTACT_CODE" if own else "RATELIMIT_FOLLOW_CODE"
    hit_identity(f"contact-code-report-{purpose}", str(report.id), per_report, what="code")
    now = utcnow()
    earlier = [
        ContactCode.report_id == report.id,
        ContactCode.purpose == purpose,
        ContactCode.used_at.is_(None),
    ]
    if not own:  # a follower's code: other people's codes for the report stay valid
        earlier.append(ContactCode.address == address.value)
    db.session.execute(update(ContactCode).where(*earlier).values(used_at=now, address=None))
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    minutes = float(current_app.config["CONTACT_CODE_MINUTES"])
    row = ContactCode(
        purpose=purpose,
        kind=address.kind,
        address=address.value,
        report_id=report.id,
        resident_id=report.resident_id if own else None,
        code_hash="",
        expires_at=now + timedelta(minutes=minutes),
    )
    db.session.add(row)
    db.session.flush()
    row.code_hash = _digest(row.id, code)
    with force_locale(i18n.normalise(language)):
        body = _(
            "Mã xác minh của bạn là %(code)s (phản ánh %(report)s, hiệu lực %(minutes)d phút). "
            "Không chia sẻ mã này với ai.",
            code=code,
            report=report.code,
            minutes=int(minutes),
        )
        subject = _("Mã xác minh %(code)s", code=code)
    outbox.add_message(
        dedupe_key=f"code:{row.id}",
        recipient_kind="resident",
        channel=channel,
        address=address.value,
        report_id=report.id,
        subject=subject,
        body=body,
        payload={"kind": "code", "template_data": {"otp": code}},
        key_is_new=True,
    )
    return row


def check(purpose: str, report: Report, typed: str, address: Address | None = None) -> Address:
    """The address the typed code was sent to (the code is now used); ValidationError when it
    does not match. `address`: a follower's, whose code is looked up among the report's."""
    typed = re.sub(r"\s", "", typed or "")[:20]
    now = utcnow()
    where = [
        ContactCode.report_id == report.id,
        ContactCode.purpose == purpose,
        ContactCode.used_at.is_(None),
    ]
    if address is not None:
        where.append(ContactCode.address == address.value)
    row = db.session.scalar(
        select(ContactCode).where(*where).order_by(ContactCode.id.desc()).limit(1).with_for_update()
    )
    limit = int(current_app.config["CONTACT_CODE_ATTEMPTS"])
    if row is None or not row.address or row.expires_at <= now or row.attempts >= limit:
        raise ValidationError(
            _l("Mã đã hết hiệu lực hoặc chưa được gửi. Hãy yêu cầu mã mới."), field="code"
        )
    if not (typed.isdigit() and hmac.compare_digest(row.code_hash, _digest(row.id, typed))):
        row.attempts += 1
        db.session.commit()
        raise ValidationError(_l("Mã xác minh không đúng."), field="code")
    found = Address(row.kind, row.address or "")
    row.used_at, row.address = now, None
    return found


def pending(purpose: str, report: Report) -> ContactCode | None:
    """The code of this purpose waiting to be typed for the report's author, if any."""
    return db.session.scalar(
        select(ContactCode)
        .where(
            ContactCode.report_id == report.id,
            ContactCode.purpose == purpose,
            ContactCode.used_at.is_(None),
            ContactCode.expires_at > utcnow(),
        )
        .order_by(ContactCode.id.desc())
        .limit(1)
    )


def masked(address: str | None) -> str:
    """An address shown without giving it away: 09******78, a***@gmail.com."""
    if not address:
        return ""
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    return f"{address[:2]}{'*' * max(len(address) - 4, 1)}{address[-2:]}"
