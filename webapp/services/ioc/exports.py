"""CSV and Excel exports of report lists and KPI tables, and the weekly summary.

A list export holds what the back office shows of a report, never the resident's identity
(name, phone, e-mail, messenger ids) nor internal notes, whoever asks: exports leave the
system and are forwarded. Small lists are streamed at once; a list of more than
`EXPORT_BACKGROUND_ROWS` rows becomes an `ExportJob` that the Celery task
`workers.export_tasks.run_export` writes under `EXPORT_DIR` (instance/exports), downloaded
when done by the user who asked or by the IOC.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import Select, case, func, select

from webapp.errors import DomainError, NotFound, ValidationError
from webapp.extensions import db
from webapp.models import ExportJob, Report, User
from webapp.models.types import utcnow
from webapp.permissions import visible_reports
from webapp.services.intake.serializers import status_label
from webapp.services.ioc import queries, stats
from webapp.services.ioc.queries import LOCAL_TZ, ReportFilter

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
DEFAULT_BACKGROUND_ROWS = 5000
BATCH = 1000

OUTCOME_LABELS = {
    "on_time": ("Đúng hạn", "On time"),
    "late": ("Trễ hạn", "Late"),
    "late_extension": ("Trễ hạn (có gia hạn được duyệt)", "Late (approved extension)"),
    "no_deadline": ("Không có hạn xử lý", "No deadline"),
}
EXTENSION_LABELS = {
    "requested": ("Đang xin gia hạn", "Extension requested"),
    "approved": ("Đã duyệt gia hạn", "Extension approved"),
    "refused": ("Không duyệt gia hạn", "Extension refused"),
}
URGENCY_LABELS = {
    "urgent": ("Khẩn", "Urgent"),
    "normal": ("Thông thường", "Normal"),
    "complex": ("Phức tạp", "Complex"),
}
# (header vi, header en) of a report list, in order. No personal data: see the module doc.
REPORT_HEADERS = (
    ("Mã phản ánh", "Code"),
    ("Thời điểm tiếp nhận", "Received at"),
    ("Kênh", "Channel"),
    ("Trạng thái", "Status"),
    ("Lĩnh vực", "Category"),
    ("Cơ quan xử lý", "Agency"),
    ("Xã/phường", "Commune/ward"),
    ("Địa chỉ", "Address"),
    ("Vĩ độ", "Latitude"),
    ("Kinh độ", "Longitude"),
    ("Mức độ", "Urgency"),
    ("Hạn xử lý ban đầu", "First deadline"),
    ("Hạn xử lý hiện tại", "Current deadline"),
    ("Gia hạn", "Extension"),
    ("Phản hồi đầu tiên", "First response"),
    ("Hoàn thành", "Resolved at"),
    ("Kết quả", "Outcome"),
    ("Quá hạn", "Overdue"),
    ("Đánh giá (1–5)", "Rating (1–5)"),
    ("Nội dung phản ánh", "Description"),
    ("Trả lời công khai", "Public answer"),
)
KPI_HEADERS = (
    ("Đơn vị", "Unit"),
    ("Tiếp nhận", "Received"),
    ("Đã xử lý", "Resolved"),
    ("Đang xử lý", "Open"),
    ("Quá hạn", "Overdue"),
    ("Đúng hạn", "On time"),
    ("Trễ hạn", "Late"),
    ("Trễ hạn có gia hạn", "Late, approved extension"),
    ("Không có hạn", "No deadline"),
    ("Tỷ lệ đúng hạn (%)", "On-time rate (%)"),
    ("Trung vị phản hồi đầu tiên (giờ)", "Median first response (h)"),
    ("Trung vị hoàn thành (giờ)", "Median resolution (h)"),
    ("Điểm hài lòng TB", "Average rating"),
    ("Số lượt đánh giá", "Ratings"),
)
DIMENSION_TITLES = {
    None: ("Toàn tỉnh", "Whole province"),
    "agency": ("Theo cơ quan", "By agency"),
    "category": ("Theo lĩnh vực", "By category"),
    "unit": ("Theo xã, phường", "By commune/ward"),
    "week": ("Theo tuần", "By week"),
}
# A cell starting with one of these is a formula to Excel and LibreOffice: residents' text
# must never run as one (CSV injection), so it is prefixed with an apostrophe.
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")


class NotReady(DomainError):
    """A background export that is not finished (or failed)."""

    status_code = 409
    code = "not_ready"


def _pick(labels: tuple[str, str], locale: str) -> str:
    return labels[1] if locale.startswith("en") else labels[0]


def _headers(spec: Sequence[tuple[str, str]], locale: str) -> list[str]:
    return [_pick(h, locale) for h in spec]


def background_threshold() -> int:
    """Lists with more rows than this are exported in the background."""
    return int(current_app.config.get("EXPORT_BACKGROUND_ROWS", DEFAULT_BACKGROUND_ROWS))


def exports_dir() -> Path:
    """Where background exports are written (EXPORT_DIR, default instance/exports)."""
    path = Path(current_app.config.get("EXPORT_DIR") or Path(current_app.instance_path, "exports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_format(fmt: str | None) -> str:
    """The format, or a validation error."""
    if fmt not in FORMATS:
        raise ValidationError("Định dạng xuất phải là CSV hoặc Excel.", "Export as CSV or Excel.")
    return fmt


# --------------------------------------------------------------------------- writers


def _local(value: datetime | None) -> datetime | None:
    # Excel has no time zones: local wall-clock time, naive.
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None) if value else None


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and _FORMULA_START.match(value):
        return "'" + value
    return value


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark (so Excel reads Vietnamese), in chunks for streaming."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(headers)
    for n, row in enumerate(rows, 1):
        writer.writerow([_csv_value(v) for v in row])
        if n % BATCH == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


@dataclass
class Sheet:
    """One worksheet: a title, the column headers and the rows."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    intro: Sequence[str] = ()


