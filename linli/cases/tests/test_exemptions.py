"""Exemptions from the KPIs (免考核): who may ask, who may decide, four eyes, the pages
and the API; residents and staff of other areas see nothing (linli.cases.exemptions)."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse

from linli.accounts.services import api_token_issue
from linli.cases.case_services import case_accept, case_merge, case_reject, case_report
from linli.cases.exemptions import (
    exemption_decide,
    exemption_request,
    exemptions_for,
    may_ask,
    may_decide,
)
from linli.cases.models import Case, Exemption
from linli.cases.workflow import Note
from linli.core.errors import DomainError


@pytest.fixture(autouse=True)
def english_pages(client):
    """Pages read the language cookie; these tests read the English pages."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


SHANGHAI = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)


def report(matter, reporter):
    return case_report(
        matter=matter,
        description="路边有一堆垃圾，气味很大",
        lon=118.605,
        lat=37.405,
        source="resident",
        reporter=reporter,
        at=MON,
    )


@pytest.fixture
def rejected(matter, personas):
    """A case the centre turned down, in grid g11."""
    case = report(matter, personas["resident"])
    return case_reject(case=case, actor=personas["dispatcher"], reason="不属于本街道。", at=MON)


def login(client, user):
    client.force_login(user)


def ask(case, actor, reason="outside", note="属市级部门职责。"):
    return exemption_request(case=case, actor=actor, reason=reason, note=note)


# --- services -------------------------------------------------------------------------------


def test_the_centre_and_the_lead_department_may_ask_and_only_a_leader_decides(
    matter, personas, rejected
):
    assert may_ask(personas["dispatcher"], rejected)
    for name in ("resident", "grid_worker", "other_grid_worker", "leader"):
        assert not may_ask(personas[name], rejected), name
        with pytest.raises(DomainError) as refused:
            ask(rejected, personas[name])
        assert refused.value.code == "forbidden"
    assert may_decide(personas["leader"], rejected)
    assert not may_decide(personas["dispatcher"], rejected)
    assert not may_decide(personas["handler"], rejected)
    exemption = ask(rejected, personas["dispatcher"])
    with pytest.raises(DomainError) as refused:
        exemption_decide(exemption=exemption, actor=personas["dispatcher"], approve=True)
    assert refused.value.code == "forbidden"
    assert Exemption.objects.get().status == Exemption.Status.PENDING


def test_approval_takes_the_case_out_and_both_steps_are_on_the_timeline(personas, rejected):
    exemption = ask(rejected, personas["dispatcher"])
    exemption_decide(exemption=exemption, actor=personas["leader"], approve=True, note="同意。")
    case = Case.objects.get(pk=rejected.pk)
    assert case.exempt_reason == "outside"
    exemption.refresh_from_db()
    assert (exemption.status, exemption.decided_by) == ("approved", personas["leader"])
    notes = list(case.events.filter(action__startswith="exemption").values_list("action", "public"))
    assert notes == [(Note.EXEMPTION_REQUEST, False), (Note.EXEMPTION_APPROVE, False)]
    with pytest.raises(DomainError, match="already exempted"):
        ask(case, personas["dispatcher"])


def test_no_one_decides_their_own_request(personas, rejected):
    exemption = ask(rejected, personas["admin"])
    with pytest.raises(DomainError) as refused:
        exemption_decide(exemption=exemption, actor=personas["admin"], approve=True)
    assert refused.value.code == "forbidden"
    exemption.refresh_from_db()
    assert exemption.status == "pending"


def test_a_reason_and_an_explanation_are_required_and_a_refusal_needs_a_note(personas, rejected):
    with pytest.raises(DomainError) as bad:
        ask(rejected, personas["dispatcher"], reason="because")
    assert "reason" in bad.value.fields
    with pytest.raises(DomainError):
        ask(rejected, personas["dispatcher"], note="  ")
    assert not Exemption.objects.exists()
    exemption = ask(rejected, personas["dispatcher"])
    with pytest.raises(DomainError):
        exemption_decide(exemption=exemption, actor=personas["leader"], approve=False, note="")
    exemption_decide(exemption=exemption, actor=personas["leader"], approve=False, note="不同意。")
    exemption.refresh_from_db()
    assert exemption.status == "refused"
    assert Case.objects.get(pk=rejected.pk).exempt_reason == ""


