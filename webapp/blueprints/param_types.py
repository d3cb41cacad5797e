"""The value types of `webapp.blueprints.params`: bounded numbers, dates, codes, texts without
control characters, choices; and the Vietnamese/English words of their error messages.

Each type is an `Annotated` pydantic type whose validators raise errors of a kind listed
in MESSAGES; `params.parse` turns the first one into the project's ValidationError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

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


def fail(kind: str) -> PydanticCustomError:
    return PydanticCustomError(kind, MESSAGES[kind][1])


def _whole(low: int, high: int, kind: str) -> Callable[[Any], int]:
    """A whole number in ASCII digits from low to high ("²", "1e3", " 1", "-1" are refused)."""

    def check(value: Any) -> int:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 10):
            raise fail(kind)
        if not low <= int(text) <= high:
            raise fail(kind)
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
