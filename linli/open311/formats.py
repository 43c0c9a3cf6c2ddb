"""Open311's two wire formats (open311.md G2, G4, G5, E1): XML built with ElementTree,
without namespaces, and JSON in the Spark convention, in which the XML root container is
dropped so that lists of services, requests, tokens, updates and errors are top-level
arrays, while a service definition and discovery are objects."""

import json
from datetime import datetime
from xml.etree import ElementTree as ET  # noqa: S405 - output only; input is never XML

from django.http import HttpResponse
from django.utils import timezone

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
# The element of each member of a repeated child, e.g. <attributes><attribute>…
SINGULAR = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "notes": "note",
    "photos": "photo",
    "errors": "error",
    "groups": "group",
    "media_urls": "media_url",
}


def w3c(moment: datetime | None) -> str:
    """A W3C date-time that always carries its zone, in the street's time zone
    (2026-05-01T08:30:00+08:00), or "" for none."""
    if moment is None:
        return ""
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value)
    return str(value)


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, list | tuple):
        member = SINGULAR.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, member), child)
    else:
        element.text = _text(value)


def xml_bytes(root: str, item: str | None, data) -> bytes:
    """`data` under <root>: a list of objects each as <item>, or one object's fields."""
    element = ET.Element(root)
    if item is None:
        _fill(element, data)
    else:
        for entry in data:
            _fill(ET.SubElement(element, item), entry)
    return XML_DECLARATION + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def _plain(value):
    if isinstance(value, dict):
        return {name: _plain(child) for name, child in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(child) for child in value]
    if isinstance(value, datetime):
        return w3c(value)
    return value


def json_bytes(data) -> bytes:
    text = json.dumps(_plain(data), ensure_ascii=False)
    # As Django's json_script does: a description holding "<script>" reaches a browser
    # that renders the answer as HTML as inert escapes, still the same JSON string.
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.encode("utf-8")


def respond(fmt: str, root: str, item: str | None, data, *, status: int = 200) -> HttpResponse:
    """The answer in `fmt`: XML under <root> (with <item> per member of a list), or JSON
    (the list itself, or the object)."""
    if fmt == "xml":
        return HttpResponse(xml_bytes(root, item, data), content_type=XML_TYPE, status=status)
    return HttpResponse(json_bytes(data), content_type=JSON_TYPE, status=status)


def errors(fmt: str, status: int, problems: list[tuple[str, str]]) -> HttpResponse:
    """E1: <errors><error><code/><description/></error>…; JSON an array of the same."""
    data = [{"code": code, "description": description} for code, description in problems]
    return respond(fmt, "errors", "error", data, status=status)
