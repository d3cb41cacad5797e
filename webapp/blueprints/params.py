"""Typed parameters of the back office (/bo/) and the IOC pages (/ioc/).

Every query string, form post and path variable these pages read goes through a model or a
type of this module, so malformed input is answered with a 4xx and never reaches the database
or the date arithmetic. What a bad value gives depends on the kind of parameter:

- Path variables (report code, photo key, export job id, admin object id): 404, the URL names
  nothing that can exist (`report_code`, `photo_key`, `path_id`, `object_id`).
- Filters and navigation of GET pages (the queue, the heatmap and its data, the KPI page and the
  period of its export, the export page, the weekly summary's `week`, `json`, login's `next`):
  the bad parameter alone is ignored, its default applies and the page answers 200, as
  `ReportFilter.from_args` always did with a malformed date. They are links people bookmark
  and share; a 422 would help nobody. `page` is clamped to 1..10 000 (not a number: 1).
- GET parameters that choose which file is made (`by` and `fmt` of the KPI export): 422.
- Form posts: 422 with the form's usual message. The report actions flash it on the report
  page (re-rendered, status 422); bulk assignment and the list export show the error page;
  the login form shows its error. The admin forms are checked by
  `webapp.services.administration.admin` (200 and a flashed message, as before); the hotline
  form by `webapp.blueprints.forms`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, TypeVar, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError

from webapp.errors import NotFound, ValidationError
from webapp.models import ReportStatus, Urgency
from webapp.services.ioc import queries, stats

M = TypeVar("M", bound=BaseModel)

MAX_PAGE = 10_000
MAX_ZOOM = 30
MAX_EXTENSION_DAYS = 30  # handling.request_extension: 1 to 30 working days
SHORT_TEXT = 500  # one-line inputs: reasons, codes typed by hand, a search
LONG_TEXT = 10_000  # text areas: replies, notes, a redacted description
MAX_CODES = 500  # reports ticked for one bulk assignment

_REPORT_CODE = re.compile(r"[A-Za-z0-9-]{1,20}")  # PA-2611-000123
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")  # category and ward codes
_PHOTO_KEY = re.compile(r"[0-9a-f]{32}")

# error type → (Vietnamese, English) end of "the field … ".
MESSAGES: dict[str, tuple[str, str]] = {
    "id": ("phải là một số nguyên dương", "must be a positive whole number"),
    "days": (
        f"phải từ 1 đến {MAX_EXTENSION_DAYS} ngày",
        f"must be from 1 to {MAX_EXTENSION_DAYS} days",
    ),
    "zoom": ("phải là một số nguyên", "must be a whole number"),
    "date": (
        "phải là một ngày (YYYY-MM-DD) từ năm 2000 đến 2100",
        "must be a date (YYYY-MM-DD) from 2000 to 2100",
    ),
    "control": ("chứa ký tự không hợp lệ", "contains characters that are not allowed"),
    "code": ("không phải là một mã hợp lệ", "is not a valid code"),
    "choice": ("không thuộc các lựa chọn cho phép", "is not one of the allowed choices"),
    "string_too_long": (
        "quá dài (tối đa {max_length} ký tự)",
        "is too long (at most {max_length} characters)",
    ),
    "too_long": (
        "có quá nhiều giá trị (tối đa {max_length})",
        "has too many values (at most {max_length})",
    ),
    "missing": ("là bắt buộc", "is required"),
}
DEFAULT_MESSAGE = ("không hợp lệ", "is not valid")
# field (as sent) → (Vietnamese, English) label.
LABELS: dict[str, tuple[str, str]] = {
    "agency": ("cơ quan", "agency"),
    "assignee": ("cán bộ được giao", "assignee"),
    "bbox": ("khung bản đồ", "map bounds"),
    "by": ("bảng chỉ số", "KPI table"),
    "category": ("lĩnh vực", "category"),
    "cell": ("ô bản đồ", "map cell"),
    "code": ("mã xác thực", "code"),
    "codes": ("phản ánh đã chọn", "selected reports"),
    "confirm": ("nhập lại mật khẩu", "password again"),
    "current": ("mật khẩu hiện tại", "current password"),
    "days": ("số ngày gia hạn", "extension days"),
    "due": ("hạn xử lý", "deadline"),
    "email": ("e-mail", "e-mail"),
    "fmt": ("định dạng tệp", "file format"),
    "from": ("từ ngày", "from date"),
    "note": ("ghi chú", "note"),
    "original": ("phản ánh gốc", "original report"),
    "outcome": ("kết quả", "outcome"),
    "password": ("mật khẩu", "password"),
    "photo": ("ảnh", "photo"),
    "q": ("từ khóa tìm kiếm", "search"),
    "reason": ("lý do", "reason"),
    "session": ("phiên đăng nhập", "session"),
    "sort": ("thứ tự", "sort order"),
    "status": ("trạng thái", "status"),
    "text": ("nội dung", "text"),
    "to": ("đến ngày", "to date"),
    "totp": ("mã xác thực", "code"),
    "unit": ("xã/phường", "commune/ward"),
    "urgency": ("mức độ", "urgency"),
    "week": ("tuần", "week"),
    "zoom": ("mức thu phóng", "zoom"),
}


# --------------------------------------------------------------------------- types


def _fail(kind: str) -> PydanticCustomError:
    return PydanticCustomError(kind, MESSAGES[kind][1])


def _whole(low: int, high: int, kind: str):
    """A whole number in ASCII digits from low to high ("²", "1e3", " 1", "-1" are refused)."""

    def check(value: Any) -> int:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 10):
            raise _fail(kind)
        if not low <= int(text) <= high:
            raise _fail(kind)
        return int(text)

    return check


def _page(value: Any) -> int:
    """A page number clamped to 1..MAX_PAGE; anything but ASCII digits is page 1."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not (isinstance(text, str) and text.isascii() and text.isdigit()):
        return 1
    return min(max(int(text), 1), MAX_PAGE) if len(text) <= 20 else MAX_PAGE


