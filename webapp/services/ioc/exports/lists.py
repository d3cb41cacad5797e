"""Report lists as exported: what the back office shows of each report, never who reported.

A list export holds no resident's identity (name, phone, e-mail, messenger ids) nor internal
notes, whoever asks: exports leave the system and are forwarded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Case, Select, case, func

from webapp.extensions import db
from webapp.models import Report, User
from webapp.permissions import visible_reports
from webapp.services.intake.serializers import status_label
from webapp.services.ioc import queries, stats
from webapp.services.ioc.exports.writers import (
    BATCH,
    MIMETYPES,
    Export,
    Sheet,
    column_headers,
    csv_chunks,
    local,
    pick,
    stamp,
    write_xlsx,
    xlsx_bytes,
)
from webapp.services.ioc.queries import ReportFilter

OUTCOME_LABELS = {
    "on_time": _l("Đúng hạn"),
    "late": _l("Trễ hạn"),
    "late_extension": _l("Trễ hạn (có gia hạn được duyệt)"),
    "no_deadline": _l("Không có hạn xử lý"),
}
EXTENSION_LABELS = {
    "requested": _l("Đang xin gia hạn"),
    "approved": _l("Đã duyệt gia hạn"),
    "refused": _l("Không duyệt gia hạn"),
}
URGENCY_LABELS = {
    "urgent": _l("Khẩn"),
    "normal": _l("Thông thường"),
    "complex": _l("Phức tạp"),
}
# The column headers of a report list, in order. No personal data: see the module doc.
REPORT_HEADERS = (
    _l("Mã phản ánh"),
    _l("Thời điểm tiếp nhận"),
    _l("Kênh"),
    _l("Trạng thái"),
    _l("Lĩnh vực"),
    _l("Cơ quan xử lý"),
    _l("Xã/phường"),
    _l("Địa chỉ"),
    _l("Vĩ độ"),
    _l("Kinh độ"),
    _l("Mức độ"),
    _l("Hạn xử lý ban đầu"),
    _l("Hạn xử lý hiện tại"),
    _l("Gia hạn"),
    _l("Phản hồi đầu tiên"),
    _l("Hoàn thành"),
    _l("Kết quả"),
    _l("Quá hạn"),
    _l("Đánh giá (1–5)"),
    _l("Nội dung"),
    _l("Trả lời công khai"),
)


def _outcome_expr() -> Case[str]:
    return case(
        (queries.outcome_clause("on_time"), "on_time"),
        (queries.outcome_clause("late_extension"), "late_extension"),
        (queries.outcome_clause("late"), "late"),
        (queries.outcome_clause("no_deadline"), "no_deadline"),
        else_=None,
    )


def report_query(user: User, f: ReportFilter, now: datetime | None = None) -> Select:
    """The columns of a list export, for the reports the user may see, filtered."""
    stmt = queries.where(visible_reports(user), f, now)
    return stmt.with_only_columns(
        Report.code,
        Report.created_at,
        Report.channel,
        Report.status,
        Report.category_code,
        Report.agency_id,
        Report.unit_code,
        Report.address_text,
        Report.lat,
        Report.lon,
        Report.urgency,
        Report.original_due_at,
        Report.due_at,
        Report.extension_status,
        Report.first_response_at,
        Report.resolved_at,
        _outcome_expr().label("outcome"),
        queries.overdue_clause(now).label("overdue"),
        Report.rating,
        Report.description,
        Report.public_note,
    ).order_by(Report.created_at, Report.id)


def count_reports(user: User, f: ReportFilter) -> int:
    """How many rows a list export of the filter would have for the user."""
    stmt = queries.where(visible_reports(user), f).with_only_columns(func.count(Report.id))
    return db.session.scalar(stmt) or 0


class _Names:
    """Labels of agencies, categories and wards, loaded once per export."""

    def __init__(self, locale: str):
        self.agency = stats.labels("agency", locale)
        self.category = stats.labels("category", locale)
        self.unit = stats.labels("unit", locale)


def report_rows(
    user: User, f: ReportFilter, locale: str = "vi", now: datetime | None = None
) -> Iterator[list[Any]]:
    """The rows of a list export, fetched in batches."""
    names = _Names(locale)
    result = db.session.execute(
        report_query(user, f, now).execution_options(yield_per=BATCH, stream_results=True)
    )
    try:
        yield from (_report_row(r, names, locale) for r in result)
    finally:
        # A streamed download ends its read transaction itself: the request's teardown may
        # come much later (a client that keeps the connection), and an open transaction
        # holds locks that migrations and maintenance wait for.
        result.close()
        db.session.rollback()


def _report_row(r: Any, names: _Names, locale: str) -> list[Any]:
    return [
        r.code,
        local(r.created_at),
        r.channel,
        status_label(r.status, locale),
        names.category.get(r.category_code, r.category_code),
        names.agency.get(r.agency_id),
        names.unit.get(r.unit_code, r.unit_code),
        r.address_text,
        round(r.lat, 6) if r.lat is not None else None,
        round(r.lon, 6) if r.lon is not None else None,
        pick(URGENCY_LABELS[r.urgency], locale) if r.urgency in URGENCY_LABELS else None,
        local(r.original_due_at),
        local(r.due_at),
        pick(EXTENSION_LABELS[r.extension_status], locale)
        if r.extension_status in EXTENSION_LABELS
        else None,
        local(r.first_response_at),
        local(r.resolved_at),
        pick(OUTCOME_LABELS[r.outcome], locale) if r.outcome else None,
        pick(_l("Có"), locale) if r.overdue else None,
        r.rating,
        r.description,
        r.public_note,
    ]


def _list_sheet(user: User, f: ReportFilter, locale: str) -> Sheet:
    return Sheet(
        pick(_l("Phản ánh"), locale),
        column_headers(REPORT_HEADERS, locale),
        report_rows(user, f, locale),
    )


def list_file_name(fmt: str) -> str:
    """The name of a list export made now."""
    return f"phan-anh-{stamp()}.{fmt}"


def list_at_once(user: User, f: ReportFilter, fmt: str, locale: str = "vi") -> Export:
    """A list export answered at once: CSV streamed, or the workbook's bytes."""
    name = list_file_name(fmt)
    if fmt == "csv":
        rows = report_rows(user, f, locale)
        headers = column_headers(REPORT_HEADERS, locale)
        return Export(name, MIMETYPES[fmt], csv_chunks(headers, rows))
    return Export(name, MIMETYPES[fmt], xlsx_bytes([_list_sheet(user, f, locale)]))


def write_list(user: User, f: ReportFilter, fmt: str, locale: str, target: Path) -> int:
    """Write a list export to a file; returns the row count."""
    if fmt != "csv":
        return write_xlsx([_list_sheet(user, f, locale)], target)
    count = 0

    def counted(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    rows = counted(report_rows(user, f, locale))
    with target.open("wb") as out:
        for chunk in csv_chunks(column_headers(REPORT_HEADERS, locale), rows):
            out.write(chunk)
    return count
