"""/api/v1/kpis and /api/v1/kpis/cases answer the figures and the cases behind them in the
caller's scope, with the API's one error shape (linli.insights.api)."""

import pytest

from linli.accounts.services import api_token_issue
from linli.insights.facts import KPIS
from linli.insights.tests import test_pages

june = test_pages.june  # the fixture of the KPI page's tests
JUNE = {"start": "2026-06-01", "end": "2026-06-30"}


@pytest.fixture
def api(client, db):
    """api(user).get(path, params): a request with the user's bearer token, in English."""

    class Caller:
        def __init__(self, user):
            self.headers = {
                "HTTP_AUTHORIZATION": f"Bearer {api_token_issue(user=user)[1]}",
                "HTTP_ACCEPT_LANGUAGE": "en",
            }

        def get(self, path, params=None):
            return client.get(path, params or {}, **self.headers)

    return Caller


def assert_error(response, status: int, code: str, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    if field is not None:
        assert field in body["fields"], body


def test_the_kpis_answer_rows_total_definitions_and_exclusions(api, personas, street, june):
    response = api(personas["leader"]).get("/api/v1/kpis", {"dim": "community", **JUNE})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "dim", "start", "end", "pending", "excluded", "exclusions", "kpis", "rows", "total",
    }  # fmt: skip
    assert (body["dim"], body["start"], body["end"]) == ("community", *JUNE.values())
    assert [k["name"] for k in body["kpis"]] == [kpi.name for kpi in KPIS]
    on_time = next(k for k in body["kpis"] if k["name"] == "on_time_rate")
    assert (on_time["numerator"], on_time["denominator"]) == ("closed_on_time", "due")
    assert [row["key"] for row in body["rows"]] == [street["c1"].pk, street["c2"].pk]
    c1 = body["rows"][0]
    assert c1["code"] == street["c1"].code and c1["label"] == street["c1"].name
    assert c1["facts"]["received"] == 3 and c1["kpis"]["on_time_rate"] == 100.0
    assert body["rows"][1]["kpis"]["satisfaction_rate"] is None
    assert body["total"]["facts"]["received"] == 4
    assert (body["excluded"], body["exclusions"]) == (1, {"exempt_malicious": 1})


def test_the_default_is_this_month_by_the_first_breakdown(api, personas):
    body = api(personas["handler"]).get("/api/v1/kpis").json()
    assert body["dim"] == "department"
    assert body["start"].endswith("-01")


def test_a_breakdown_outside_the_callers_scope_is_forbidden(api, personas, community_worker):
    response = api(community_worker).get("/api/v1/kpis", {"dim": "department", **JUNE})
    assert_error(response, 403, "forbidden", "dim")
    assert_error(api(personas["resident"]).get("/api/v1/kpis"), 403, "forbidden")


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"start": "2026-13-01"}, 422, "start"),
        ({"dim": "street"}, 422, "dim"),
        ({"start": "2026-06-30", "end": "2026-06-01"}, 400, "end"),
        ({"start": "2010-01-01", "end": "2026-01-01"}, 400, "end"),
    ],
)
def test_bad_input_answers_the_one_error_shape(api, personas, params, status, field):
    response = api(personas["leader"]).get("/api/v1/kpis", params)
    assert_error(response, status, "invalid", field)


def test_without_a_token_the_kpis_answer_401(client, db):
    assert_error(client.get("/api/v1/kpis"), 401, "unauthenticated")


def test_the_cases_behind_a_figure_come_a_page_at_a_time(api, personas, street, june):
    caller = api(personas["leader"])
    params = {"dim": "grid", "key": street["g11"].pk, "fact": "received", "limit": 2, **JUNE}
    first = caller.get("/api/v1/kpis/cases", params)
    assert first.status_code == 200
    body = first.json()
    assert body["fact"] == "received" and body["fact_label"] == "cases received"
    assert len(body["items"]) == 2 and body["next"]
    item = body["items"][0]
    assert {"id", "number", "matter", "grid", "status", "reported_on", "count"} <= set(item)
    second = caller.get("/api/v1/kpis/cases", params | {"cursor": body["next"]}).json()
    assert second["next"] is None
    seen = [i["number"] for i in body["items"] + second["items"]]
    expected = {june[k].number for k in ("g11_closed", "g11_open", "g11_exempt")}
    assert len(seen) == 3 and set(seen) == expected


def test_the_cases_behind_a_figure_keep_to_the_callers_scope(api, personas, street, june):
    other = api(personas["other_grid_worker"])
    outside = other.get(
        "/api/v1/kpis/cases", {"dim": "grid", "key": street["g11"].pk, "fact": "received", **JUNE}
    )
    assert_error(outside, 404, "not_found")
    own = other.get("/api/v1/kpis/cases", {"dim": "grid", "fact": "received", **JUNE}).json()
    assert [i["number"] for i in own["items"]] == [june["g21_open"].number]


def test_an_unknown_fact_or_a_bad_cursor_is_invalid(api, personas):
    caller = api(personas["leader"])
    response = caller.get("/api/v1/kpis/cases", {"dim": "grid", "fact": "nonsense", **JUNE})
    assert_error(response, 400, "invalid", "fact")
    response = caller.get(
        "/api/v1/kpis/cases", {"dim": "grid", "fact": "received", "cursor": "x", **JUNE}
    )
    assert_error(response, 400, "invalid", "cursor")
