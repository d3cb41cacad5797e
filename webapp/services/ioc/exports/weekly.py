"""The leadership's weekly summary: last week's KPIs per agency and category, the total and
who is late now, as a workbook downloaded from the IOC or e-mailed every Monday.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l

from webapp.extensions import db
from webapp.infra import storage
from webapp.models.types import utcnow
from webapp.services.ioc import stats
from webapp.services.ioc.exports.kpi import DIMENSION_TITLES, KPI_HEADERS, kpi_row, period_line
from webapp.services.ioc.exports.writers import (
    MIMETYPES,
    Export,
    Sheet,
    column_headers,
    local,
    pick,
    xlsx_bytes,
)
from webapp.services.messaging import outbox

log = logging.getLogger(__name__)
# Weekly workbooks are kept under this folder of the exports directory.
WEEKLY_DIR = "weekly"
# The columns of the sheet of agencies that are late now.
OVERDUE_HEADERS = (
    _l("Cơ quan"),
    _l("Số phản ánh đang quá hạn"),
    _l("Hạn xử lý cũ nhất"),
    _l("Số ngày quá hạn (lâu nhất)"),
)


def weekly_summary(
    period: stats.Period | None = None, locale: str = "vi", now: datetime | None = None
) -> Export:
    """The leadership's weekly workbook: last week's KPIs per agency, the total, what is late."""
    now = now or utcnow()
    period = period or stats.Period.last_week(now)
    title = pick(_l("Báo cáo tổng hợp xử lý phản ánh tuần"), locale)
    made = f"{local(now):%d/%m/%Y %H:%M}"
    intro = [title, period_line(period, locale), pick(_l("Lập lúc %(time)s", time=made), locale)]
    headers = column_headers(KPI_HEADERS, locale)
    overdue_headers = column_headers(OVERDUE_HEADERS, locale)
    overdue = stats.overdue_agencies(now=now, locale=locale)
    sheets = [
        Sheet(
            pick(DIMENSION_TITLES[None], locale),
            headers,
            [kpi_row(stats.totals(period, now=now, locale=locale))],
            intro,
        ),
        Sheet(
            pick(DIMENSION_TITLES["agency"], locale),
            headers,
            [kpi_row(k) for k in stats.table(period, "agency", now=now, locale=locale)],
            intro,
        ),
        Sheet(
            pick(DIMENSION_TITLES["category"], locale),
            headers,
            [kpi_row(k) for k in stats.table(period, "category", now=now, locale=locale)],
            intro,
        ),
        Sheet(
            pick(_l("Đang quá hạn"), locale),
            overdue_headers,
            [[u.name, u.overdue, local(u.oldest_due_at), u.days_overdue] for u in overdue],
            [title, pick(_l("Tình hình lúc %(time)s", time=made), locale)],
        ),
    ]
    name = f"tong-hop-tuan-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"
    return Export(name, MIMETYPES["xlsx"], xlsx_bytes(sheets))


def leadership_addresses() -> list[str]:
    """LEADERSHIP_EMAILS as a list."""
    raw = current_app.config["LEADERSHIP_EMAILS"]
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
        lines += ["", f"Đơn vị đang có phản ánh quá hạn (lúc {local(now):%H:%M %d/%m/%Y}):"]
        lines += [f"- {u.name}: {u.overdue} phản ánh" for u in late_units[:10]]
        if len(late_units) > 10:
            lines.append(f"- … và {len(late_units) - 10} đơn vị khác (xem tệp đính kèm)")
    else:
        lines += ["", "Không đơn vị nào có phản ánh quá hạn."]
    lines += ["", "Chi tiết theo cơ quan và lĩnh vực trong tệp Excel đính kèm."]
    return "\n".join(lines)


def mail_weekly_summary(now: datetime | None = None) -> int:
    """Write last week's workbook and queue it to each leadership address, once per week."""
    now = now or utcnow()
    recipients = leadership_addresses()
    if not recipients:
        log.info("weekly summary: LEADERSHIP_EMAILS is empty, nothing sent")
        return 0
    period = stats.Period.last_week(now)
    export = weekly_summary(period, now=now)
    relative = f"{WEEKLY_DIR}/{export.file_name}"
    if not isinstance(export.body, bytes):  # a workbook is made whole, never streamed
        raise TypeError("the weekly workbook must be bytes")
    storage.export_objects().put(relative, export.body, private=True, content_type=export.mimetype)
    body = weekly_mail_text(period, now)
    subject = f"Báo cáo tổng hợp xử lý phản ánh tuần {period.start:%d/%m} – {period.end:%d/%m/%Y}"
    attachment = {
        "file": relative,
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
