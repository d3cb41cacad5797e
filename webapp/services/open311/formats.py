"""JSON and XML as GeoReport v2 writes them, errors included.

XML is built with the standard library's ElementTree: lists are a root element of items
(`services/service`, `service_requests/request`, `errors/error`), a list value repeats its
element (`values/value`, `formats/format`), booleans are `true`/`false`, None is empty.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from flask import Response

LISTS = {"values": "value", "attributes": "attribute", "endpoints": "endpoint", "formats": "format"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ElementTree.Element, item: dict[str, Any]) -> None:
    for key, value in item.items():
        child = ElementTree.SubElement(parent, key)
        if isinstance(value, list):
            for entry in value:
                element = ElementTree.SubElement(child, LISTS.get(key, "item"))
                if isinstance(entry, dict):
                    _fill(element, entry)
                else:
                    element.text = _text(entry)
        elif isinstance(value, dict):
            _fill(child, value)
        else:
            child.text = _text(value)


def render(fmt: str, body: Any, root: str, item: str | None = None, status: int = 200) -> Response:
    """A list (root/item) or one object (root) in the asked format."""
    if fmt == "json":
        return Response(
            json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json"
        )
    element = ElementTree.Element(root)
    if item is None:
        _fill(element, body)
    else:
        for entry in body:
            _fill(ElementTree.SubElement(element, item), entry)
    xml = ElementTree.tostring(element, encoding="unicode")
    return Response(
        f'<?xml version="1.0" encoding="utf-8"?>\n{xml}', status=status, mimetype="text/xml"
    )


def errors(fmt: str, status: int, description: str) -> Response:
    """The spec's error list: [{code, description}]."""
    return render(fmt, [{"code": status, "description": description}], "errors", "error", status)
