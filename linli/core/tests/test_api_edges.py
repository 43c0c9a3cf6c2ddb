"""The JSON API at its edges, whatever the endpoint: odd input is a 422 naming the field
and writes nothing, an unreadable body a 400, an unknown address a 404, all in the one
error shape; every list pages by a signed cursor; the OpenAPI document is valid, declares
every answer, and its docs page renders. (schemathesis fuzzes the same ground in
test_api_schemathesis.py; these are the cases it found, pinned.)"""

import json

import pytest
import schemathesis
from django.utils import translation

from linli.accounts.services import api_token_issue
from linli.cases.models import Case
from linli.demo.services import demo_build
from linli.notifications.services import notify
from linli.people.models import Household, Visit

NUL = "\x00"
ERROR_REF = "#/components/schemas/ErrorOut"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def bearer(user) -> dict:
    _token, raw = api_token_issue(user=user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}


def post_json(client, path, body, user):
    return client.post(path, json.dumps(body), content_type="application/json", **bearer(user))


def assert_refused(response, status: int, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == ("not_found" if status == 404 else "invalid")
    if field is not None:
        assert field in body["fields"], body


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/cases?q=a%00b", "q"),
        ("/api/v1/cases?grid=%00", "grid"),
        ("/api/v1/areas?q=%00", "q"),
        ("/api/v1/areas/%00", "code"),
        ("/api/v1/matters/%00", "code"),
        ("/api/v1/residents?q=%00", "q"),
        ("/api/v1/households?grid=%00", "grid"),
        ("/api/v1/kpis/cases?fact=%00", "fact"),
        ("/api/v1/cases/99999999999999999999", "case_id"),
        ("/api/v1/cases/9223372036854775808", "case_id"),
        ("/api/v1/cases/0", "case_id"),
        ("/api/v1/residents/-1", "resident_id"),
        ("/api/v1/residents?household=99999999999999999999", "household"),
        ("/api/v1/visits?resident=9223372036854775808", "resident"),
        ("/api/v1/visits?since=0001-01-01", "since"),
        ("/api/v1/visits?since=9999-12-31T23:59:59", "since"),
        ("/api/v1/kpis?start=9999-12-31", "start"),
        ("/api/v1/kpis?end=0001-01-01", "end"),
        ("/api/v1/kpis/cases?fact=closed&key=99999999999999999999", "key"),
        ("/api/v1/areas?limit=0", "limit"),
        ("/api/v1/notifications?limit=101", "limit"),
        ("/api/v1/exemptions?limit=-1", "limit"),
    ],
)
def test_odd_input_is_refused_with_422_naming_the_field(client, personas, path, field):
    response = client.get(path, **bearer(personas["dispatcher"]))
    assert_refused(response, 422, field)


def test_a_nul_in_a_body_is_refused_and_writes_nothing(client, street, personas):
    worker = personas["grid_worker"]
    households = Household.objects.count()
    home = {"grid": street["g11"].code, "address": "济南路" + NUL, "tenure": "owned"}
    home["registration"] = "registered"
    assert_refused(post_json(client, "/api/v1/households", home, worker), 422, "address")
    assert Household.objects.count() == households

    case = {"matter": "06010", "description": "垃圾" + NUL, "lon": 118.605, "lat": 37.405}
    assert_refused(post_json(client, "/api/v1/cases", case, worker), 422, "description")
    form = client.post(
        "/api/v1/cases", {**case, "answers": json.dumps({"amount": NUL})}, **bearer(worker)
    )
    assert_refused(form, 422, "answers.amount")
    assert not Case.objects.exists()


def test_a_body_that_is_not_json_is_a_400_in_the_error_shape(client, personas):
    for path in ("/api/v1/households", "/api/v1/cases"):
        response = client.post(
            path, b"\x00{", content_type="application/json", **bearer(personas["grid_worker"])
        )
        assert_refused(response, 400)
        assert response.json()["message"] == "The request body is not valid JSON."


