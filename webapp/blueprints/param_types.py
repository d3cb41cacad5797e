"""The value types of `webapp.blueprints.params`: bounded numbers, dates, codes, texts without
control characters, choices; and the catalog texts of their error messages.

Each type is an `Annotated` pydantic type whose validators raise errors of a kind listed
in MESSAGES; `params.parse` turns the first one into the project's ValidationError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from webapp.models import ReportStatus, Urgency
from webapp.services.ioc import queries, stats

M = TypeVar("M", bound=BaseModel)

MAX_PAGE = 10_000
MAX_ZOOM = 30
MAX_EXTENSION_DAYS = 30  # deadline_changes.request_extension: 1 to 30 working days
SHORT_TEXT = 500  # one-line inputs: reasons, codes typed by hand, a search
LONG_TEXT = 10_000  # text areas: replies, notes, a redacted description
MAX_CODES = 500  # reports ticked for one bulk assignment

REPORT_CODE_RE = re.compile(r"[A-Za-z0-9-]{1,20}")  # PA-2611-000123
CODE_RE = re.compile(r"[A-Za-z0-9_.-]{1,40}")  # category and ward codes
PHOTO_KEY_RE = re.compile(r"[0-9a-f]{32}")


def N_(text: str) -> str:
    """Marks a text for the catalog; `params` renders it with the error's values (`_l`)."""
    return text


# error type → the end of "the field … " (a catalog msgid; the error's context fills it in).
MESSAGES: dict[str, str] = {
    "id": N_("phải là một số nguyên dương"),
    "days": N_("phải từ %(low)s đến %(high)s ngày"),
    "zoom": N_("phải là một số nguyên"),
    "date": N_("phải là một ngày (YYYY-MM-DD) từ năm 2000 đến 2100"),
    "control": N_("chứa ký tự không hợp lệ"),
    "code": N_("không phải là một mã hợp lệ"),
    "choice": N_("không thuộc các lựa chọn cho phép"),
    "string_too_long": N_("quá dài (tối đa %(max_length)s ký tự)"),
    "too_long": N_("có quá nhiều giá trị (tối đa %(max_length)s)"),
    "missing": N_("là bắt buộc"),
}
DEFAULT_MESSAGE = N_("không hợp lệ")
# field (as sent) → its label in the message.
LABELS: dict[str, Any] = {
    "agency": _l("cơ quan"),
    "assignee": _l("cán bộ được giao"),
    "bbox": _l("khung bản đồ"),
    "by": _l("bảng chỉ số"),
    "category": _l("lĩnh vực"),
    "cell": _l("ô bản đồ"),
    "code": _l("mã xác thực"),
    "codes": _l("phản ánh đã chọn"),
    "confirm": _l("nhập lại mật khẩu"),
    "current": _l("mật khẩu hiện tại"),
    "days": _l("số ngày gia hạn"),
    "due": _l("hạn xử lý"),
    "email": _l("e-mail"),
    "fmt": _l("định dạng tệp"),
    "from": _l("từ ngày"),
    "note": _l("ghi chú"),
    "original": _l("phản ánh gốc"),
    "outcome": _l("kết quả"),
    "password": _l("mật khẩu"),
    "photo": _l("ảnh"),
    "q": _l("từ khóa tìm kiếm"),
    "reason": _l("lý do"),
    "session": _l("phiên đăng nhập"),
    "sort": _l("thứ tự"),
    "status": _l("trạng thái"),
    "text": _l("nội dung"),
    "to": _l("đến ngày"),
    "totp": _l("mã xác thực"),
    "unit": _l("xã/phường"),
    "urgency": _l("mức độ"),
    "week": _l("tuần"),
    "zoom": _l("mức thu phóng"),
}


# --------------------------------------------------------------------------- types


def fail(kind: str, **context: Any) -> PydanticCustomError:
    """An error of a kind listed in MESSAGES; `context` fills in its message."""
    return PydanticCustomError(kind, f"invalid value ({kind})", context)


def _whole(low: int, high: int, kind: str) -> Callable[[Any], int]:
    """A whole number in ASCII digits from low to high ("²", "1e3", " 1", "-1" are refused)."""

    def check(value: Any) -> int:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 10):
            raise fail(kind, low=low, high=high)
        if not low <= int(text) <= high:
            raise fail(kind, low=low, high=high)
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
        raise fail("zoom")
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 100):
        raise fail("zoom")
    return min(max(int(text), 0), MAX_ZOOM)


def _iso_date(value: Any) -> date:
    day = queries.parse_date(value)
    if day is None:
        raise fail("date")
    return day


def _no_control(value: Any) -> Any:
    if isinstance(value, str) and queries.CONTROL_CHARS.search(value):
        raise fail("control")
    return value


def _matching(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise fail("code")
        return value

    return check


def one_of(*choices: str) -> Any:
    """A text that must be one of the choices (an enumeration of known values)."""
    allowed = frozenset(choices)

    def check(value: str) -> str:
        if value not in allowed:
            raise fail("choice")
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
Text40 = text(40)  # a code from the authenticator app or a report code
Text200 = text(200)  # an e-mail address, a bounding box
UnstrippedText200 = text(200, strip=False)  # a password, as typed
Code = Annotated[str, BeforeValidator(_no_control), AfterValidator(_matching(CODE_RE))]
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
        raise fail("code")
    return value


Cell = Annotated[str, BeforeValidator(_no_control), AfterValidator(_h3_cell)]
