"""A third party's reader, PyPI `georeport` (open311.md S9), against a live server in both
of its formats: services, a definition, the requests and one request."""

import importlib

import pytest
from django.db import connection
from georeport import GeoReport

from linli.open311.tests.client import Open311Client
from linli.open311.tests.conftest import LAT, LONG

TRIGGERS = importlib.import_module("linli.cases.migrations.0009_event_triggers")


@pytest.fixture
def timeline_emptied(transactional_db):
    """A live server needs a database that is emptied, not rolled back, after the test;
    the timeline's triggers refuse that (docs/audit.md), so they are lifted for the
    emptying of the timeline and put back at once."""
    yield
    create, drop = TRIGGERS.STATEMENTS[connection.vendor]
    with connection.cursor() as cursor:
        for statement in drop:
            cursor.execute(statement)
        cursor.execute("DELETE FROM open311_open311update")
        cursor.execute("DELETE FROM cases_casephoto")
        cursor.execute("DELETE FROM cases_caseevent")
        for statement in create:
            cursor.execute(statement)


@pytest.fixture
def live(live_server, timeline_emptied, issued):
    """The live server with one request filed over HTTP by our own client."""
    api = Open311Client(base_url=live_server.url, api_key=issued[1])
    answer = api.file(
        "xml", service_code="06010", lat=LAT, long=LONG, description="路口有垃圾",
        **{"attribute[spot]": "路口", "attribute[smells][]": ["a", "b"]},
    )  # fmt: skip
    assert answer.status == 200, answer.body
    return live_server.url, answer.data[0]["service_request_id"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_services_definitions_and_requests(live, fmt):
    url, number = live
    client = GeoReport(f"{url}/open311/v2", output_format=fmt)

    services = client.get_service_list()
    assert [s["service_code"] for s in services] == ["06010", "06020"]
    assert services[0]["service_name"] == "暴露垃圾"

    definition = client.get_service_definition("06010")
    assert definition["service_code"] == "06010"
    attributes = definition["attributes"]
    if fmt == "xml":  # xmltodict keeps the wrapper: <attributes><attribute>…
        attributes = attributes["attribute"]
    assert [a["code"] for a in attributes][:2] == ["spot", "details"]

    requests = client.get_service_requests(service_code="06010", status="open")
    if fmt == "xml":  # one <request> reads as a dict, several as a list
        requests = [requests] if isinstance(requests, dict) else requests
    assert [r["service_request_id"] for r in requests] == [number]

    one = client.get_service_request(number)
    assert one["service_request_id"] == number
    assert one["description"] == "路口有垃圾"
    assert one["status"] == "open"
