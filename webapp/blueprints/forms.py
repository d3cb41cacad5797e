"""Turning an HTTP request (form, multipart or JSON) into a channel-neutral ReportDraft.

The fields are typed by a pydantic model (`ReportIn`), the project's one schema library:
the same model validates the web form and `/api/v1`, and its JSON Schema (2020-12, the
dialect of OpenAPI 3.1) is what `webapp.blueprints.openapi` publishes. Every refusal is the
usual ValidationError (a catalog text, in the visitor's language), never a 500.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from flask import Request
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import ValidationError as PydanticError
from werkzeug.exceptions import BadRequest

from webapp.errors import ValidationError
from webapp.extensions import db
from webapp.infra import i18n
from webapp.models import Category
from webapp.ratelimit import client_address
from webapp.services.intake import idempotency
from webapp.services.intake.reports import Contact, PhotoUpload, ReportDraft
from webapp.services.ioc.queries import CONTROL_CHARS

# field → its name in the messages below (lower case: a sentence may go on after it).
FIELD_LABELS = {
    "description": _l("nội dung phản ánh"),
    "lat": _l("tọa độ vị trí (vĩ độ)"),
    "lon": _l("tọa độ vị trí (kinh độ)"),
    "address": _l("địa chỉ"),
    "location_source": _l("nguồn vị trí"),
    "contact": _l("thông tin liên hệ"),
    "contact_name": _l("họ tên"),
    "contact_phone": _l("số điện thoại"),
    "contact_email": _l("e-mail"),
}


def _text(value: Any) -> Any:
    """Control characters other than tab and newlines are never part of a resident's text."""
    if isinstance(value, str) and CONTROL_CHARS.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _coordinate(value: Any) -> Any:
    """A number or a numeric string; never a boolean, NaN or infinity."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("a number is required")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError("a number is required") from None
    if isinstance(value, int | float) and not math.isfinite(value):
        raise ValueError("a finite number is required")
    return value


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


Text = Annotated[str, BeforeValidator(_text)]
Latitude = Annotated[Annotated[float, Field(ge=-90, le=90)] | None, BeforeValidator(_coordinate)]
Longitude = Annotated[Annotated[float, Field(ge=-180, le=180)] | None, BeforeValidator(_coordinate)]


def _optional(max_length: int, description: str) -> Any:
    return Annotated[
        Annotated[Text, Field(max_length=max_length)] | None,
        BeforeValidator(_blank_none),
        Field(default=None, description=description),
    ]


# Named (a type checker reads no call in an annotation); `Any` to it, pydantic types to pydantic.
_Address: Any = _optional(500, "A typed address when there is no point.")
_Contact: Any = _optional(200, "A phone number or an e-mail (a claim, never a key).")
_ContactName: Any = _optional(200, "The resident's name (for the IOC only).")
_ContactPhone: Any = _optional(40, "A phone number for the IOC to call back.")
_ContactEmail: Any = _optional(200, "An e-mail; it receives news once confirmed.")


class ReportIn(BaseModel):
    """A new report: the text, a point or an address, optional contact details."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    description: Annotated[
        Text,
        Field(
            max_length=4000,
            description="What is wrong, in the resident's words (at least 10 characters).",
        ),
    ]
    lat: Latitude = Field(default=None, description="Latitude (WGS 84) of the problem.")
    lon: Longitude = Field(default=None, description="Longitude (WGS 84) of the problem.")
    location_source: Annotated[
        Literal["pin", "device", "photo"] | None, BeforeValidator(_blank_none)
    ] = Field(
        default=None,
        description="pin: placed on the map; device: the phone's GPS; photo: read from a "
        "photo's EXIF by the client (which sent it downscaled, without its EXIF).",
    )
    address: _Address = None
    contact: _Contact = None
    contact_name: _ContactName = None
    contact_phone: _ContactPhone = None
    contact_email: _ContactEmail = None
    consent: Annotated[bool, BeforeValidator(_checkbox)] = Field(
        default=False,
        description="The resident accepted the privacy notice (required on the web form).",
    )


def _checkbox(value: Any) -> Any:
    """A form checkbox ("on", "1", "true") or a JSON boolean; anything else is no."""
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"on", "1", "true", "yes"}


