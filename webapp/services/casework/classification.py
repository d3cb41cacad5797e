"""Classification and routing of a stored report (run by the classify task).

received → classified → assigned, or → needs_triage when the NLU is unsure, the report has
no place in the province, or no agency is found. When the NLU server is down the report
stays `received` (never lost, never mis-routed); the sweep retries it, and after
NLU_TRIAGE_AFTER_MINUTES it goes to triage for a person to decide.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from nlu import problems
from nlu.client import NluClient, NluResult, NluUnavailable
from webapp.extensions import db
from webapp.infra import queue, work_stats
from webapp.infra import task_names as names
from webapp.models import Category, LocationSource, Report, ReportStatus
from webapp.models.types import utcnow
from webapp.services.casework import routing, workflow
from webapp.services.geography import places

log = logging.getLogger(__name__)


def nlu_client() -> NluClient:
    """The NLU client for the configured Rasa server (one per app)."""
    client = current_app.extensions.get("nlu_client")
    if client is None:
        cfg = current_app.config
        client = NluClient(
            cfg["RASA_URL"],
            timeout=cfg.get("NLU_TIMEOUT", 3.0),
            retries=cfg.get("NLU_RETRIES", 2),
        )
        current_app.extensions["nlu_client"] = client
    return client


def _lock(report_id: int) -> Report | None:
    """The report row, locked for this worker; None when another worker holds it."""
    stmt = select(Report).where(Report.id == report_id).with_for_update(skip_locked=True)
    return db.session.scalar(stmt)


def _store_answer(report: Report, answer: NluResult) -> None:
    report.category_code = answer.category
    report.confidence = round(answer.confidence, 4)
    report.nlu_ranking = [[code, round(score, 4)] for code, score in answer.ranking]
    report.nlu_entities = answer.entities or None
    report.classified_at = utcnow()


def _place_from_entities(report: Report, answer: NluResult) -> None:
    """A report without a point is placed at a ward or street the NLU found in its text."""
    if report.lat is not None:
        return
    match = places.find_entity_place(answer.entities)
    if match is None:
        return
    placement = places.place(match.lat, match.lon)
    report.lat, report.lon = match.lat, match.lon
    report.location_source = LocationSource.TEXT
    report.unit_code, report.province_code = placement.unit_code, placement.province_code
    report.outside_area = not placement.inside
    for name_, cell in placement.cells.items():
        setattr(report, name_, cell)


def _several_problems(report: Report, client: NluClient) -> bool:
    """Whether the message names several problems (kept on the report for the operator);
    the bots asked their residents already (a confirmed category)."""
    if not problems.SPLIT_RE.search(report.description or ""):
        return False
    try:
        with work_stats.nlu_call():
            found = problems.split(report.description, client.parse)
    except NluUnavailable:
        return False
    report.nlu_problems = [[part, category] for part, category in found] or None
    return bool(found)


def _triage(report: Report, reason: str, note: str) -> str:
    workflow.transition(
        report, ReportStatus.NEEDS_TRIAGE, actor_label="nlu", note=note, data={"reason": reason}
    )
    db.session.commit()
    return f"triage:{reason}"


def classify_and_route(report_id: int, client: NluClient | None = None) -> str:
    """Classify, place and route one report; returns what happened (for logs and tests).

    The session does not flush before its lookups (route, categories, places): the report's
    changes, its events and the rollup's deltas go to the database once, at the commit."""
    with db.session.no_autoflush:
        return _classify_and_route(report_id, client)


def _classify_and_route(report_id: int, client: NluClient | None) -> str:
    report = _lock(report_id)
    if report is None:
        db.session.rollback()
        return "missing-or-busy"
    suggestion_only = report.status == ReportStatus.NEEDS_TRIAGE and report.confidence is None
    if report.status != ReportStatus.RECEIVED and not suggestion_only:
        db.session.rollback()
        return "already-done"
    cfg = current_app.config
    try:
        with work_stats.nlu_call():
            answer = (client or nlu_client()).parse(report.description)
    except NluUnavailable:
        report.classify_attempts += 1
        waited = utcnow() - report.created_at
        if not suggestion_only and waited > timedelta(minutes=cfg["NLU_TRIAGE_AFTER_MINUTES"]):
            note = "Chưa phân loại được tự động (máy chủ NLU không phản hồi)."
            return _triage(report, "nlu_unavailable", note)
        db.session.commit()
        return "nlu-down"
    _store_answer(report, answer)
    if suggestion_only:  # the operator sees the suggestion; a person decides
        db.session.commit()
        return "suggested"
    _place_from_entities(report, answer)

    hint = report.category_hint if report.category_hint else None
    if hint and db.session.get(Category, hint):
        report.category_code = hint  # the resident confirmed it in the bot
    if report.category_code is None:
        return _triage(report, "not_a_report", "Nội dung chưa xác định được lĩnh vực.")
    if not hint and _several_problems(report, client or nlu_client()):
        note = "Phản ánh có thể gồm nhiều vấn đề: điều phối viên tách hoặc giao."
        return _triage(report, "several_problems", note)
    workflow.transition(
        report,
        ReportStatus.CLASSIFIED,
        actor_label="nlu",
        public=False,
        data={"category": report.category_code, "confidence": report.confidence},
    )
    if not hint and answer.confidence < cfg["NLU_CONFIDENCE_THRESHOLD"]:
        return _triage(report, "low_confidence", "Độ tin cậy phân loại thấp, chờ điều phối viên.")
    if report.unit_code is None:
        reason = "outside_area" if report.lat is not None else "no_location"
        return _triage(report, reason, "Chưa xác định được xã/phường của phản ánh.")
    agency = routing.route(report.category_code, report.unit_code)
    if agency is None:
        return _triage(report, "no_agency", "Chưa có cơ quan phụ trách lĩnh vực này tại địa bàn.")
    routing.assign(report, agency, actor_label="nlu")
    db.session.commit()
    return "assigned"


def requeue_unclassified(older_than: timedelta = timedelta(minutes=1), limit: int = 500) -> int:
    """Queue again every report stuck in `received`; returns how many were queued."""
    cutoff = utcnow() - older_than
    ids = db.session.scalars(
        select(Report.id)
        .where(Report.status == ReportStatus.RECEIVED, Report.created_at < cutoff)
        .order_by(Report.id)
        .limit(limit)
    ).all()
    return sum(queue.enqueue(names.CLASSIFY_REPORT, rid) for rid in ids)
