"""The KPI page and its drill-down keep to the viewer's scope, link every figure to exactly
the cases behind it, and refuse bad input with field errors (linli.insights.views)."""

import json

import pytest
from django.urls import reverse

from linli.cases.models import Case
from linli.insights import selectors
from linli.insights.selectors import kpi_dims_for, kpi_visible
from linli.insights.tests.helpers import closed, report
from linli.insights.views import drill_url

JUNE = {"period": "custom", "start": "2026-06-01", "end": "2026-06-30"}


@pytest.fixture
def june(matter, personas, street):
    """June 2026: a closed, satisfied case in g11, an open one in g11, one in g21, and
    one in g11 exempted as malicious."""
    cases = {
        "g11_closed": closed(matter, personas, "g11"),
        "g11_open": report(matter, personas["resident"], "g11"),
        "g21_open": report(matter, personas["resident"], "g21"),
        "g11_exempt": report(matter, personas["resident"], "g11"),
    }
    # Test data: an approved exemption, as linli.cases.exemptions leaves the case.
    Case.objects.filter(pk=cases["g11_exempt"].pk).update(
        exempt_reason="malicious", tally_dirty=True
    )
    return cases


def kpi_page(client, user, **params):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client.get(reverse("insights:kpis"), params)


def drill(client, user, **params):
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client.get(reverse("insights:cases"), params)


def numbers(response) -> set[str]:
    return {case.number for case in response.context["page"]}


# --- who may open the page ------------------------------------------------------------------------


def test_a_leader_sees_every_community_with_its_rates_and_the_total(client, personas, street, june):
    response = kpi_page(client, personas["leader"], dim="community", **JUNE)
    assert response.status_code == 200
    report = response.context["report"]
    assert [row.key for row in report.rows] == [street["c1"].pk, street["c2"].pk]
    assert report.total.facts["received"] == 4
    html = response.content.decode()
    assert "100.0 %" in html  # on-time closing and satisfaction of c1
    assert "—" in html  # c2: nothing due, nothing rated
    url = drill_url("community", street["c1"].pk, report.start, report.end, "closed_on_time")
    assert url.replace("&", "&amp;") in html


def test_the_chart_data_holds_the_two_rates_per_row(client, personas, street, june):
    response = kpi_page(client, personas["leader"], dim="community", **JUNE)
    html = response.content.decode()
    start = html.index('id="kpi-chart-data"')
    data = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
    assert data["labels"] == [street["c1"].name, street["c2"].name]
    assert [series["data"] for series in data["series"]] == [[100.0, None], [100.0, None]]
    assert "insights/kpis.js" in html


def test_the_received_cell_splits_by_source_and_the_exclusions_come_first(client, personas, june):
    response = kpi_page(client, personas["leader"], dim="grid", **JUNE)
    html = response.content.decode()
    assert response.context["report"].exclusions == {"exempt_malicious": 1}
    assert html.index('id="kpi-exclusions"') < html.index('id="kpi-table"')
    assert [e["count"] for e in response.context["exclusions"]] == [1]
    total_received = response.context["total"][0]
    assert [(s["count"]) for s in total_received["sources"]] == [4]


def test_a_community_dispatcher_sees_only_their_communitys_grids(
    client, personas, community_worker, street, june
):
    assert kpi_dims_for(community_worker) == ["community", "grid"]
    response = kpi_page(client, community_worker, dim="grid", **JUNE)
    assert response.status_code == 200
    keys = {row.key for row in response.context["report"].rows}
    assert keys == {street["g11"].pk}
    assert response.context["report"].total.facts["received"] == 3

    refused = kpi_page(client, community_worker, dim="department", **JUNE)
    assert refused.status_code == 400
    assert "dim" in refused.context["form"].errors
    assert "report" not in refused.context


def test_a_handler_sees_only_their_department(client, personas, street, june):
    assert kpi_dims_for(personas["handler"]) == ["department"]
    response = kpi_page(client, personas["handler"], **JUNE)
    report = response.context["report"]
    assert report.dim == "department"
    assert [row.key for row in report.rows] == [street["dept"].pk]


def test_a_resident_is_refused_and_a_visitor_sent_to_sign_in(client, personas, june):
    assert kpi_page(client, personas["resident"]).status_code == 403
    client.logout()
    response = client.get(reverse("insights:kpis"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_kpi_link_shows_for_those_who_may_see_kpis_only(client, personas):
    for name, user in personas.items():
        assert kpi_visible(user) == bool(kpi_dims_for(user)), name
        client.force_login(user)
        html = client.get(reverse("home")).content.decode()
        assert (reverse("insights:kpis") in html) == (name != "resident"), name


def test_the_page_says_how_many_changes_are_not_yet_counted(client, personas, june, monkeypatch):
    # A read folds at most FOLD_ON_READ changes; with none folded, every change waits.
    monkeypatch.setattr(selectors, "FOLD_ON_READ", 0)
    response = kpi_page(client, personas["leader"], dim="grid", **JUNE)
    assert response.context["report"].pending >= 1
    assert "not yet counted" in response.content.decode()


def test_the_default_period_is_this_month_and_the_formulas_are_listed(client, personas):
    response = kpi_page(client, personas["leader"])
    assert response.status_code == 200
    report = response.context["report"]
    assert report.start.day == 1 and report.start.month == report.end.month
    html = response.content.decode()
    assert 'id="kpi-formulas"' in html
    assert "“closed, never overdue” as a share of" in html


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"period": "custom", "start": "2026-06-30", "end": "2026-06-01"},
            "end",
            "The end must not be before the start.",
        ),
        (
            {"period": "custom", "start": "2016-01-01", "end": "2026-01-01"},
            "end",
            "Choose at most 10 years.",
        ),
        ({"period": "custom", "start": "2026-06-01"}, "end", "Give a date, or choose a period."),
        ({"period": "custom", "start": "1 June", "end": "2026-06-30"}, "start", "valid date"),
        ({"period": "decade"}, "period", "Select a valid choice"),
    ],
)
def test_bad_periods_get_a_field_error_and_no_figures(client, personas, params, field, message):
    response = kpi_page(client, personas["leader"], **params)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert "report" not in response.context
    assert message in response.content.decode()


