"""One test per item of the Open311 checklist (../shared/specs/open311.md), named after
it, through our own spec-driven client (client.py) in both formats."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from linli.cases import case_services
from linli.cases.models import Case, CaseEvent
from linli.cases.workflow import Status
from linli.open311.formats import w3c
from linli.open311.models import Open311Request, Open311Update
from linli.open311.tests.client import Open311Client
from linli.open311.tests.conftest import LAT, LONG, close, file_case

FORMATS = ["xml", "json"]
RESOURCES = [
    "discovery",
    "services",
    "services/06010",
    "requests",
    "servicerequestupdates",
]


def _filed(api, fmt="json", **extra) -> str:
    fields = {"service_code": "06010", "lat": LAT, "long": LONG, "attribute[spot]": "路口"}
    answer = api.file(fmt, **(fields | extra))
    assert answer.status == 200, answer.body
    return answer.data[0]["service_request_id"]


# --- G: general ---------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_g1_xml_on_every_method_and_json_listed_in_discovery(api, resource):
    assert api.get(resource, "xml").status == 200
    assert api.file("xml", service_code="06020", lat=LAT, long=LONG).status == 200
    formats = api.get("discovery", "json").data["endpoints"][0]["formats"]
    assert formats == ["text/xml", "application/json"]


@pytest.mark.parametrize("resource", [*RESOURCES, "requests/none", "nothing"])
def test_g2_content_types_and_the_xml_declaration(api, resource):
    xml, json = api.get(resource, "xml"), api.get(resource, "json")
    assert xml.content_type == "text/xml; charset=utf-8"
    assert json.content_type == "application/json; charset=utf-8"
    assert xml.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<')
    assert b"xmlns" not in xml.body


def test_g3_utf8_in_and_out(api, services_offered):
    number = _filed(api, description="楼下垃圾桶满了 — ünïcödé ✓")
    case = Case.objects.get(number=number)
    assert case.description == "楼下垃圾桶满了 — ünïcödé ✓"
    for fmt in FORMATS:
        found = api.get(f"requests/{number}", fmt)
        assert "楼下垃圾桶满了 — ünïcödé ✓".encode() in found.body
        assert found.data[0]["description"] == "楼下垃圾桶满了 — ünïcödé ✓"


def test_g4_every_datetime_carries_its_zone(api, services_offered, street, dispatcher):
    number = _filed(api)
    case_services.case_accept(case=Case.objects.get(number=number), actor=dispatcher)
    case_services.case_dispatch(case=Case.objects.get(number=number), actor=dispatcher)
    row = api.get(f"requests/{number}", "xml").data[0]
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        moment = parse_datetime(row[name])
        assert moment is not None and moment.tzinfo is not None, (name, row[name])
        assert row[name][-6] in "+-" or row[name].endswith("Z")
    assert w3c(timezone.now()).count("T") == 1


def test_g5_json_lists_are_top_level_arrays_and_objects_stay_objects(api, services_offered):
    number = _filed(api)
    assert isinstance(api.get("services").data, list)
    assert isinstance(api.get("requests").data, list)
    assert isinstance(api.get(f"requests/{number}").data, list)
    assert isinstance(api.get("missing-thing").data, list)
    definition = api.get("services/06010").data
    assert isinstance(definition, dict) and isinstance(definition["attributes"], list)
    discovery = api.get("discovery").data
    assert isinstance(discovery, dict) and isinstance(discovery["endpoints"], list)


def test_g6_an_empty_optional_parameter_is_as_if_absent(api, services_offered):
    _filed(api)
    plain = api.get("requests").data
    empty = api.get(
        "requests", service_code="", status="", start_date="", end_date="", page="", page_size=""
    ).data
    assert plain == empty and len(plain) == 1
    filed = api.file(service_code="06020", lat=LAT, long=LONG, email="", phone="", address_id="")
    assert filed.status == 200


def test_g7_one_jurisdiction_ignores_its_id_and_refuses_another(api, settings, services_offered):
    assert api.get("services", jurisdiction_id="anything.example").status == 200
    settings.LINLI_OPEN311_JURISDICTION = "dongying.gov.cn"
    assert api.get("services", jurisdiction_id="dongying.gov.cn").status == 200
    assert api.get("services").status == 200
    wrong = api.get("services", "xml", jurisdiction_id="sfgov.org")
    assert wrong.status == 404
    assert "jurisdiction_id" in wrong.error_texts()[0]


def test_g8_only_posts_need_the_key_in_the_body_or_the_query(client, api, services_offered):
    anonymous = Open311Client(client)
    for resource in RESOURCES:
        assert anonymous.get(resource).status == 200
    fields = {"service_code": "06020", "lat": LAT, "long": LONG}
    in_query = client.post(
        f"/open311/v2/requests.json?{urlencode({'api_key': api.api_key})}",
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
    )
    assert in_query.status_code == 200
    assert api.file(**fields).status == 200
    assert Case.objects.count() == 2


# --- D: discovery -------------------------------------------------------------------------------


def test_d1_discovery_in_both_formats_and_a_page(client, api):
    assert api.get("discovery", "xml").status == 200
    assert api.get("discovery", "json").status == 200
    page = client.get("/open311/v2/")
    assert page.status_code == 200
    assert b"discovery.xml" in page.content and b"<h1" in page.content


def test_d2_discovery_has_every_field(api, settings):
    settings.LINLI_OPEN311_CONTACT = "dispatch@example.gov.cn"
    settings.LINLI_OPEN311_KEY_SERVICE = "https://example.gov.cn/open311-key"
    data = api.get("discovery", "xml").data
    assert data["contact"] == "dispatch@example.gov.cn"
    assert data["key_service"] == "https://example.gov.cn/open311-key"
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] in ("production", "test")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert data["changeset"] and endpoint["changeset"]


def test_d3_discovery_agrees_across_formats_and_its_changesets_are_past(api):
    xml, json = api.get("discovery", "xml").data, api.get("discovery", "json").data
    assert xml == json
    for changeset in (json["changeset"], json["endpoints"][0]["changeset"]):
        assert parse_datetime(changeset) < timezone.now()


# --- S: service list ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_s1_services_root_and_array(api, services_offered, fmt):
    answer = api.get("services", fmt)
    if fmt == "xml":
        assert b"<services><service>" in answer.body
    assert [s["service_code"] for s in answer.data] == ["06010", "06020"]


def test_s2_service_fields(api, services_offered):
    services_offered["poster"].is_active = False
    services_offered["poster"].save()
    (garbage,) = api.get("services", "xml").data
    assert garbage == {
        "service_code": "06010",
        "service_name": "暴露垃圾",
        "description": "路面、绿地上的暴露垃圾",
        "metadata": "true",
        "type": "realtime",
        "keywords": "垃圾,乱扔",
        "group": "市容环境类",
        "groups": {"group": "市容环境类"},
    }
    assert api.get("services", "json").data[0]["metadata"] is True


def test_s3_unknown_jurisdiction_is_404_other_failures_400(api, settings, services_offered):
    settings.LINLI_OPEN311_JURISDICTION = "dongying.gov.cn"
    assert api.get("services", jurisdiction_id="nyc.gov").status == 404
    assert api.post("services", key=False).status == 400


# --- SD: service definition ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_sd1_definition_root_and_attributes(api, services_offered, fmt):
    answer = api.get("services/06010", fmt)
    if fmt == "xml":
        assert b"<service_definition><service_code>06010</service_code><attributes>" in answer.body
    assert answer.data["service_code"] == "06010"
    assert len(answer.data["attributes"]) == 6


def test_sd2_attribute_fields_order_and_values(api, services_offered):
    attributes = api.get("services/06010").data["attributes"]
    assert [a["order"] for a in attributes] == [1, 2, 3, 4, 5, 6]
    assert len({a["code"] for a in attributes}) == 6
    spot = attributes[0]
    assert spot == {
        "variable": True,
        "code": "spot",
        "datatype": "string",
        "required": True,
        "datatype_description": "哪里?",
        "order": 1,
        "description": "哪里",
    }
    kind = next(a for a in attributes if a["code"] == "kind")
    assert kind["values"] == [
        {"key": "a", "name": "甲"},
        {"key": "b", "name": "乙"},
        {"key": "c", "name": "丙"},
    ]
    xml = api.get("services/06010", "xml").data["attributes"]
    assert xml[4]["values"][0] == {"key": "a", "name": "甲"}


def test_sd3_the_six_datatypes(api, services_offered):
    types = [a["datatype"] for a in api.get("services/06010").data["attributes"]]
    assert types == ["string", "text", "number", "datetime", "singlevaluelist", "multivaluelist"]


def test_sd4_definition_errors(api, services_offered):
    assert api.get("services/99999", "xml").status == 404
    assert api.get("services/11016").status == 404  # not offered to the public
    assert api.get("services/", "xml").status == 400


# --- P: POST service request --------------------------------------------------------------------


def test_p1_service_code_and_one_location_form(api, services_offered, street):
    assert api.file(lat=LAT, long=LONG).status == 400
    assert api.file(service_code="06020", lat=LAT).status == 400
    assert api.file(service_code="06020").status == 400
    by_building = api.file(service_code="06020", address_id="370502003001001-B01")
    assert by_building.status == 200
    street_building = street["g21"].buildings.get()
    street_building.address = "东营区济南路8号"
    street_building.save()
    by_address = api.file(service_code="06020", address_string="东营区济南路8号")
    assert by_address.status == 200
    case = Case.objects.get(number=by_address.data[0]["service_request_id"])
    assert case.grid == street["g21"] and case.address == "东营区济南路8号"
    missing_answer = api.file(service_code="06010", lat=LAT, long=LONG)
    assert missing_answer.status == 400
    assert "attribute[spot]" in missing_answer.error_texts()[0]


def test_p2_attributes_and_multivaluelists(api, services_offered):
    number = _filed(
        api,
        **{"attribute[bags]": "3", "attribute[kind]": "b", "attribute[smells][]": ["a", "c"]},
        **{"attribute[seen_at]": "2026-05-01T08:30:00+08:00"},
    )
    answers = Case.objects.get(number=number).answers
    assert answers == {
        "spot": "路口",
        "bags": 3,
        "kind": "b",
        "smells": ["a", "c"],
        "seen_at": "2026-05-01T08:30:00+08:00",
    }
    wrong = api.file(service_code="06010", lat=LAT, long=LONG,
                     **{"attribute[spot]": "x", "attribute[kind]": "zzz"})  # fmt: skip
    assert wrong.status == 400 and "attribute[kind]" in wrong.error_texts()[0]


def test_p3_optional_fields_are_kept_and_personal_ones_sealed(api, services_offered):
    number = _filed(
        api,
        email="resident@example.org",
        first_name="Wei",
        last_name="Zhang",
        phone="13800138000",
        device_id="dev-1",
        account_id="acc-9",
        description="第一行\n第二行",
        media_url="https://fms.example.org/photo/1.jpeg",
    )
    case = Case.objects.get(number=number)
    link = case.open311
    assert case.description == "第一行\n第二行"
    assert case.contact_name == "Wei Zhang" and not case.anonymous
    assert case.contact_phone_masked == "138****8000"
    assert "13800138000" not in case.contact_phone_encrypted
    assert link.email_masked == "r***@example.org"
    assert link.email_encrypted and "resident" not in link.email_encrypted
    assert (link.device_id, link.account_id) == ("dev-1", "acc-9")
    assert link.media_urls == ["https://fms.example.org/photo/1.jpeg"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_p4_the_answer_has_the_id_and_never_a_token(api, services_offered, fmt):
    answer = api.file(fmt, service_code="06020", lat=LAT, long=LONG, account_id="acc-1")
    (row,) = answer.data
    assert row["service_request_id"] == Case.objects.get().number
    assert "token" not in row and row["account_id"] == "acc-1"
    if fmt == "xml":
        assert b"<service_requests><request><service_request_id>" in answer.body


def test_p5_errors_403_404_400(api, services_offered):
    assert api.file(key=False, service_code="06020", lat=LAT, long=LONG).status == 403
    assert api.file(api_key="nope", service_code="06020", lat=LAT, long=LONG).status == 403
    assert api.file(service_code="99999", lat=LAT, long=LONG).status == 404
    assert api.file(service_code="11016", lat=LAT, long=LONG).status == 404
    assert api.file(lat=LAT, long=LONG).status == 400
    assert Case.objects.count() == 0


# --- T: tokens ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_t1_token_to_id(api, services_offered, fmt):
    number = _filed(api)
    token = Open311Request.objects.get().token
    (row,) = api.get(f"tokens/{token}", fmt).data
    assert row == {"service_request_id": number, "token": token}
    assert api.get("tokens/unknown", fmt).status == 404
    assert api.get("tokens/", fmt).status == 400


# --- R: GET service requests --------------------------------------------------------------------


def test_r1_filters_and_the_id_overrides_them(api, services_offered, dispatcher, handler):
    now = timezone.now()
    old = file_case(services_offered["garbage"], at=now - timedelta(days=30))
    done = close(file_case(services_offered["poster"]), dispatcher=dispatcher, handler=handler)
    new = file_case(services_offered["garbage"])

    def numbers(**params):
        answer = api.get("requests", **params)
        assert answer.status == 200, answer.body
        return {row["service_request_id"] for row in answer.data}

    assert numbers() == {old.number, done.number, new.number}
    assert numbers(service_code="06020") == {done.number}
    assert numbers(service_code="06010,06020") == {old.number, done.number, new.number}
    assert numbers(status="closed") == {done.number}
    assert numbers(status="open") == {old.number, new.number}
    assert numbers(status="open,closed") == {old.number, done.number, new.number}
    week = {"start_date": w3c(now - timedelta(days=7)), "end_date": w3c(now + timedelta(hours=1))}
    assert numbers(**week) == {done.number, new.number}
    assert numbers(service_request_id=f"{old.number},{done.number}", status="open",
                   **week) == {old.number, done.number}  # fmt: skip
    too_long = {"start_date": w3c(now - timedelta(days=91)), "end_date": w3c(now)}
    assert api.get("requests", **too_long).status == 400
    assert api.get("requests", status="pending").status == 400
    assert api.get("requests", start_date="yesterday").status == 400


def test_r2_the_default_window_is_the_last_90_days(api, services_offered):
    now = timezone.now()
    inside = file_case(services_offered["garbage"], at=now - timedelta(days=89))
    file_case(services_offered["garbage"], at=now - timedelta(days=91))
    rows = api.get("requests").data
    assert [row["service_request_id"] for row in rows] == [inside.number]


def test_r2_and_the_first_1000(api, services_offered, monkeypatch):
    from linli.open311 import selectors

    monkeypatch.setattr(selectors, "LIST_MAX", 3)
    for _n in range(4):
        file_case(services_offered["garbage"])
    assert len(api.get("requests", page_size="10").data) == 3
    assert api.get("requests", page_size="2", page="2").data.__len__() == 1


def test_r3_fields_of_a_request(api, services_offered, dispatcher, handler, street):
    case = file_case(services_offered["garbage"])
    case_services.case_accept(case=case, actor=dispatcher)
    case = case_services.case_dispatch(case=case, actor=dispatcher)
    (row,) = api.get("requests", "xml").data
    assert set(row) == {
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "service_notice", "requested_datetime",
        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
        "long", "media_url",
    }  # fmt: skip
    assert row["status"] == "open" and row["status_notes"] == "dispatched"
    assert row["agency_responsible"] == "城管"
    assert parse_datetime(row["expected_datetime"]) == case.deadline.replace(microsecond=0)
    assert row["address"] == "胜园社区第1网格 · 胜园社区"
    assert (row["lat"], row["long"]) == ("37.405", "118.605")
    closed = close(file_case(services_offered["poster"]), dispatcher=dispatcher, handler=handler)
    row = api.get(f"requests/{closed.number}", "json").data[0]
    assert row["status"] == "closed"
    assert parse_datetime(row["updated_datetime"]) == closed.closed_at.replace(microsecond=0)


def test_r3_nothing_personal_and_hidden_cases_stay_hidden(api, services_offered, dispatcher):
    number = _filed(api, first_name="Wei", email="w@example.org", phone="13800138000")
    # Markup is refused at the door (test_bad_input); text that got in otherwise is escaped.
    Case.objects.filter(number=number).update(description="<script>alert(1)</script>")
    rejected = file_case(services_offered["garbage"])
    case_services.case_reject(case=rejected, actor=dispatcher, reason="恶意")
    alarm = file_case(services_offered["smoke"], description="烟感报警")
    for fmt in FORMATS:
        answer = api.get("requests", fmt, extensions="true")
        assert [row["service_request_id"] for row in answer.data] == [number]
        for secret in (b"Wei", b"w@example.org", b"13800138000", b"8000", b"<script>"):
            assert secret not in answer.body
        assert api.get(f"requests/{rejected.number}", fmt).status == 404
        assert api.get(f"requests/{alarm.number}", fmt).status == 404
    assert b"&lt;script&gt;" in api.get("requests", "xml").body
    assert b"\\u003cscript\\u003e" in api.get("requests", "json").body
    assert api.get("requests").data[0]["description"] == "<script>alert(1)</script>"


def test_r4_unknown_jurisdiction_404_other_failures_400(api, settings, services_offered):
    settings.LINLI_OPEN311_JURISDICTION = "dongying.gov.cn"
    assert api.get("requests", "xml", jurisdiction_id="nyc.gov").status == 404
    assert api.get("requests", "xml", page_size="501").status == 400


# --- R1.1: one request --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_r1_1_one_request_is_an_array_of_one(api, services_offered, fmt):
    number = _filed(api)
    answer = api.get(f"requests/{number}", fmt)
    assert len(answer.data) == 1 and answer.data[0]["service_request_id"] == number
    if fmt == "xml":
        assert b"<service_requests><request><service_request_id>" in answer.body
    assert api.get("requests/2026-99999999", fmt).status == 404


# --- E: errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_e1_error_bodies(api, services_offered, fmt):
    answer = api.file(fmt, service_code="06010", lat="999", long="999")
    assert answer.status == 400
    if fmt == "xml":
        assert b"<errors><error><code>400</code><description>" in answer.body
    errors = answer.data
    assert isinstance(errors, list) and {"code", "description"} <= set(errors[0])
    assert any(text.startswith("lat:") for text in answer.error_texts())


def test_e2_statuses_and_language(api, services_offered):
    assert api.get("requests/none").status == 404
    assert api.file(key=False, service_code="06020", lat=LAT, long=LONG).status == 403
    assert api.get("requests", page="0").status == 400
    api.language = "zh-hans"
    chinese = api.file(key=False, service_code="06020")
    api.language = ""
    english = api.file(key=False, service_code="06020")
    assert english.error_texts() == ["api_key: Give the api_key you were issued."]
    assert english.headers["Content-Language"] == "en"
    assert chinese.headers["Content-Language"] == "zh-hans"
    assert chinese.error_texts()[0].startswith("api_key")


# --- X: extensions ------------------------------------------------------------------------------


def test_x1_page_and_page_size(api, services_offered):
    cases = [file_case(services_offered["garbage"]) for _n in range(5)]
    newest_first = [c.number for c in reversed(cases)]
    first = api.get("requests", page_size="2").data
    second = api.get("requests", page_size="2", page="2").data
    third = api.get("requests", page_size="2", page="3").data
    assert [r["service_request_id"] for r in first + second + third] == newest_first
    assert api.get("requests", page_size="0").status == 400
    assert len(api.get("requests", page_size="500").data) == 5


def test_x1_the_default_page_is_50(api, services_offered):
    for _n in range(51):
        file_case(services_offered["poster"])
    assert len(api.get("requests").data) == 50


def test_x2_extended_attributes_and_notes(api, services_offered, dispatcher):
    number = _filed(api, media_url="https://fms.example.org/p/1.jpeg")
    case = Case.objects.get(number=number)
    case_services.case_accept(case=case, actor=dispatcher, note="内部备注：找王师傅")
    duplicate = file_case(services_offered["garbage"])
    case_services.case_merge(case=duplicate, actor=dispatcher, into=case)
    for fmt in FORMATS:
        rows = {
            r["service_request_id"]: r for r in api.get("requests", fmt, extensions="true").data
        }
        row = rows[number]
        extended = row["extended_attributes"]
        assert extended["status"] == "investigating"
        assert extended["linli_status"] == "accepted"
        assert extended["channel"] == "fixmystreet"
        assert extended["photos"] == ["https://fms.example.org/p/1.jpeg"]
        assert [n["summary"] for n in row["notes"]] == ["reported", "accept", "duplicate merged in"]
        assert "王师傅" not in str(row)
        merged = rows[duplicate.number]
        assert merged["status"] == "closed"
        assert merged["extended_attributes"]["duplicate"] in (True, "true")
        assert merged["extended_attributes"]["parent_service_request_id"] == number
    assert "extended_attributes" not in api.get("requests").data[0]


def test_x3_updated_after_and_before(api, services_offered, dispatcher):
    earlier = file_case(services_offered["garbage"])
    later = file_case(services_offered["garbage"])
    Case.objects.filter(pk=earlier.pk).update(updated_at=timezone.now() - timedelta(days=2))
    cut = w3c(timezone.now() - timedelta(days=1))
    after = api.get("requests", updated_after=cut).data
    before = api.get("requests", updated_before=cut).data
    assert [r["service_request_id"] for r in after] == [later.number]
    assert [r["service_request_id"] for r in before] == [earlier.number]


def test_x4_updates_need_both_dates_or_neither(api, services_offered, dispatcher):
    number = _filed(api)
    case_services.case_accept(case=Case.objects.get(number=number), actor=dispatcher, note="秘密")
    now = timezone.now()
    for fmt in FORMATS:
        answer = api.get("servicerequestupdates", fmt)
        updates = answer.data
        assert [u["external_status_code"] for u in updates] == ["open", "investigating"]
        first = updates[0]
        for name in ("update_id", "service_request_id", "status", "updated_datetime",
                     "description", "media_url"):  # fmt: skip
            assert name in first
        assert first["service_request_id"] == number and first["status"] == "open"
        assert "秘密" not in answer.body.decode()
        if fmt == "xml":
            assert b"<service_request_updates><request_update>" in answer.body
    assert api.get("servicerequestupdates", start_date=w3c(now)).status == 400
    window = {
        "start_date": w3c(now - timedelta(hours=1)),
        "end_date": w3c(now + timedelta(hours=1)),
    }
    assert len(api.get("servicerequestupdates", **window).data) == 2
    window["start_date"] = w3c(now + timedelta(minutes=30))
    assert api.get("servicerequestupdates", **window).data == []


def test_x5_extended_statuses_are_lower_case_and_known(api, services_offered, dispatcher, handler):
    from linli.open311 import statuses

    case = close(file_case(services_offered["garbage"]), dispatcher=dispatcher, handler=handler)
    codes = [u["external_status_code"] for u in api.get("servicerequestupdates").data]
    assert codes == ["open", "investigating", "action_scheduled", "in_progress", "in_progress",
                     "in_progress", "fixed"]  # fmt: skip
    assert all(code in statuses.EXTENDED and code == code.lower() for code in codes)
    assert set(statuses.BY_STATUS) == set(Status)
    assert case.status == Status.CLOSED


def test_x6_post_an_update_once_and_never_past_the_workflow(api, services_offered, dispatcher,
                                                           handler):  # fmt: skip
    number = _filed(api)
    links = ["https://fms.example.org/u/1.jpeg", "https://fms.example.org/u/2.jpeg"]
    note = {"service_request_id": number, "update_id": "fms-1", "status": "OPEN",
            "description": "还是没人来清理", "first_name": "Wei", "email": "w@example.org",
            "media_url": links}  # fmt: skip
    for fmt in FORMATS:
        answer = api.post("servicerequestupdates", fmt, **note)
        if fmt == "xml":
            assert answer.status == 200, answer.body
            (row,) = answer.data
            event = CaseEvent.objects.get(pk=row["update_id"])
            assert event.public and event.note == "还是没人来清理"
            assert event.data["channel"] == "fixmystreet"
            assert Open311Update.objects.get().media_urls == note["media_url"]
        else:
            assert answer.status == 400 and "update_id" in answer.error_texts()[0]
    assert api.post("servicerequestupdates", key=False, **note | {"update_id": "x"}).status == 403
    closing = api.post("servicerequestupdates", **note | {"update_id": "2", "status": "CLOSED"})
    assert closing.status == 400 and closing.error_texts()[0].startswith("status:")
    fixed = api.post("servicerequestupdates", **note | {"update_id": "3", "status": "FIXED"})
    assert fixed.status == 400
    unknown = {"update_id": "4", "service_request_id": "2026-9"}
    missing = api.post("servicerequestupdates", **note | unknown)
    assert missing.status == 404
    case = close(Case.objects.get(number=number), dispatcher=dispatcher, handler=handler)
    reopen = api.post("servicerequestupdates", **note | {"update_id": "5", "status": "REOPEN"})
    assert reopen.status == 400
    thanks = api.post("servicerequestupdates", **note | {"update_id": "6", "status": "CLOSED"})
    assert thanks.status == 200
    assert Case.objects.get(pk=case.pk).status == Status.CLOSED
    assert Open311Update.objects.count() == 2


def test_x7_groups_and_keywords(api, services_offered):
    (garbage, poster) = api.get("services", "xml").data
    assert garbage["group"] == "市容环境类" and garbage["keywords"] == "垃圾,乱扔"
    assert poster["keywords"] == ""
    assert b"<groups><group>\xe5\xb8\x82" in api.get("services", "xml").body
    assert api.get("services", "json").data[0]["groups"] == ["市容环境类"]


@pytest.mark.parametrize("extensions", ["", "true"])
def test_the_request_list_costs_the_same_queries_for_any_number_of_cases(
    api, services_offered, django_assert_num_queries, extensions
):
    def cost():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert api.get("requests", extensions=extensions).status == 200
        return len(queries)

    file_case(services_offered["garbage"])
    one = cost()
    for _n in range(5):
        file_case(services_offered["poster"])
    assert cost() == one
    with django_assert_num_queries(2 if extensions else 1):
        api.get("requests", extensions=extensions)


def test_x8_post_quirks(api, services_offered, media_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from linli.core.testing import jpeg_bytes

    number = _filed(
        api,
        **{"attribute[uprn]": "100012345"},
        media_url=["https://a.example.org/1.jpg", "https://a.example.org/2.jpg"],
        description="标题\n\n详细描述",
    )
    link = Case.objects.get(number=number).open311
    assert link.extra_attributes == {"uprn": ["100012345"]}
    assert len(link.media_urls) == 2
    pinless = api.file(service_code="06020", address_id="#NOTPINPOINTED#")
    assert pinless.status == 400 and "address_id" in pinless.error_texts()[0]
    files = {
        "photo1": SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg"),
        "file_2": SimpleUploadedFile("b.jpg", jpeg_bytes(colour="red"), "image/jpeg"),
    }
    answer = api.post("requests", service_code="06020", lat=LAT, long=LONG, files=files)
    assert answer.status == 200, answer.body
    case = Case.objects.get(number=answer.data[0]["service_request_id"])
    assert case.photos.count() == 2


def test_x9_fixmystreet_pulls_with_dates_and_gets_points_and_codes(api, services_offered):
    now = timezone.now()
    case = file_case(services_offered["garbage"])
    window = {
        "start_date": w3c(now - timedelta(hours=1)),
        "end_date": w3c(now + timedelta(minutes=5)),
    }
    (row,) = api.get("requests", "xml", **window).data
    assert row["service_request_id"] == case.number
    assert abs(float(row["lat"]) - case.lat) < 0.001 and abs(float(row["long"]) - case.lon) < 0.001
    codes = {s["service_code"] for s in api.get("services", "xml").data}
    assert row["service_code"] in codes


def test_p3_a_description_longer_than_a_case_holds_is_kept_whole_with_the_request(api):
    text = "墙上小广告" * 700  # 3,500 characters: Open311 allows 4,000, a case holds 2,000
    number = _filed(api, description=text)
    case = Case.objects.get(number=number)
    assert len(case.description) == 2000 and case.description.endswith("…")
    assert case.open311.description_full == text
    assert api.file(service_code="06020", lat=LAT, long=LONG, description="x" * 4001).status == 400
