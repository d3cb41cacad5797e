"""KPI tables as exported: one table as CSV, or every table as sheets of one workbook."""

from __future__ import annotations

from typing import Any

from webapp.errors import ValidationError
from webapp.services.ioc import stats
from webapp.services.ioc.exports.writers import (
    MIMETYPES,
    Export,
    Sheet,
    check_format,
    column_headers,
    csv_chunks,
    pick,
    xlsx_bytes,
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


def period_line(period: stats.Period, locale: str) -> str:
    """The line above a table saying which reports it counts."""
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
    headers = column_headers(KPI_HEADERS, locale)
    if fmt == "csv":
        rows = [kpi_row(k) for k in kpi_rows(period, by, locale)]
        return Export(name, MIMETYPES[fmt], csv_chunks(headers, rows))
    tables = [by] if by else [None, "agency", "category", "unit", "week"]
    sheets = [
        Sheet(
            pick(DIMENSION_TITLES[t], locale),
            headers,
            [kpi_row(k) for k in kpi_rows(period, t, locale)],
            intro=[period_line(period, locale)],
        )
        for t in tables
    ]
    return Export(name, MIMETYPES[fmt], xlsx_bytes(sheets))