def _zoom(value: Any) -> int:
    """A map zoom: an integer clamped to 0..MAX_ZOOM (the heatmap clamps it further)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str):
        raise _fail("zoom")
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 100):
        raise _fail("zoom")
    return min(max(int(text), 0), MAX_ZOOM)


def _iso_date(value: Any) -> date:
    day = queries.parse_date(value)
    if day is None:
        raise _fail("date")
    return day


def _no_control(value: Any) -> Any:
    if isinstance(value, str) and queries.CONTROL_CHARS.search(value):
        raise _fail("control")
    return value


def _matching(pattern: re.Pattern[str]):
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise _fail("code")
        return value

    return check


def one_of(*choices: str) -> Any:
    """A text that must be one of the choices (an enumeration of known values)."""
    allowed = frozenset(choices)

    def check(value: str) -> str:
        if value not in allowed:
            raise _fail("choice")
        return value

    return Annotated[str, BeforeValidator(_no_control), AfterValidator(check)]


PositiveId = Annotated[int, BeforeValidator(_whole(1, queries.MAX_ID, "id"))]
Days = Annotated[int, BeforeValidator(_whole(1, MAX_EXTENSION_DAYS, "days"))]
Zoom = Annotated[int, BeforeValidator(_zoom)]
Page = Annotated[int, BeforeValidator(_page)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


def text(max_length: int, *, strip: bool = True) -> Any:
    """A text of at most max_length characters, without control characters."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length, strip_whitespace=strip),
        BeforeValidator(_no_control),
    ]


ShortText = text(SHORT_TEXT)
LongText = text(LONG_TEXT)
Code = Annotated[str, BeforeValidator(_no_control), AfterValidator(_matching(_CODE))]
Status = one_of("open", *(s.value for s in ReportStatus))
UrgencyChoice = one_of(*(u.value for u in Urgency))
Due = one_of("soon", "overdue")
Sort = one_of("due", "new", "old")
Outcome = one_of(*queries.OUTCOMES)
Format = one_of("csv", "xlsx")
KpiTable = one_of("week", *stats.DIMENSIONS)