def test_an_unknown_address_under_the_api_is_a_404_in_the_error_shape(client, personas):
    for path in ("/api/v1/nowhere", "/api/v1/areas/", "/api/v1/areas/a/b"):
        response = client.get(path, **bearer(personas["dispatcher"]))
        assert_refused(response, 404)
    assert client.delete("/api/v1/cases/1/nowhere").status_code == 404


# --- lists -------------------------------------------------------------------------------------

LISTS = [
    "/api/v1/areas",
    "/api/v1/households",
    "/api/v1/residents",
    "/api/v1/visits",
    "/api/v1/overdue-visits",
    "/api/v1/notifications",
    "/api/v1/exemptions",
    "/api/v1/cases",
]


@pytest.fixture
def demo(db, tmp_path):
    demo_build(size="small", progress=False, accounts_path=tmp_path / "accounts.json")


def walk(client, path, auth, limit) -> list[int | str]:
    seen, cursor = [], None
    while True:
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = client.get(path, params, **auth).json()
        seen += [row.get("id", row.get("code")) for row in page["items"]]
        cursor = page["next"]
        if cursor is None:
            return seen


def test_every_list_pages_by_cursor_without_repeats_or_gaps(client, demo, django_user_model):
    dispatcher = django_user_model.objects.get(username="dispatcher1")
    params = {"number": "2026-1", "matter": "暴露垃圾", "deadline": "2026-05-01"}
    for _ in range(12):
        notify([dispatcher], kind="case_urged", params=params)
    auth = bearer(dispatcher)
    for path in LISTS:
        whole = client.get(path, {"limit": 100}, **auth).json()
        assert whole["items"], path
        first = [row.get("id", row.get("code")) for row in whole["items"]]
        walked = walk(client, path, auth, limit=7)
        assert len(walked) == len(set(walked)), path
        assert walked[: len(first)] == first, path


def test_rows_added_while_walking_a_list_shift_no_page(client, demo, django_user_model):
    worker = django_user_model.objects.get(username="dispatcher1")
    auth = bearer(worker)
    first = client.get("/api/v1/visits", {"limit": 5}, **auth).json()
    # A new visit is the newest: it belongs before the first page, not in the next one.
    resident = Visit.objects.order_by("pk").first().resident
    post_json(
        client,
        "/api/v1/visits",
        {"resident": resident.pk, "method": "home", "findings": "一切正常"},
        worker,
    )
    second = client.get("/api/v1/visits", {"limit": 5, "cursor": first["next"]}, **auth).json()
    before = client.get("/api/v1/visits", {"limit": 11}, **auth).json()["items"]
    assert [v["id"] for v in second["items"]] == [v["id"] for v in before[6:11]]


def test_a_tampered_or_foreign_cursor_is_refused_naming_it(client, demo, django_user_model):
    auth = bearer(django_user_model.objects.get(username="dispatcher1"))
    areas = client.get("/api/v1/areas", {"limit": 2}, **auth).json()["next"]
    for path, cursor in [
        ("/api/v1/areas", areas[:-2] + ("AA" if not areas.endswith("AA") else "BB")),
        ("/api/v1/households", areas),
        ("/api/v1/exemptions", "not-a-cursor"),
    ]:
        assert_refused(client.get(path, {"cursor": cursor}, **auth), 400, "cursor")


# --- the document --------------------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_every_error_has_the_one_shape(client, db):
    document = client.get("/api/v1/openapi.json").json()
    schemathesis.openapi.from_dict(document).validate()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            where = f"{method.upper()} {path}"
            if operation.get("security"):
                assert "401" in responses, where
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in responses, where
            for status, answer in responses.items():
                if int(status) >= 400:
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": ERROR_REF}, (where, status)


def test_the_docs_page_renders_the_document(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "/api/v1/openapi.json" in response.content.decode()
