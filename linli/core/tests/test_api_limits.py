"""Every input schema of the JSON API bounds its text: each string in a request body has a
maximum length (or a fixed set of values), each list a maximum number of items, and a
value one character too long is refused with 422 naming the field, in the caller's
language (docs/security.md)."""

import json
import re

import pytest

from linli.accounts.services import api_token_issue
from linli.api import api

UNBOUNDED_FORMATS = {"date-time", "date", "time", "binary"}


def _spec() -> dict:
    return api.get_openapi_schema()


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _unbounded(spec: dict, schema: dict, path: str) -> list[str]:
    schema = _resolve(spec, schema)
    found = []
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found += _unbounded(spec, sub, path)
    kind = schema.get("type")
    if kind == "string" and not (
        "maxLength" in schema or "enum" in schema or schema.get("format") in UNBOUNDED_FORMATS
    ):
        found.append(path)
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{path} (items)")
        found += _unbounded(spec, schema.get("items", {}), f"{path}[]")
    if kind == "object":
        for name, prop in schema.get("properties", {}).items():
            found += _unbounded(spec, prop, f"{path}.{name}")
    return found


def _bodies(spec: dict):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for content_type, content in (
                operation.get("requestBody", {}).get("content", {}).items()
            ):
                yield f"{method.upper()} {path} {content_type}", path, method, content["schema"]


def test_every_request_body_bounds_its_strings_and_lists(db):
    spec = _spec()
    bodies = list(_bodies(spec))
    assert len(bodies) > 20
    unbounded = [f"{name}: {field}" for name, _p, _m, schema in bodies
                 for field in _unbounded(spec, schema, "")]  # fmt: skip
    assert unbounded == []


def _too_long_cases():
    spec = _spec()
    for name, path, method, schema in _bodies(spec):
        if not name.endswith("application/json"):
            continue
        schema = _resolve(spec, schema)
        for field, prop in schema.get("properties", {}).items():
            prop = _resolve(spec, prop)
            options = [prop, *[_resolve(spec, s) for s in prop.get("anyOf", [])]]
            for option in options:
                if option.get("type") == "string" and "maxLength" in option:
                    yield pytest.param(
                        path, method, field, option["maxLength"], id=f"{name}:{field}"
                    )
                    break


@pytest.fixture
def a_case(street):
    """A case on file: moves that read their body themselves find the case first."""
    from linli.accounts.models import Department
    from linli.cases import case_services
    from linli.cases.models import Matter
    from linli.cases.services import catalogue_load
    from linli.demo.services import DEPARTMENTS

    for code, name in DEPARTMENTS:
        Department.objects.get_or_create(code=code, defaults={"name": name})
    catalogue_load()
    return case_services.case_report(
        matter=Matter.objects.get(code="06010"),
        description="路边有一堆垃圾",
        lon=118.605,
        lat=37.405,
        source="hotline",
    )


@pytest.mark.parametrize(("path", "method", "field", "limit"), list(_too_long_cases()))
def test_a_value_one_character_too_long_is_refused_naming_the_field(
    request, client, personas, path, method, field, limit
):
    token = api_token_issue(user=personas["admin"])[1]
    case_id = request.getfixturevalue("a_case").pk if "{case_id}" in path else 1
    url = re.sub(r"\{[^}]+\}", str(case_id), path)
    answers = {}
    for language in ("en", "zh-hans"):
        response = getattr(client, method)(
            url,
            json.dumps({field: "x" * (limit + 1)}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        if response.status_code == 401:
            pytest.skip("authenticated by a device key, not a bearer token")
        assert response.status_code == 422, response.content[:300]
        answers[language] = response.json()["fields"][field]
    assert answers["en"] == [f"At most {limit} characters."]
    assert answers["zh-hans"]
