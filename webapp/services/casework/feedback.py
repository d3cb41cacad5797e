"""The resident's word on a resolved report: a rating of 1–5, and reopening it.

Reopening goes through the state machine (resolved → reopened) with the resident's own
words as the event's note, then back to the same agency with a new deadline.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from webapp.errors import PermissionDenied, ValidationError
from webapp.extensions import db
from webapp.models import Report, ReportStatus, ResidentIdentity
from webapp.services.casework import routing, workflow
from webapp.services.intake import followers

RATABLE = frozenset({ReportStatus.RESOLVED.value, ReportStatus.CLOSED.value})
# Ratings at or below this offer to send the report back to the agency.
REOPEN_OFFER_AT = 2
MIN_REASON_LENGTH = 5


def _author_identity(report: Report, channel: str, external_id: str) -> ResidentIdentity:
    identity = db.session.scalar(
        select(ResidentIdentity).filter_by(channel=channel, external_id=external_id)
    )
    if identity is None or not followers.is_author(report, identity):
        raise PermissionDenied(
            _l(
                "Chỉ người gửi phản ánh %(code)s mới có thể đánh giá hoặc yêu cầu xử lý lại.",
                code=report.code,
            ),
        )
    return identity


def rate(report: Report, channel: str, external_id: str, stars: int) -> bool:
    """Record the author's rating; True when it is low enough to offer reopening."""
    if not 1 <= stars <= 5:
        raise ValidationError(_l("Điểm đánh giá phải từ 1 đến 5."))
    _author_identity(report, channel, external_id)
    return _rate(report, stars)


def rate_by_link(report: Report, stars: int) -> bool:
    """The rating given on the author's private page (its secret link proves who it is)."""
    if not 1 <= stars <= 5:
        raise ValidationError(_l("Điểm đánh giá phải từ 1 đến 5."), field="rating")
    return _rate(report, stars)


def _rate(report: Report, stars: int) -> bool:
    if report.status not in RATABLE:
        raise ValidationError(
            _l("Phản ánh %(code)s chưa được xử lý xong nên chưa thể đánh giá.", code=report.code),
        )
    report.rating = stars
    workflow.record_event(
        report, "rating", actor_label="resident", public=False, data={"rating": stars}
    )
    return stars <= REOPEN_OFFER_AT


def reopen(report: Report, channel: str, external_id: str, words: str) -> Report:
    """Send a resolved report back to its agency, with a new deadline and the resident's words."""
    words = _reason(words)
    _author_identity(report, channel, external_id)
    return _reopen(report, words)


def reopen_by_link(report: Report, words: str) -> Report:
    """Reopen from the author's private page: as in the bots, after a rating of 1 or 2."""
    words = _reason(words)
    if report.status in RATABLE and (report.rating is None or report.rating > REOPEN_OFFER_AT):
        raise ValidationError(
            _l("Hãy đánh giá kết quả (1 hoặc 2 sao) trước khi yêu cầu xử lý lại."), field="rating"
        )
    return _reopen(report, words)


def _reason(words: str | None) -> str:
    words = (words or "").strip()
    if len(words) < MIN_REASON_LENGTH:
        raise ValidationError(
            _l("Vui lòng cho biết vấn đề còn tồn tại (ít nhất vài từ)."), field="reason"
        )
    return words


def _reopen(report: Report, words: str) -> Report:
    if report.status not in RATABLE:
        raise ValidationError(
            _l("Phản ánh %(code)s không ở trạng thái có thể mở lại.", code=report.code),
        )
    workflow.transition(
        report,
        ReportStatus.REOPENED,
        actor_label="resident",
        note=words[:2000],
        public=True,
        data={"reason": "resident", "rating": report.rating},
    )
    if report.agency is not None:
        routing.assign(
            report, report.agency, actor_label="resident", note="Người dân yêu cầu xử lý lại."
        )
    else:
        workflow.transition(
            report, ReportStatus.NEEDS_TRIAGE, actor_label="resident", data={"reason": "reopened"}
        )
    return report