def _xlsx_cell(ws, value: Any, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # openpyxl would store it as a formula
    if isinstance(value, datetime):
        cell.number_format = "dd/mm/yyyy hh:mm"
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(sheets: Sequence[Sheet], target) -> int:
    """Write the sheets (write-only mode: rows are not kept in memory); returns the row count."""
    wb = Workbook(write_only=True)
    count = 0
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title[:31])
        for line in sheet.intro:
            ws.append([_xlsx_cell(ws, line, bold=True)])
        if sheet.intro:
            ws.append([])
        ws.append([_xlsx_cell(ws, h, bold=True) for h in sheet.headers])
        for row in sheet.rows:
            ws.append([_xlsx_cell(ws, v) for v in row])
            count += 1
    wb.save(target)
    return count


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The workbook as bytes (for small exports answered at once)."""
    buf = io.BytesIO()
    write_xlsx(sheets, buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- report lists


def _outcome_expr():
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
        _local(r.created_at),
        r.channel,
        status_label(r.status, locale),
        names.category.get(r.category_code, r.category_code),
        names.agency.get(r.agency_id),
        names.unit.get(r.unit_code, r.unit_code),
        r.address_text,
        round(r.lat, 6) if r.lat is not None else None,
        round(r.lon, 6) if r.lon is not None else None,
        _pick(URGENCY_LABELS[r.urgency], locale) if r.urgency in URGENCY_LABELS else None,
        _local(r.original_due_at),
        _local(r.due_at),
        _pick(EXTENSION_LABELS[r.extension_status], locale)
        if r.extension_status in EXTENSION_LABELS
        else None,
        _local(r.first_response_at),
        _local(r.resolved_at),
        _pick(OUTCOME_LABELS[r.outcome], locale) if r.outcome else None,
        ("Yes" if locale.startswith("en") else "Có") if r.overdue else None,
        r.rating,
        r.description,
        r.public_note,
    ]


def _stamp(now: datetime | None = None) -> str:
    return (now or utcnow()).astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")


@dataclass
class Export:
    """A file answered at once: its name, MIME type and body (bytes or chunks)."""

    file_name: str
    mimetype: str
    body: bytes | Iterable[bytes]


def _list_sheet(user: User, f: ReportFilter, locale: str) -> Sheet:
    return Sheet(
        "Phản ánh" if not locale.startswith("en") else "Reports",
        _headers(REPORT_HEADERS, locale),
        report_rows(user, f, locale),
    )


def list_export(user: User, f: ReportFilter, fmt: str, locale: str = "vi") -> Export | ExportJob:
    """A list export: the file at once when small, else a background job (committed, queued)."""
    fmt = check_format(fmt)
    if count_reports(user, f) > background_threshold():
        return start_job(user, "reports", fmt, {"filter": f.to_args(), "locale": locale})
    name = f"phan-anh-{_stamp()}.{fmt}"
    if fmt == "csv":
        rows = report_rows(user, f, locale)
        return Export(name, MIMETYPES[fmt], csv_chunks(_headers(REPORT_HEADERS, locale), rows))
    return Export(name, MIMETYPES[fmt], xlsx_bytes([_list_sheet(user, f, locale)]))


# --------------------------------------------------------------------------- KPI tables


def _hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 1) if seconds is not None else None


def kpi_row(kpi: stats.Kpi) -> list[Any]:
    """One KPI row as exported (rates in %, medians in hours)."""
    rate = kpi.on_time_rate
    return [
        kpi.label,
        kpi.received,
        kpi.resolved,
        kpi.open,
        kpi.overdue,
        kpi.on_time,
        kpi.late,
        kpi.late_extension,
        kpi.no_deadline,
        round(rate * 100, 1) if rate is not None else None,
        _hours(kpi.median_first_response_s),
        _hours(kpi.median_resolution_s),
        kpi.rating_avg,
        kpi.rating_count,
    ]


def kpi_rows(period: stats.Period, by: str | None, locale: str = "vi") -> list[stats.Kpi]:
    """The rows of one KPI table: the total, per dimension, or per week."""
    if by is None:
        return [stats.totals(period, locale=locale)]
    if by == "week":
        return [w.kpi for w in stats.trend(period, locale=locale)]
    return stats.table(period, by, locale=locale)


def _period_line(period: stats.Period, locale: str) -> str:
    span = f"{period.start:%d/%m/%Y} – {period.end:%d/%m/%Y}"
    if locale.startswith("en"):
        return f"Reports received {span}"
    return f"Phản ánh tiếp nhận từ {span}"


def kpi_export(period: stats.Period, by: str | None, fmt: str, locale: str = "vi") -> Export:
    """One KPI table as CSV, or every table as sheets of one workbook (by=None and xlsx)."""
    fmt = check_format(fmt)
    if by not in (None, "week", *stats.DIMENSIONS):
        raise ValidationError("Bảng chỉ số không hợp lệ.", "Unknown KPI table.")
    suffix = f"-{by}" if by else ""
    name = f"chi-so-{period.start:%Y%m%d}-{period.end:%Y%m%d}{suffix}.{fmt}"
    headers = _headers(KPI_HEADERS, locale)
    if fmt == "csv":
        rows = [kpi_row(k) for k in kpi_rows(period, by, locale)]
        return Export(name, MIMETYPES[fmt], csv_chunks(headers, rows))
    tables = [by] if by else [None, "agency", "category", "unit", "week"]
    sheets = [
        Sheet(
            _pick(DIMENSION_TITLES[t], locale),
            headers,
            [kpi_row(k) for k in kpi_rows(period, t, locale)],
            intro=[_period_line(period, locale)],
        )
        for t in tables
    ]
    return Export(name, MIMETYPES[fmt], xlsx_bytes(sheets))


def weekly_summary(
    period: stats.Period | None = None, locale: str = "vi", now: datetime | None = None
) -> Export:
    """The leadership's weekly workbook: last week's KPIs per agency, the total, what is late."""
    now = now or utcnow()
    period = period or stats.Period.last_week(now)
    en = locale.startswith("en")
    title = "Weekly report handling summary" if en else "Báo cáo tổng hợp xử lý phản ánh tuần"
    made = f"{_local(now):%d/%m/%Y %H:%M}"
    intro = [title, _period_line(period, locale), ("Made " if en else "Lập lúc ") + made]
    headers = _headers(KPI_HEADERS, locale)
    overdue_headers = (
        ["Agency", "Overdue reports now", "Oldest deadline", "Days overdue (oldest)"]
        if en
        else [
            "Cơ quan",
            "Số phản ánh đang quá hạn",
            "Hạn xử lý cũ nhất",
            "Số ngày quá hạn (lâu nhất)",
        ]
    )
    overdue = stats.overdue_agencies(now=now, locale=locale)
    sheets = [
        Sheet(
            _pick(DIMENSION_TITLES[None], locale),
            headers,
            [kpi_row(stats.totals(period, now=now, locale=locale))],
            intro,
        ),
        Sheet(
            _pick(DIMENSION_TITLES["agency"], locale),
            headers,
            [kpi_row(k) for k in stats.table(period, "agency", now=now, locale=locale)],
            intro,
        ),
        Sheet(
            _pick(DIMENSION_TITLES["category"], locale),
            headers,
            [kpi_row(k) for k in stats.table(period, "category", now=now, locale=locale)],
            intro,
        ),
        Sheet(
            "Overdue now" if en else "Đang quá hạn",
            overdue_headers,
            [[u.name, u.overdue, _local(u.oldest_due_at), u.days_overdue] for u in overdue],
            [title, ("Situation at " if en else "Tình hình lúc ") + made],
        ),
    ]
    name = f"tong-hop-tuan-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    return Export(name, MIMETYPES["xlsx"], xlsx_bytes(sheets))


def leadership_addresses() -> list[str]:
    """LEADERSHIP_EMAILS as a list."""
    raw = current_app.config.get("LEADERSHIP_EMAILS") or ""
    return [a.strip() for a in raw.replace(";", ",").split(",") if a.strip()]


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def weekly_mail_text(period: stats.Period, now: datetime) -> str:
    """The e-mail around the workbook: the week's headline figures and who is late now."""
    total = stats.totals(period, now=now)
    late_units = stats.overdue_agencies(now=now)
    lines = [
        "Kính gửi lãnh đạo,",
        "",
        f"Tổng hợp xử lý phản ánh hiện trường tuần {period.start:%d/%m} – {period.end:%d/%m/%Y}:",
        f"- Tiếp nhận: {total.received}",
        f"- Đã giải quyết: {total.resolved}; còn đang xử lý: {total.open}",
        f"- Đúng hạn: {total.on_time}; trễ hạn: {total.late}; trễ hạn có gia hạn: "
        f"{total.late_extension}; đang quá hạn: {total.overdue} "
        f"(tỷ lệ đúng hạn {_percent(total.on_time_rate)})",
    ]
    if late_units:
        lines += ["", f"Đơn vị đang có phản ánh quá hạn (lúc {_local(now):%H:%M %d/%m/%Y}):"]
        lines += [f"- {u.name}: {u.overdue} phản ánh" for u in late_units[:10]]
        if len(late_units) > 10:
            lines.append(f"- … và {len(late_units) - 10} đơn vị khác (xem tệp đính kèm)")
    else:
        lines += ["", "Không đơn vị nào có phản ánh quá hạn."]
    lines += ["", "Chi tiết theo cơ quan và lĩnh vực trong tệp Excel đính kèm."]
    return "\n".join(lines)