def _capitalised(text: Any) -> str:
    rendered = str(text)
    return rendered[:1].upper() + rendered[1:]


def _sentence(text: Any) -> Any:
    """A lazy text that starts with a capital letter once rendered (a label may begin it)."""
    return LazyString(_capitalised, text)


def _first_error(error: PydanticError) -> ValidationError:
    problem = error.errors()[0]
    field = str(problem["loc"][0]) if problem.get("loc") else None
    label = FIELD_LABELS.get(field or "", _l("dữ liệu"))
    if problem.get("type") == "string_too_long":
        limit = problem.get("ctx", {}).get("max_length")
        return ValidationError(
            _sentence(_l("%(label)s quá dài (tối đa %(limit)s ký tự).", label=label, limit=limit)),
            field=field,
        )
    return ValidationError(_sentence(_l("%(label)s không hợp lệ.", label=label)), field=field)


def parse_report(data: Any) -> ReportIn:
    """Validate the fields of a new report (a dict from the form or the JSON body)."""
    if not isinstance(data, dict):
        raise ValidationError(
            _l("Dữ liệu gửi lên phải là một đối tượng JSON."),
        )
    try:
        return ReportIn.model_validate(data)
    except PydanticError as error:
        raise _first_error(error) from None


def _contact(data: ReportIn) -> Contact | None:
    raw = data.contact or ""
    phone = data.contact_phone or ""
    email = data.contact_email or ""
    if raw and "@" in raw:
        email = email or raw
    elif raw:
        phone = phone or raw
    name = data.contact_name or ""
    if not (phone or email or name):
        return None
    return Contact(name=name or None, phone=phone or None, email=email or None)


def _request_data(request: Request) -> Any:
    if request.is_json:
        try:
            return request.get_json()
        except BadRequest:
            raise ValidationError(_l("Dữ liệu JSON không đọc được.")) from None
    return request.form.to_dict()


def _uploads(request: Request) -> list[PhotoUpload]:
    uploads = []
    for position, item in enumerate(request.files.getlist("photos"), start=1):
        if not item or not (item.filename or item.content_length):
            continue  # an empty file input of the form: nothing chosen
        data = item.read()
        if not data:
            raise ValidationError(
                _l("Ảnh thứ %(position)s là tệp rỗng. Vui lòng chọn lại ảnh.", position=position),
                field="photos",
            )
        uploads.append(PhotoUpload(data=data, filename=item.filename))
    return uploads


def draft_from_request(request: Request, channel: str) -> ReportDraft:
    """Parse description, lat/lon, address, photos and contact from the request."""
    raw = _request_data(request)
    data = parse_report(raw)
    return ReportDraft(
        channel=channel,
        description=data.description,
        photos=_uploads(request),
        lat=data.lat,
        lon=data.lon,
        # A photo's point read by the browser is what the server reads from EXIF itself.
        location_source="exif" if data.location_source == "photo" else data.location_source,
        address=data.address,
        contact=_contact(data),
        client_address=client_address(),
        language=i18n.normalise(str(get_locale() or "")),
        consent=data.consent,
        client_key=_client_key(request, raw),
        **_category_answers(request),
    )


def _client_key(request: Request, raw: dict[str, Any]) -> str | None:
    """The idempotency key: the `Idempotency-Key` header, else the `client_key` field."""
    key = request.headers.get(idempotency.HEADER) or raw.get(idempotency.FIELD)
    return idempotency.checked(None if key is None else str(key))


def _category_answers(request: Request) -> dict[str, Any]:
    """The category the resident chose on the form (if any, and real) and the answers to its
    questions, named `attribute[<category>.<question>]`; other categories' fields are ignored."""
    code = (request.form.get("category") or "").strip()[:40]
    category = db.session.get(Category, code) if code else None
    if category is None or not category.active:
        return {}
    prefix = f"attribute[{category.code}."
    answers = {
        key[len(prefix) : -1]: value
        for key, value in request.form.items()
        if key.startswith(prefix) and key.endswith("]")
    }
    return {"category_hint": category.code, "attributes": answers}
