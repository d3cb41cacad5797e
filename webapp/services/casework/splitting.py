"""Splitting a report that names several problems (nlu.problems; kept in
`report.nlu_problems` when it was classified): the operator files one report per further
problem — the resident's words cut where they joined them, the same resident, channel and
place — each routed by its category; the original keeps the resident's whole text and goes
with the first problem. Both carry an event naming the other.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.models import Report, User
from webapp.permissions import Action, require
from webapp.services.casework import handling, workflow
from webapp.services.intake import reports


def split(user: User, report: Report) -> list[str]:
    """File the report's further problems as reports of their own; their codes."""
    require(user, Action.TRIAGE, report)
    found = report.nlu_problems or []
    if len(found) < 2 or not report.is_open:
        raise ValidationError(_l("Phản ánh này không có nhiều vấn đề để tách."))
    (_first, first_category), rest = found[0], found[1:]
    codes = []
    for part, category in rest:
        result = reports.submit_report(
            reports.ReportDraft(
                channel=report.channel,
                description=part,
                lat=report.lat,
                lon=report.lon,
                location_source=report.location_source if report.lat is not None else None,
                address=report.address_text,
                category_hint=category,
                created_by=user,
                language=report.language,
                consent=True,  # the resident's consent to the report they sent holds
                split_from=report,
            )
        )
        created = reports.get_by_code(result.code)
        workflow.record_event(created, "split", actor=user, data={"from": report.code})
        codes.append(result.code)
    workflow.record_event(report, "split", actor=user, data={"into": codes})
    report.nlu_problems = None
    report.category_code = first_category  # no correction to learn: the text names both
    db.session.commit()
    handling.triage(user, report, first_category)
    return codes