def mail_weekly_summary(now: datetime | None = None) -> int:
    """Write last week's workbook and queue it to each leadership address, once per week."""
    from webapp.services.messaging import outbox

    now = now or utcnow()
    recipients = leadership_addresses()
    if not recipients:
        log.info("weekly summary: LEADERSHIP_EMAILS is empty, nothing sent")
        return 0
    period = stats.Period.last_week(now)
    export = weekly_summary(period, now=now)
    relative = Path("weekly") / export.file_name
    target = exports_dir() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(export.body)
    os.replace(partial, target)
    body = weekly_mail_text(period, now)
    subject = f"Báo cáo tổng hợp xử lý phản ánh tuần {period.start:%d/%m} – {period.end:%d/%m/%Y}"
    attachment = {
        "file": relative.as_posix(),
        "filename": export.file_name,
        "mimetype": export.mimetype,
    }
    added = [
        outbox.add_message(
            dedupe_key=f"weekly:{period.start.isoformat()}:{address}",
            recipient_kind="leadership",
            channel="email",
            address=address,
            subject=subject,
            body=body,
            payload={"attachment": attachment},
        )
        for address in recipients
    ]
    db.session.commit()
    return sum(1 for m in added if m is not None)


def attachment_path(relative: str) -> Path:
    """A file under the exports directory named by an outbox message; never outside it."""
    root = exports_dir().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"attachment outside the exports directory: {relative}")
    return path


