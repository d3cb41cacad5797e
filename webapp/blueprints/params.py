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

from typing import Annotated, Any, get_origin

from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic import ValidationError as PydanticError

from webapp.blueprints.param_types import (
    CODE_RE,
    DEFAULT_MESSAGE,
    LABELS,
    MAX_CODES,
    MESSAGES,
    PHOTO_KEY_RE,
    REPORT_CODE_RE,
    Cell,
    Code,
    Days,
    Due,
    Format,
    IsoDate,
    KpiTable,
    LongText,
    M,
    Outcome,
    Page,
    PositiveId,
    ShortText,
    Sort,
    Status,
    Text40,
    Text200,
    UnstrippedText200,
    UrgencyChoice,
    Zoom,
    fail,
)
from webapp.errors import NotFound, ValidationError
from webapp.extensions import Model
from webapp.services.ioc import queries, stats

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
    bbox: Text200 | None = None


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
        raise fail("code")
    return value


class LoginArgs(Params):
    """?next= of the sign-in page: a back-office path only."""

    next: Annotated[ShortText, AfterValidator(_next_path)] | None = None


class LoginForm(Params):
    """POST /bo/login."""

    email: Text200 = ""
    password: UnstrippedText200 = ""
    totp: Text40 | None = None


class PasswordChangeForm(Params):
    """POST /bo/tai-khoan/mat-khau."""

    current: UnstrippedText200 = ""
    password: UnstrippedText200 = ""
    confirm: UnstrippedText200 = ""


class CodeForm(Params):
    """POST /bo/tai-khoan/xac-thuc-hai-buoc: a code from the authenticator app."""

    code: Text40 = ""


class SessionForm(Params):
    """Ending one session (its stored hash) or, without one, all of them."""

    session: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None


class BulkAssignForm(Params):
    """POST /bo/bulk-assign: who, and the codes of the ticked reports."""

    assignee: PositiveId
    codes: Annotated[list[Text40], Field(max_length=MAX_CODES)] = []


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


class NearbyArgs(Params):
    """nearby: a point in WGS 84 and, optionally, the kind of problem."""

    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
    category: Code | None = None


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
    label = LABELS.get(field or "") or field or _l("dữ liệu")
    ctx = problem.get("ctx") or {}
    problem_text = _l(MESSAGES.get(problem["type"], DEFAULT_MESSAGE), **ctx)
    return ValidationError(
        _l("Trường “%(label)s” %(problem)s.", label=label, problem=problem_text), field=field
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
    return NotFound(_l("Không tìm thấy trang hoặc phản ánh."))


def report_code(code: str) -> str:
    """The upper-cased report code of a URL or a form; NotFound when it cannot be one."""
    if not isinstance(code, str) or not REPORT_CODE_RE.fullmatch(code):
        raise _not_found()
    return code.upper()


def photo_key(key: str) -> str:
    """A photo key of a URL (32 hex digits); NotFound otherwise."""
    if not isinstance(key, str) or not PHOTO_KEY_RE.fullmatch(key):
        raise _not_found()
    return key


def path_id(value: Any) -> int:
    """An INTEGER key of a URL; NotFound otherwise (Flask's <int:> has no upper bound)."""
    parsed = queries.parse_id(value)
    if parsed is None:
        raise _not_found()
    return parsed


def object_id(model: type[Model], value: str) -> int | str:
    """The primary key of an admin table row named in a URL, typed like the column."""
    column = model.__table__.primary_key.columns.values()[0]
    if column.type.python_type is int:
        return path_id(value)
    if not CODE_RE.fullmatch(value or ""):
        raise _not_found()
    return value
