"""KPI tables as exported: one table as CSV, or every table as sheets of one workbook."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

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
    _l("Đơn vị"),
    _l("Tiếp nhận"),
    _l("Đã xử lý"),
    _l("Đang xử lý"),
    _l("Quá hạn"),
    _l("Đúng hạn"),
    _l("Trễ hạn"),
    _l("Trễ hạn có gia hạn"),
    _l("Không có hạn"),
    _l("Tỷ lệ đúng hạn (%)"),
    _l("Trung vị phản hồi đầu tiên (giờ)"),
    _l("Trung vị hoàn thành (giờ)"),
    _l("Điểm hài lòng TB"),
    _l("Số lượt đánh giá"),
)
DIMENSION_TITLES = {
    None: _l("Toàn tỉnh"),
    "agency": _l("Theo cơ quan"),
    "category": _l("Theo lĩnh vực"),
    "unit": _l("Theo xã, phường"),
    "week": _l("Theo tuần"),
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
    return pick(_l("Phản ánh tiếp nhận từ %(span)s", span=span), locale)


def kpi_export(period: stats.Period, by: str | None, fmt: str, locale: str = "vi") -> Export:
    """One KPI table as CSV, or every table as sheets of one workbook (by=None and xlsx)."""
    fmt = check_format(fmt)
    if by not in (None, "week", *stats.DIMENSIONS):
        raise ValidationError(_l("Bảng chỉ số không hợp lệ."))
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