def purge_old_files(now: datetime | None = None) -> int:
    """Delete export files older than EXPORT_KEEP_DAYS; their jobs become `expired`."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
    removed = 0
    jobs = db.session.scalars(
        select(ExportJob).where(
            ExportJob.status.in_(("done", "failed")), ExportJob.finished_at < cutoff
        )
    )
    for job in jobs:
        if job.file_name and job_path(job).exists():
            job_path(job).unlink()
            removed += 1
        if job.status == "done":
            job.status = "expired"
    db.session.commit()
    # Weekly workbooks and files of interrupted jobs are not tracked by a job row: by age.
    for path in [*exports_dir().glob("weekly/*"), *exports_dir().glob("*.part")]:
        if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# --------------------------------------------------------------------------- background jobs


def start_job(user: User, kind: str, fmt: str, params: dict[str, Any]) -> ExportJob:
    """Record a background export and queue it (after the commit)."""
    from webapp.infra.queue import enqueue

    job = ExportJob(user_id=user.id, kind=kind, fmt=check_format(fmt), params=params)
    db.session.add(job)
    db.session.commit()
    if not enqueue("workers.export_tasks.run_export", job.id):
        job.status = "failed"
        job.error = "Không gửi được yêu cầu tới hàng đợi xử lý; vui lòng thử lại sau."
        job.finished_at = utcnow()
        db.session.commit()
    return job


def job_path(job: ExportJob) -> Path:
    """Where a job's file is (or will be) written."""
    return exports_dir() / f"{job.id}-{job.file_name}"


