"""The OpenAPI 3.1 document of `/api/v1`, assembled from the pydantic models.

pydantic (the project's schema library) writes JSON Schema 2020-12, which is the schema
dialect of OpenAPI 3.1, so each model's schema goes into `components` as it is. What no
library gives for this four-operation API without imposing its own decorators and error
bodies is the list of paths; it is written here, next to the routes it describes, and
`tests/api/test_openapi.py` checks both agree with `app.url_map`. The docs page is
swagger-ui served from the `flask-swagger-ui` package (no CDN).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from webapp.blueprints.forms import ReportIn

REF = "#/components/schemas/{model}"


class Error(BaseModel):
    """The usual error body: a code, a message (Vietnamese unless ?lang=en), the field."""

    error: str = Field(description="A stable code: validation_error, not_found, rate_limited…")
    message: str
    field: str | None = None


class Photo(BaseModel):
    """Links to the public copies of a photo (metadata stripped)."""

    web: str
    thumb: str
    kind: str


class Event(BaseModel):
    """One public entry of the history."""

    kind: str
    at: str | None
    status: str | None
    status_label: str | None
    note: str | None


class ReportView(BaseModel):
    """A report as the caller may see it.

    By the code alone: the public view (scrubbed text, the point of its H3 r8 cell, nothing
    for sensitive categories, the status only for rejected or hidden reports). By the secret
    token: the whole report.
    """

    model_config = ConfigDict(extra="allow")

    code: str
    status: str
    status_label: str
    public: bool
    tracking_url: str
    sensitive: bool | None = None
    channel: str | None = None
    description: str | None = None
    category: str | None = None
    category_label: str | None = None
    agency: str | None = None
    unit: str | None = None
    lat: float | None = None
    lon: float | None = None
    location_precision: str | None = None
    address: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    due_at: str | None = None
    resolved_at: str | None = None
    public_note: str | None = None
    photos: list[Photo] | None = None
    history: list[Event] | None = None
    public_url: str | None = None


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(name: str, description: str, headers: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref(name)}},
    }
    if headers:
        body["headers"] = headers
    return body


RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "A request that cannot be read (e.g. a broken multipart body).",
        404: "Not found.",
        413: "The upload is too large.",
        422: "Invalid input (the usual error body, in Vietnamese).",
        429: "Too many requests from this client or identity.",
        503: "The server is busy decoding photos; try again later.",
    }
    return {
        str(code): _json("Error", texts[code], RETRY_AFTER if code in (429, 503) else None)
        for code in codes
    }


def _multipart_schema() -> dict[str, Any]:
    schema = ReportIn.model_json_schema(ref_template=REF)
    schema["properties"]["photos"] = {
        "type": "array",
        "maxItems": 5,
        "description": "Up to 5 photos (JPEG, PNG, WebP, HEIC).",
        "items": {"type": "string", "contentMediaType": "application/octet-stream"},
    }
    return schema


def _path_param(name: str, description: str, max_length: int) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "maxLength": max_length},
    }


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "One key per submission (e.g. a UUID): sent again with the same text, the report "
        "stored the first time answers instead of a second one."
    ),
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{16,100}$"},
}


def _nearby() -> dict[str, Any]:
    def number(name: str, limit: int, text: str) -> dict[str, Any]:
        schema = {"type": "number", "minimum": -limit, "maximum": limit}
        return {
            "name": name,
            "in": "query",
            "required": True,
            "description": text,
            "schema": schema,
        }

    category = {"type": "string", "maxLength": 40}
    return {
        "get": {
            "operationId": "nearbyReports",
            "summary": "Open reports near a point (public views, of the kind given)",
            "parameters": [
                number("lat", 90, "Latitude (WGS 84)."),
                number("lon", 180, "Longitude (WGS 84)."),
                {"name": "category", "in": "query", "required": False, "schema": category},
            ],
            "responses": {
                "200": {
                    "description": "Up to five open reports within the bots' radius.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_errors(422, 429),
            },
        }
    }


def document(server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    schemas = {
        model.__name__: model.model_json_schema(ref_template=REF)
        for model in (Error, ReportView, ReportIn)
    }
    for schema in list(schemas.values()):
        schemas.update(schema.pop("$defs", {}))
    created = _json(
        "ReportView",
        "Stored. The body is the resident's whole view with the secret tracking link.",
        {"Location": {"description": "The report's API URL.", "schema": {"type": "string"}}},
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Phản ánh hiện trường API",
            "version": "1",
            "description": (
                "Submit a report and read it. Messages and labels are Vietnamese; add "
                "?lang=en to any URL for English. "
                "Limits per client address and per identity answer 429 with Retry-After."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/reports": {
                "post": {
                    "operationId": "createReport",
                    "summary": "Submit a report",
                    "parameters": [IDEMPOTENCY_KEY],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {"schema": _multipart_schema()},
                            "application/json": {"schema": _ref("ReportIn")},
                        },
                    },
                    "responses": {"201": created, **_errors(400, 413, 422, 429, 503)},
                }
            },
            "/reports/{code}": {
                "get": {
                    "operationId": "getReport",
                    "summary": "The public view of a report",
                    "parameters": [
                        _path_param("code", "The public code, e.g. PA-2612-000123.", 40),
                    ],
                    "responses": {
                        "200": _json("ReportView", "The public view."),
                        **_errors(404, 429),
                    },
                }
            },
            "/track/{token}": {
                "get": {
                    "operationId": "trackReport",
                    "summary": "The resident's whole view, by the secret token of the link",
                    "parameters": [_path_param("token", "The token of the tracking link.", 64)],
                    "responses": {
                        "200": _json("ReportView", "The whole report."),
                        **_errors(404, 429),
                    },
                }
            },
            "/nearby": _nearby(),
            "/units.geojson": {
                "get": {
                    "operationId": "unitBoundaries",
                    "summary": "Commune/ward boundaries of the province (GeoJSON)",
                    "responses": {
                        "200": {
                            "description": "A GeoJSON FeatureCollection.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(429),
                    },
                }
            },
        },
        "components": {"schemas": schemas},
    }