def _h3_cell(value: str) -> str:
    value = value.lower()
    if not queries.valid_cell(value):
        raise _fail("code")
    return value


Cell = Annotated[str, BeforeValidator(_no_control), AfterValidator(_h3_cell)]


# --------------------------------------------------------------------------- models


class Params(BaseModel):
    """Base of every model: unknown keys ignored, text stripped, a blank value is no value."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_missing(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class ListFilter(Params):
    """The filters of a report list (queue, heatmap, export); see `queries.ReportFilter`."""

    status: Status | None = None
    category: Code | None = None
    unit: Code | None = None
    agency: PositiveId | None = None
    due: Due | None = None
    date_from: IsoDate | None = Field(None, alias="from")
    date_to: IsoDate | None = Field(None, alias="to")
    q: ShortText | None = None
    sort: Sort = "due"
    outcome: Outcome | None = None
    cell: Cell | None = None

    def to_filter(self) -> queries.ReportFilter:
        """The service's filter."""
        return queries.ReportFilter(
            status=self.status,
            category=self.category,
            unit=self.unit,
            agency_id=self.agency,
            due=self.due,
            date_from=self.date_from,
            date_to=self.date_to,
            q=self.q,
            sort=self.sort,
            outcome=self.outcome,
            cell=self.cell,
        )


class QueueArgs(ListFilter):
    """GET /bo/: the filters and the page."""

    page: Page = 1


class HeatmapArgs(ListFilter):
    """GET /ioc/ban-do/du-lieu: the filters, the zoom and the viewport ("w,s,e,n")."""

    zoom: Zoom | None = None
    bbox: text(200) | None = None


class ExportForm(ListFilter):
    """POST /ioc/xuat: the filters of the list and the format."""

    fmt: Format = "csv"


class PeriodArgs(Params):
    """?from=&to= of the KPI pages."""

    date_from: IsoDate | None = Field(None, alias="from")
    date_to: IsoDate | None = Field(None, alias="to")

    def to_period(self) -> stats.Period:
        """The period (by default the current month up to today)."""
        return stats.Period.between(self.date_from, self.date_to)


class KpiTableArgs(Params):
    """?by=&fmt= of the KPI export (the period is read apart, leniently)."""

    by: KpiTable | None = None
    fmt: Format = "xlsx"


class WeekArgs(Params):
    """?week= of the weekly summary: any day of the week."""

    week: IsoDate | None = None


class JobArgs(Params):
    """?json= of an export job page: any value asks for JSON."""

    json_: ShortText | None = Field(None, alias="json")


def _next_path(value: str) -> str:
    if not (value == "/bo" or value.startswith("/bo/")):
        raise _fail("code")
    return value


class LoginArgs(Params):
    """?next= of the sign-in page: a back-office path only."""

    next: Annotated[ShortText, AfterValidator(_next_path)] | None = None


class LoginForm(Params):
    """POST /bo/login."""

    email: text(200) = ""
    password: text(200, strip=False) = ""
    totp: text(40) | None = None


class PasswordChangeForm(Params):
    """POST /bo/tai-khoan/mat-khau."""

    current: text(200, strip=False) = ""
    password: text(200, strip=False) = ""
    confirm: text(200, strip=False) = ""


class CodeForm(Params):
    """POST /bo/tai-khoan/xac-thuc-hai-buoc: a code from the authenticator app."""

    code: text(40) = ""


class SessionForm(Params):
    """Ending one session (its stored hash) or, without one, all of them."""

    session: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None


class BulkAssignForm(Params):
    """POST /bo/bulk-assign: who, and the codes of the ticked reports."""

    assignee: PositiveId
    codes: Annotated[list[text(40)], Field(max_length=MAX_CODES)] = []


# The forms of the report actions (POST /bo/r/<code>/<action>).


class NoForm(Params):
    """An action without fields."""


class TextForm(Params):
    """reply, request_info, info_received, note, redact."""

    text: LongText = ""