def test_one_request_waits_at_a_time_and_a_merged_case_is_refused(matter, personas, rejected):
    ask(rejected, personas["dispatcher"])
    with pytest.raises(DomainError, match="already waiting"):
        ask(rejected, personas["dispatcher"], reason="malicious")
    assert Exemption.objects.count() == 1
    target = report(matter, personas["resident"])
    duplicate = report(matter, personas["resident"])
    case_accept(case=target, actor=personas["dispatcher"], at=MON)
    merged = case_merge(case=duplicate, actor=personas["dispatcher"], into=target, at=MON)
    with pytest.raises(DomainError, match="merged"):
        ask(merged, personas["dispatcher"])


def test_residents_and_other_grids_see_no_exemption(personas, rejected):
    ask(rejected, personas["dispatcher"])
    assert exemptions_for(personas["leader"]).count() == 1
    assert exemptions_for(personas["dispatcher"]).count() == 1
    assert exemptions_for(personas["resident"]).count() == 0
    assert exemptions_for(personas["other_grid_worker"]).count() == 0


# --- pages ----------------------------------------------------------------------------------


def test_the_case_page_offers_asking_then_answering(client, personas, rejected):
    page = reverse("cases:case", args=[rejected.pk])
    login(client, personas["dispatcher"])
    assert "Exempt from the KPIs" in client.get(page).content.decode()
    url = reverse("cases:exemption_request", args=[rejected.pk])
    bad = client.post(url, {"reason": "", "note": "理由"})
    assert bad.status_code == 400
    assert not Exemption.objects.exists()
    done = client.post(url, {"reason": "outside", "note": "属市级部门职责。"})
    assert done.status_code == 302
    exemption = Exemption.objects.get()
    assert "Exempt from the KPIs" not in client.get(page).content.decode()
    login(client, personas["leader"])
    shown = client.get(page).content.decode()
    assert "Answer the exemption request" in shown
    decide = reverse("cases:exemption_decide", args=[exemption.pk])
    refused = client.post(decide, {"approve": "no", "note": ""})
    assert refused.status_code == 400
    assert client.post(decide, {"approve": "yes", "note": ""}).status_code == 302
    assert Case.objects.get(pk=rejected.pk).exempt_reason == "outside"


def test_the_list_puts_waiting_requests_first_and_filters(client, matter, personas, rejected):
    first = ask(rejected, personas["dispatcher"])
    exemption_decide(exemption=first, actor=personas["leader"], approve=False, note="不同意。")
    other = report(matter, personas["resident"])
    other = case_reject(case=other, actor=personas["dispatcher"], reason="重复。", at=MON)
    waiting = ask(other, personas["dispatcher"], reason="malicious", note="恶意重复投诉。")
    login(client, personas["leader"])
    url = reverse("cases:exemptions")
    response = client.get(url)
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert [e.pk for e in rows] == [waiting.pk, first.pk]
    assert rows[0].may_answer and not rows[1].may_answer
    assert other.number in response.content.decode()
    only = client.get(url, {"status": "refused"}).context["page"]
    assert [e.pk for e in only] == [first.pk]
    only = client.get(url, {"reason": "malicious"}).context["page"]
    assert [e.pk for e in only] == [waiting.pk]
    decide = reverse("cases:exemption_decide", args=[waiting.pk])
    assert client.post(decide, {"approve": "yes", "next": "list"}).status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == "approved"


@pytest.mark.parametrize("name", ["resident", "grid_worker", "handler"])
def test_the_list_is_for_leaders_dispatchers_and_admins(client, personas, rejected, name):
    ask(rejected, personas["dispatcher"])
    login(client, personas[name])
    response = client.get(reverse("cases:exemptions"))
    assert response.status_code in (302, 403)
    assert rejected.number not in response.content.decode()


def test_an_outsider_cannot_decide_by_url(client, personas, rejected, street):
    exemption = ask(rejected, personas["dispatcher"])
    login(client, personas["other_grid_worker"])
    decide = reverse("cases:exemption_decide", args=[exemption.pk])
    assert client.post(decide, {"approve": "yes"}).status_code == 404
    login(client, personas["resident"])
    request = reverse("cases:exemption_request", args=[rejected.pk])
    assert client.post(request, {"reason": "outside", "note": "x"}).status_code == 403
    exemption.refresh_from_db()
    assert exemption.status == "pending"
    assert Exemption.objects.count() == 1


