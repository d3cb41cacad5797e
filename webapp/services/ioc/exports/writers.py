"""CSV and Excel writers of exports: streamed CSV with a BOM, write-only workbooks, and the
guard that keeps a resident's text from running as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font

from webapp.errors import ValidationError
from webapp.infra import i18n
from webapp.models.types import utcnow
from webapp.services.ioc.queries import LOCAL_TZ

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMATS = ("csv", "xlsx")
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH = 1000
# A cell starting with one of these is a formula to Excel and LibreOffice: residents' text
# must never run as one (CSV injection), so it is prefixed with an apostrophe.
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")


@dataclass
class Export:
    """A file answered at once: its name, MIME type and body (bytes or chunks)."""

    file_name: str
    mimetype: str
    body: bytes | Iterator[bytes]


@dataclass
class Sheet:
    """One worksheet: a title, the column headers and the rows."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    intro: Sequence[str] = ()


def check_format(fmt: str | None) -> str:
    """The format, or a validation error."""
    if fmt not in FORMATS:
        raise ValidationError(_l("Định dạng xuất phải là CSV hoặc Excel."))
    return fmt


def pick(label: Any, locale: str) -> str:
    """A label (a lazy catalog text) rendered in `locale`."""
    return i18n.in_language(label, locale)


def column_headers(spec: Sequence[Any], locale: str) -> list[str]:
    """Column headers (lazy catalog texts) rendered in `locale`."""
    return [pick(h, locale) for h in spec]


def local(value: datetime | None) -> datetime | None:
    """Local wall-clock time, naive: spreadsheets have no time zones."""
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None) if value else None


def stamp(now: datetime | None = None) -> str:
    """The local time for a file name (20260302-0800)."""
    return (now or utcnow()).astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")


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


def _xlsx_cell(ws: WriteOnlyWorksheet, value: Any, bold: bool = False) -> Cell:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # openpyxl would store it as a formula
    if isinstance(value, datetime):
        cell.number_format = "dd/mm/yyyy hh:mm"
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(sheets: Sequence[Sheet], target: str | Path | IO[bytes]) -> int:
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