class NoteForm(Params):
    """The decisions on a transfer or an extension, with an optional note."""

    note: LongText | None = None


class ResolveForm(Params):
    """resolve: the public note (the result photo is a file of the request)."""

    note: LongText = ""


class TransferForm(Params):
    """transfer: to which agency, and why."""

    agency: PositiveId
    reason: ShortText = ""


class RejectForm(Params):
    """reject: a reason code of the list (checked by the service) and a note."""

    reason: ShortText = ""
    note: LongText | None = None


class DuplicateForm(Params):
    """duplicate: the code of the original, typed by hand."""

    original: ShortText = ""


class AssignForm(Params):
    """assign_person: a member of the agency."""

    assignee: PositiveId


class UrgencyForm(Params):
    """urgency: the new handling class and why."""

    urgency: UrgencyChoice
    reason: ShortText = ""


class ExtensionForm(Params):
    """extension: how many working days more, and why."""

    days: Days
    reason: ShortText = ""


class TriageForm(Params):
    """triage: the category, and the agency (none: the routing rules decide)."""

    category: Code | None = None
    agency: PositiveId | None = None


class PhotoForm(Params):
    """photo_blur, photo_hide: which photo."""

    photo: PositiveId


# --------------------------------------------------------------------------- parsing


def _as_dict(model: type[BaseModel], source: Any) -> dict[str, Any]:
    if not hasattr(source, "getlist"):
        return dict(source or {})
    lists = {
        field.alias or name
        for name, field in model.model_fields.items()
        if get_origin(field.annotation) is list
    }
    return {key: source.getlist(key) if key in lists else source.get(key) for key in source}


def _first_error(error: PydanticError) -> ValidationError:
    problem = error.errors()[0]
    field = str(problem["loc"][0]) if problem.get("loc") else None
    label_vi, label_en = LABELS.get(field or "", (field or "dữ liệu", field or "input"))
    vi, en = MESSAGES.get(problem["type"], DEFAULT_MESSAGE)
    ctx = problem.get("ctx") or {}
    return ValidationError(
        f"Trường “{label_vi}” {vi.format(**ctx)}.",
        f"The field “{label_en}” {en.format(**ctx)}.",
        field=field,
    )


def parse(model: type[M], source: Any, *, ignore_invalid: bool = False) -> M:
    """The model of a query string, a form (MultiDict) or a dict.

    A bad value raises the project's ValidationError (422, the first bad field); with
    `ignore_invalid` the bad parameters are dropped instead and their defaults apply.
    """
    data = _as_dict(model, source)
    while True:
        try:
            return model.model_validate(data)
        except PydanticError as error:
            bad = {str(e["loc"][0]) for e in error.errors() if e.get("loc")} & data.keys()
            if not ignore_invalid or not bad:
                raise _first_error(error) from None
            data = {k: v for k, v in data.items() if k not in bad}


def _not_found() -> NotFound:
    return NotFound("Không tìm thấy trang hoặc phản ánh.", "Not found.")


def report_code(code: str) -> str:
    """The upper-cased report code of a URL or a form; NotFound when it cannot be one."""
    if not isinstance(code, str) or not _REPORT_CODE.fullmatch(code):
        raise _not_found()
    return code.upper()


def photo_key(key: str) -> str:
    """A photo key of a URL (32 hex digits); NotFound otherwise."""
    if not isinstance(key, str) or not _PHOTO_KEY.fullmatch(key):
        raise _not_found()
    return key


def path_id(value: Any) -> int:
    """An INTEGER key of a URL; NotFound otherwise (Flask's <int:> has no upper bound)."""
    parsed = queries.parse_id(value)
    if parsed is None:
        raise _not_found()
    return parsed


def object_id(model: type, value: str) -> int | str:
    """The primary key of an admin table row named in a URL, typed like the column."""
    column = model.__table__.primary_key.columns.values()[0]
    if column.type.python_type is int:
        return path_id(value)
    if not _CODE.fullmatch(value or ""):
        raise _not_found()
    return value