# --- API ------------------------------------------------------------------------------------


def call(client, user, method, path, body=None):
    token = api_token_issue(user=user)[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT_LANGUAGE": "en"}
    if method == "get":
        return client.get(path, body or {}, **headers)
    return client.post(path, json.dumps(body or {}), content_type="application/json", **headers)


def test_the_api_asks_decides_and_lists_in_scope(client, personas, rejected):
    path = f"/api/v1/cases/{rejected.pk}/exemptions"
    bad = call(client, personas["dispatcher"], "post", path, {"reason": "nope", "note": "x"})
    assert bad.status_code == 400
    assert "reason" in json.dumps(bad.json())
    made = call(client, personas["dispatcher"], "post", path, {"reason": "outside", "note": "x"})
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["status"], body["case_number"]) == ("pending", rejected.number)
    decision = f"/api/v1/exemptions/{body['id']}/decision"
    own = call(client, personas["dispatcher"], "post", decision, {"approve": True})
    assert own.status_code == 403
    refused = call(client, personas["leader"], "post", decision, {"approve": False})
    assert refused.status_code == 400
    done = call(client, personas["leader"], "post", decision, {"approve": True, "note": "同意"})
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "approved"
    listed = call(client, personas["leader"], "get", "/api/v1/exemptions", {"status": "approved"})
    assert [e["id"] for e in listed.json()["items"]] == [body["id"]]
    pending = call(client, personas["leader"], "get", "/api/v1/exemptions", {"status": "pending"})
    assert pending.json() == {"items": [], "next": None}


def test_the_api_shows_outsiders_nothing(client, personas, rejected):
    made = call(
        client,
        personas["dispatcher"],
        "post",
        f"/api/v1/cases/{rejected.pk}/exemptions",
        {"reason": "outside", "note": "x"},
    )
    exemption_id = made.json()["id"]
    for name in ("resident", "other_grid_worker"):
        user = personas[name]
        assert call(client, user, "get", "/api/v1/exemptions").json()["items"] == []
        decision = f"/api/v1/exemptions/{exemption_id}/decision"
        assert call(client, user, "post", decision, {"approve": True}).status_code == 404
    outsider = call(
        client,
        personas["other_grid_worker"],
        "post",
        f"/api/v1/cases/{rejected.pk}/exemptions",
        {"reason": "outside", "note": "x"},
    )
    assert outsider.status_code == 404
    reporter = call(
        client,
        personas["resident"],
        "post",
        f"/api/v1/cases/{rejected.pk}/exemptions",
        {"reason": "outside", "note": "x"},
    )
    assert reporter.status_code == 403
    assert Exemption.objects.get().status == "pending"


# --- the demo -------------------------------------------------------------------------------


def test_the_demo_has_exemptions_counters_and_rollups_that_check(db, tmp_path, settings):
    from linli.demo.services import demo_build
    from linli.insights.services import counters_differences, tally_check

    settings.LINLI_DEMO_NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
    demo_build(size="small", progress=False, accounts_path=tmp_path / "a.json")
    rows = list(Exemption.objects.select_related("case", "requested_by", "decided_by"))
    statuses = {e.status for e in rows}
    assert statuses == {"approved", "refused", "pending"}
    for exemption in rows:
        case = exemption.case
        assert case.status in ("closed", "rated", "archived", "rejected")
        assert exemption.requested_by.role in ("dispatcher", "handler")
        approved = exemption.status == "approved"
        assert case.exempt_reason == (exemption.reason if approved else "")
        if exemption.status != "pending":
            assert exemption.decided_by.username == "leader"
        notes = case.events.filter(action__startswith="exemption", data__exemption=exemption.pk)
        assert notes.count() == (1 if exemption.status == "pending" else 2)
    assert not Case.objects.filter(reported_on__isnull=True).exists()
    assert Case.objects.filter(dispatch_count__gt=0).exists()
    assert not Case.objects.filter(tally_dirty=True).exists()
    assert tally_check().ok
    assert counters_differences() == []