# --- the drill-down ------------------------------------------------------------------------------


def test_the_drill_down_lists_exactly_the_cases_of_the_figure(client, personas, street, june):
    g11 = street["g11"].pk
    period = {"start": "2026-06-01", "end": "2026-06-30"}
    on_time = drill(
        client, personas["leader"], dim="grid", key=g11, fact="closed_on_time", **period
    )
    assert on_time.status_code == 200
    assert numbers(on_time) == {june["g11_closed"].number}
    assert "Closed, never overdue" in on_time.content.decode()

    received = drill(client, personas["leader"], dim="grid", key=g11, fact="received", **period)
    assert numbers(received) == {june[k].number for k in ("g11_closed", "g11_open", "g11_exempt")}

    excluded = drill(client, personas["leader"], dim="grid", fact="exempt_malicious", **period)
    assert numbers(excluded) == {june["g11_exempt"].number}

    everything = drill(client, personas["leader"], dim="community", fact="received", **period)
    assert numbers(everything) == {case.number for case in june.values()}


def test_the_drill_down_keeps_to_the_viewers_scope(client, personas, street, june):
    period = {"start": "2026-06-01", "end": "2026-06-30"}
    other = personas["other_grid_worker"]  # a grid worker of g21
    outside = drill(client, other, dim="grid", key=street["g11"].pk, fact="received", **period)
    assert outside.status_code == 404
    own = drill(client, other, dim="grid", fact="received", **period)
    assert numbers(own) == {june["g21_open"].number}
    nothing = drill(client, other, dim="grid", fact="closed", **period)
    assert numbers(nothing) == set()
    handler = drill(client, personas["handler"], dim="department", fact="received", **period)
    # The handler's department was dispatched only the closed case.
    assert numbers(handler) == {june["g11_closed"].number}
    community = drill(client, other, dim="department", fact="received", **period)
    assert community.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"dim": "grid", "fact": "nonsense", "start": "2026-06-01", "end": "2026-06-30"},
        {"dim": "street", "fact": "received", "start": "2026-06-01", "end": "2026-06-30"},
        {"dim": "grid", "key": "x", "fact": "received", "start": "2026-06-01", "end": "2026-06-30"},
        {},
    ],
)
def test_a_figure_that_cannot_exist_is_not_found(client, personas, params):
    assert drill(client, personas["leader"], **params).status_code == 404


def test_drill_down_dates_out_of_order_get_a_field_error(client, personas):
    params = {"dim": "grid", "fact": "received", "start": "2026-06-30", "end": "2026-06-01"}
    response = drill(client, personas["leader"], **params)
    assert response.status_code == 400
    assert "The end must not be before the start." in response.content.decode()


def test_a_resident_may_not_drill_down(client, personas):
    params = {"dim": "grid", "fact": "received", "start": "2026-06-01", "end": "2026-06-30"}
    assert drill(client, personas["resident"], **params).status_code == 403


def test_the_drill_down_shows_fifty_cases_a_page(client, matter, personas, street):
    for _ in range(51):
        report(matter, personas["resident"], "g12")
    params = {"dim": "grid", "key": street["g12"].pk, "fact": "received"}
    params |= {"start": "2026-06-01", "end": "2026-06-30"}
    first = drill(client, personas["leader"], **params)
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].paginator.count == 51
    second = drill(client, personas["leader"], page=2, **params)
    assert len(second.context["page"].object_list) == 1
    assert numbers(first).isdisjoint(numbers(second))


def test_the_page_answers_in_chinese(client, personas, june):
    client.force_login(personas["leader"])
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("insights:kpis"), {"dim": "grid", **JUNE})
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()


def _queries(client, url, params) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url, params)  # fold the new cases first
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_the_page_and_the_drill_down_cost_the_same_queries_for_more_rows(
    client, matter, personas, street
):
    client.force_login(personas["leader"])
    params = {"dim": "grid", **JUNE}
    drill_params = {"dim": "grid", "fact": "received", "start": "2026-06-01", "end": "2026-06-30"}
    report(matter, personas["resident"], "g11")
    one = _queries(client, reverse("insights:kpis"), params)
    one_drill = _queries(client, reverse("insights:cases"), drill_params)
    report(matter, personas["resident"], "g12")
    report(matter, personas["resident"], "g21")
    assert _queries(client, reverse("insights:kpis"), params) == one
    assert _queries(client, reverse("insights:cases"), drill_params) == one_drill