def run_job(job_id: int) -> str:
    """Write a background export's file; safe to run twice (a done job is left alone)."""
    job = db.session.get(ExportJob, job_id)
    if job is None:
        return "missing"
    if job.status == "done" and job.file_name and job_path(job).exists():
        return "done"
    user = db.session.get(User, job.user_id)
    params = job.params or {}
    locale = params.get("locale", "vi")
    job.status, job.error = "running", None
    job.file_name = f"phan-anh-{_stamp()}.{job.fmt}"
    db.session.commit()
    target = job_path(job)
    partial = target.with_suffix(target.suffix + ".part")
    try:
        if job.kind != "reports" or user is None:
            raise ValueError(f"cannot run export {job.kind!r} for user {job.user_id}")
        f = ReportFilter.from_args(params.get("filter") or {})
        if job.fmt == "csv":
            count = 0

            def counted(rows):
                nonlocal count
                for row in rows:
                    count += 1
                    yield row

            rows = counted(report_rows(user, f, locale))
            with partial.open("wb") as out:
                for chunk in csv_chunks(_headers(REPORT_HEADERS, locale), rows):
                    out.write(chunk)
        else:
            count = write_xlsx([_list_sheet(user, f, locale)], partial)
        os.replace(partial, target)
    except Exception as error:
        db.session.rollback()
        partial.unlink(missing_ok=True)
        log.exception("export %s failed", job_id)
        job = db.session.get(ExportJob, job_id)
        job.status, job.error, job.finished_at = "failed", str(error)[:500], utcnow()
        db.session.commit()
        return "failed"
    job.status, job.row_count, job.finished_at = "done", count, utcnow()
    db.session.commit()
    return "done"


def can_download(user: User, job: ExportJob) -> bool:
    """Only the user who asked, or the IOC, may fetch a background export."""
    if not user.is_authenticated or not user.active:
        return False
    return job.user_id == user.id or user.role_enum.is_ioc


def job_for(user: User, job_id: int) -> ExportJob:
    """A job the user may see; NotFound otherwise (no guessing of other users' jobs)."""
    job = db.session.get(ExportJob, job_id)
    if job is None or not can_download(user, job):
        raise NotFound("Không tìm thấy tệp xuất dữ liệu.", "Export not found.")
    return job


def download_path(user: User, job_id: int) -> tuple[ExportJob, Path]:
    """The finished file of a job the user may fetch."""
    job = job_for(user, job_id)
    path = job_path(job) if job.file_name else None
    if job.status != "done" or path is None or not path.exists():
        raise NotReady("Tệp chưa sẵn sàng.", "The file is not ready yet.")
    return job, path
