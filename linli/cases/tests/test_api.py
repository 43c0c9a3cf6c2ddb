"""The cases JSON API: filing (JSON and multipart with photos), the cursor-paginated list,
the detail at each level, every move through to the archive, scope (outsiders get 404
exactly as for a missing case), and the refusals, each leaving nothing behind."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.services import api_token_issue
from linli.cases import case_services
from linli.cases.models import (
    Case,
    CaseAssignment,
    CaseEvent,
    CasePhoto,
    CaseSupport,
    Extension,
    Matter,
    WhistleCall,
)
from linli.core.testing import jpeg_bytes, photo_upload

IN_G11 = (118.605, 37.405)
IN_G21 = (118.625, 37.405)
PHONE = "13812345678"
NAMES = {
    "resident": "王小明",
    "dispatcher": "调度员张三",
    "handler": "城管李四",
    "worker": "网格员赵六",
}


@pytest.fixture
def people(personas, community_worker, catalogue):
    """The personas with display names that must never reach a resident's screen, another
    resident, and a handler of 环卫 (HW), a department the cases are not dispatched to."""
    for user in personas.values():
        user.name = NAMES.get(user.username, user.username)
        user.save()
    neighbour = User.objects.create_user("neighbour", role="resident", name="邻居钱七")
    other_handler = User.objects.create_user(
        "hw", role="handler", name="环卫孙八", department=catalogue["HW"]
    )
    return personas | {
        "neighbour": neighbour,
        "other_handler": other_handler,
        "community_worker": community_worker,
    }


@pytest.fixture
def api(client, db):
    """api(user).get/post(...): requests with the user's bearer token, in English."""
    tokens = {}

    class Caller:
        def __init__(self, user):
            if user.pk not in tokens:
                tokens[user.pk] = api_token_issue(user=user)[1]
            self.headers = {
                "HTTP_AUTHORIZATION": f"Bearer {tokens[user.pk]}",
                "HTTP_ACCEPT_LANGUAGE": "en",
            }

        def get(self, path, params=None):
            return client.get(path, params or {}, **self.headers)

        def post(self, path, body=None):
            return client.post(
                path, json.dumps(body or {}), content_type="application/json", **self.headers
            )

        def multipart(self, path, data):
            return client.post(path, data, **self.headers)

    return Caller


def filing(**extra) -> dict:
    return {
        "matter": "06010",
        "description": "路边有一堆垃圾，已经三天了",
        "lon": IN_G11[0],
        "lat": IN_G11[1],
        "address": "济南路12号旁",
        "answers": {"amount": "cart"},
    } | extra


def file_case(api, user, **extra) -> dict:
    response = api(user).post("/api/v1/cases", filing(**extra))
    assert response.status_code == 201, response.json()
    return response.json()


def move(api, user, case_id, name, body=None):
    return api(user).post(f"/api/v1/cases/{case_id}/{name}", body)


def as_text(response) -> str:
    """The response's JSON with Chinese as itself (the API escapes it as \\uXXXX)."""
    return json.dumps(response.json(), ensure_ascii=False)


def files_under(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- the catalogue --------------------------------------------------------------------------------


def test_residents_read_the_public_catalogue_with_questions_and_staff_every_active_matter(
    api, people, matter
):
    resident = api(people["resident"]).get("/api/v1/matters").json()
    staff = api(people["dispatcher"]).get("/api/v1/matters").json()
    codes = {m["code"] for m in resident}
    assert "06010" in codes
    assert "11016" not in codes  # 烟感报警: sensors only, not offered to residents
    assert "11016" in {m["code"] for m in staff}
    rubbish = next(m for m in resident if m["code"] == "06010")
    assert rubbish["needs_check_photo"] is True
    assert rubbish["matter_class"]["code"] == "06"
    assert rubbish["questions"][0]["code"] == "amount"
    assert rubbish["questions"][0]["datatype"] == "singlevaluelist"
    assert [o["key"] for o in rubbish["questions"][0]["options"]] == ["small", "cart", "more"]

    found = api(people["resident"]).get("/api/v1/matters", {"q": "垃圾"}).json()
    assert "06010" in [m["code"] for m in found]
    assert api(people["resident"]).get("/api/v1/matters/06010").json()["name"] == "暴露垃圾"
    assert api(people["resident"]).get("/api/v1/matters/11016").status_code == 404
    assert api(people["dispatcher"]).get("/api/v1/matters/11016").status_code == 200


def test_the_catalogue_is_read_in_a_fixed_number_of_queries(api, people, matter):
    caller = api(people["dispatcher"])
    caller.get("/api/v1/matters")  # the token's first use writes last_used_at
    with CaptureQueriesContext(connection) as queries:
        assert caller.get("/api/v1/matters").status_code == 200
    assert len(queries) <= 5


# --- the whole loop -------------------------------------------------------------------------------


def test_a_case_goes_from_filing_to_the_archive_through_the_api(api, people, matter, media_root):
    resident, centre, department, worker = (
        people["resident"],
        people["dispatcher"],
        people["handler"],
        people["grid_worker"],
    )
    created = file_case(api, resident)
    case_id = created["id"]
    assert created["level"] == "reporter"
    assert created["status"] == "reported"
    assert created["grid"]["code"] == "370502003001001"
    assert created["answers"] == {"amount": "cart"}
    case = Case.objects.get(pk=case_id)
    assert (case.source, case.reporter, case.number) == ("resident", resident, created["number"])

    mine = api(resident).get("/api/v1/cases").json()
    assert [row["id"] for row in mine["items"]] == [case_id]
    assert mine["next"] is None

    staff_view = api(centre).get(f"/api/v1/cases/{case_id}").json()
    assert staff_view["level"] == "staff"
    assert staff_view["actions"] == ["accept", "reject", "merge"]
    assert staff_view["reporter"]["name"] == NAMES["resident"]

    assert move(api, centre, case_id, "accept").json()["status"] == "accepted"
    dispatched = move(
        api,
        centre,
        case_id,
        "dispatch",
        {"department": "CG", "co_departments": ["HW"], "urgency": "urgent", "note": "尽快"},
    ).json()
    assert dispatched["status"] == "dispatched"
    assert dispatched["urgency"] == "urgent"
    assert dispatched["deadline"] is not None
    assert {(a["department"]["code"], a["role"]) for a in dispatched["assignments"]} == {
        ("CG", "lead"),
        ("HW", "co_handler"),
    }

    inbox = api(department).get("/api/v1/cases", {"status": "dispatched"}).json()
    assert [row["id"] for row in inbox["items"]] == [case_id]
    assert api(department).get(f"/api/v1/cases/{case_id}").json()["actions"] == [
        "sign",
        "send-back",
    ]
    assert move(api, department, case_id, "sign").json()["status"] == "signed"
    assert move(api, department, case_id, "start", {"note": "已派人"}).json()["status"] == (
        "handling"
    )
    replied = api(department).multipart(
        f"/api/v1/cases/{case_id}/reply",
        {"note": "已清运完毕", "photos": [photo_upload("after.jpg")]},
    )
    assert replied.status_code == 200, replied.json()
    assert replied.json()["status"] == "replied"
    assert [p["kind"] for p in replied.json()["photos"]] == ["reply"]

    assert api(worker).get(f"/api/v1/cases/{case_id}").json()["actions"] == ["verify"]
    checked = api(worker).multipart(
        f"/api/v1/cases/{case_id}/verify",
        {"passed": "true", "note": "现场已干净", "photos": [photo_upload("check.jpg")]},
    )
    assert checked.status_code == 200, checked.json()
    assert checked.json()["status"] == "closed"

    reporter_view = api(resident).get(f"/api/v1/cases/{case_id}").json()
    assert reporter_view["actions"] == ["rate"]
    rated = move(api, resident, case_id, "rate", {"resolved": True, "satisfaction": "satisfied"})
    assert rated.json()["status"] == "rated"
    archived = move(api, centre, case_id, "archive")
    assert archived.status_code == 200
    assert archived.json()["status"] == "archived"
    assert archived.json()["actions"] == []

    case.refresh_from_db()
    assert (case.status, case.satisfaction, case.resolved) == ("archived", "satisfied", True)
    assert list(case.events.values_list("action", flat=True)) == [
        "report",
        "accept",
        "dispatch",
        "sign",
        "start",
        "reply",
        "verify_pass",
        "rate",
        "archive",
    ]
    photos = CasePhoto.objects.filter(case=case)
    assert sorted(photos.values_list("kind", flat=True)) == ["check", "reply"]
    assert len(files_under(media_root)) == 4  # two images and their thumbnails

    timeline = api(centre).get(f"/api/v1/cases/{case_id}/timeline").json()
    assert [e["action"] for e in timeline][-1] == "archive"
    assert timeline[1]["actor"]["name"] == NAMES["dispatcher"]
    assert timeline[5]["by"] == "城管"
    assert timeline[5]["photo_ids"] == [photos.get(kind="reply").pk]


def test_a_photo_url_points_at_the_scoped_photo_page(api, people, matter):
    created = (
        api(people["resident"])
        .multipart(
            "/api/v1/cases",
            filing(answers=json.dumps({"amount": "small"})) | {"photos": [photo_upload()]},
        )
        .json()
    )
    photo = CasePhoto.objects.get(case_id=created["id"])
    assert created["answers"] == {"amount": "small"}
    assert created["photos"][0]["url"] == f"/cases/photos/{photo.pk}/image/"
    assert created["photos"][0]["thumbnail_url"] == f"/cases/photos/{photo.pk}/thumbnail/"


def test_a_multipart_filing_needs_no_csrf_token_only_the_bearer_token(api, people, matter):
    browserless = Client(enforce_csrf_checks=True)
    data = filing(answers="") | {"photos": [photo_upload()]}
    response = browserless.post("/api/v1/cases", data, **api(people["resident"]).headers)
    assert response.status_code == 201, response.content
    assert browserless.post("/api/v1/cases", data).status_code == 401


def test_without_coordinates_the_photos_gps_places_the_case(api, people, matter):
    data = filing(answers="") | {"lon": "", "lat": "", "photos": [photo_upload(gps=IN_G11)]}
    response = api(people["grid_worker"]).multipart("/api/v1/cases", data)
    assert response.status_code == 201, response.json()
    case = Case.objects.get(pk=response.json()["id"])
    assert (case.source, case.grid.code) == ("grid_worker", "370502003001001")
    assert abs(case.lon - IN_G11[0]) < 1e-4
    assert abs(case.lat - IN_G11[1]) < 1e-4


def test_a_dispatcher_enters_a_hotline_call_with_the_callers_phone_masked(api, people, matter):
    created = file_case(
        api,
        people["dispatcher"],
        contact_name="刘女士",
        contact_phone=PHONE,
        external_ref="12345-20260601-0001",
    )
    case = Case.objects.get(pk=created["id"])
    assert (case.source, case.reporter, case.external_ref) == (
        "hotline",
        None,
        "12345-20260601-0001",
    )
    assert created["contact_phone_masked"] == "138****5678"
    # The dispatcher who typed it in is named on the timeline, not as the reporter.
    assert created["reporter"] is None
    assert created["timeline"][0]["actor"]["name"] == NAMES["dispatcher"]
    assert PHONE not in json.dumps(created)
    listed = as_text(api(people["dispatcher"]).get("/api/v1/cases"))
    assert PHONE not in listed
    assert "刘女士" not in listed
    again = api(people["dispatcher"]).post(
        "/api/v1/cases", filing(external_ref="12345-20260601-0001")
    )
    assert again.status_code == 400
    assert "external_ref" in again.json()["fields"]


def test_only_the_centre_gives_a_contact_and_handlers_and_leaders_file_nothing(api, people, matter):
    response = api(people["resident"]).post(
        "/api/v1/cases", filing(contact_phone=PHONE, source="hotline")
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"contact_phone", "source"}
    for role in ("handler", "leader"):
        refused = api(people[role]).post("/api/v1/cases", filing())
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
    assert not Case.objects.exists()


# --- the side paths -------------------------------------------------------------------------------


def test_send_back_park_resume_reject_and_reopen_through_the_api(api, people, matter):
    centre, department, resident = people["dispatcher"], people["handler"], people["resident"]
    case_id = file_case(api, resident)["id"]
    move(api, centre, case_id, "accept")
    move(api, centre, case_id, "dispatch", {})
    sent = move(
        api, department, case_id, "send-back", {"reason_code": "not_ours", "note": "非我部门"}
    )
    # The department no longer sees the case; it gets the state it just made, once.
    assert sent.status_code == 200
    assert sent.json()["status"] == "accepted"
    assert api(department).get(f"/api/v1/cases/{case_id}").status_code == 404

    parked = move(api, centre, case_id, "park", {"note": "需明年预算"})
    assert parked.json()["status"] == "parked"
    assert move(api, centre, case_id, "resume").json()["status"] == "accepted"

    other = file_case(api, resident, description="另一处垃圾")["id"]
    no_reason = move(api, centre, other, "reject", {})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["fields"]
    rejected = move(api, centre, other, "reject", {"reason": "不属于公共区域"})
    assert rejected.json()["status"] == "rejected"
    reporter_view = api(resident).get(f"/api/v1/cases/{other}").json()
    assert reporter_view["timeline"][-1]["note"] == "不属于公共区域"
    assert reporter_view["timeline"][-1]["by"] == "dispatch centre"

    move(api, centre, case_id, "dispatch", {"department": "CG"})
    move(api, department, case_id, "sign")
    move(api, department, case_id, "start")
    move(api, department, case_id, "reply", {"note": "已处理"})
    api(people["grid_worker"]).multipart(
        f"/api/v1/cases/{case_id}/verify",
        {"passed": "true", "note": "已核查", "photos": [photo_upload()]},
    )
    move(api, resident, case_id, "rate", {"resolved": False, "satisfaction": "unsatisfied"})
    reopened = move(api, centre, case_id, "reopen", {"note": "居民不满意"})
    assert reopened.json()["status"] == "dispatched"
    assert reopened.json()["reopen_count"] == 1


def test_a_failed_check_sends_the_case_back_as_rework(api, people, matter):
    centre, department = people["dispatcher"], people["handler"]
    case_id = file_case(api, people["resident"])["id"]
    for name, body in [("accept", None), ("dispatch", {})]:
        move(api, centre, case_id, name, body)
    for name, body in [("sign", None), ("start", None), ("reply", {"note": "已处理"})]:
        move(api, department, case_id, name, body)
    no_photo = move(api, people["grid_worker"], case_id, "verify", {"passed": True, "note": "好"})
    assert no_photo.status_code == 400
    assert "photos" in no_photo.json()["fields"]
    failed = move(
        api, people["grid_worker"], case_id, "verify", {"passed": False, "note": "仍有垃圾"}
    )
    assert failed.json()["status"] == "handling"
    assert failed.json()["rework_count"] == 1
    # The reporter never sees the failed check: it is the centre's business.
    seen = api(people["resident"]).get(f"/api/v1/cases/{case_id}").json()
    assert "verify_fail" not in [e["action"] for e in seen["timeline"]]


def test_duplicates_merge_and_me_too(api, people, matter):
    centre, resident, neighbour = people["dispatcher"], people["resident"], people["neighbour"]
    first = file_case(api, resident)
    move(api, centre, first["id"], "accept")

    offered = api(neighbour).post(
        "/api/v1/cases/duplicates",
        {
            "matter": "06010",
            "lon": IN_G11[0],
            "lat": IN_G11[1] + 0.0002,
            "description": "路边有一堆垃圾",
        },
    )
    assert offered.status_code == 200
    assert [d["case_id"] for d in offered.json()] == [first["id"]]
    assert offered.json()[0]["distance_m"] < 50
    assert set(offered.json()[0]) >= {"similarity", "supporters", "status"}
    assert "reporter" not in offered.json()[0]

    me_too = move(api, neighbour, first["id"], "me-too")
    assert me_too.status_code == 201
    assert me_too.json()["level"] == "reporter"
    assert me_too.json()["supporters"] == 1
    assert me_too.json()["answers"] is None  # the reporter's answers are theirs
    again = move(api, neighbour, first["id"], "me-too")
    assert again.status_code == 200
    staff = move(api, centre, first["id"], "me-too")
    assert (staff.status_code, staff.json()["code"]) == (403, "forbidden")
    assert CaseSupport.objects.filter(case_id=first["id"]).count() == 1

    duplicate = file_case(api, people["grid_worker"], description="路边一堆垃圾没人管")
    candidates = api(centre).get(f"/api/v1/cases/{duplicate['id']}/duplicates").json()
    assert [d["case_id"] for d in candidates] == [first["id"]]
    assert api(resident).get(f"/api/v1/cases/{duplicate['id']}/duplicates").status_code == 403
    merged = move(api, centre, duplicate["id"], "merge", {"into": first["number"]})
    assert merged.json()["status"] == "merged"
    assert merged.json()["merged_into"] == first["number"]
    assert CaseSupport.objects.filter(
        case_id=first["id"], user=people["grid_worker"], kind="merged"
    ).exists()
    unknown = move(api, centre, first["id"], "merge", {"into": "2026-99999999"})
    assert unknown.status_code == 400
    assert "into" in unknown.json()["fields"]


def test_extension_urge_whistle_and_report_in(api, people, matter):
    centre, department, hw = people["dispatcher"], people["handler"], people["other_handler"]
    case_id = file_case(api, people["resident"])["id"]
    move(api, centre, case_id, "accept")
    move(api, centre, case_id, "dispatch", {})
    move(api, department, case_id, "sign")

    urged = move(api, centre, case_id, "urge", {"note": "请尽快"})
    assert urged.status_code == 200
    assert urged.json()["timeline"][-1]["action"] == "urge"

    asked = move(
        api, department, case_id, "extensions", {"amount": 2, "unit": "days", "reason": "需要调车"}
    )
    assert asked.status_code == 201, asked.json()
    extension = asked.json()
    assert extension["status"] == "pending"
    decided = api(centre).post(f"/api/v1/extensions/{extension['id']}/decide", {"approve": True})
    assert decided.status_code == 200
    assert decided.json()["status"] == "approved"
    assert Case.objects.get(pk=case_id).deadline == Extension.objects.get().new_deadline
    twice = api(centre).post(
        f"/api/v1/extensions/{extension['id']}/decide", {"approve": False, "note": "不"}
    )
    assert twice.status_code == 400
    assert "already been answered" in twice.json()["message"]
    assert Extension.objects.get().status == "approved"
    assert (
        api(hw).post(f"/api/v1/extensions/{extension['id']}/decide", {"approve": True}).status_code
        == 404
    )

    blown = move(api, centre, case_id, "whistle", {"departments": ["HW"], "note": "联合清理"})
    assert blown.status_code == 201, blown.json()
    call_id = blown.json()["calls"][0]["id"]
    assert blown.json()["calls"][0]["reported_at"] is None
    # Summoned, 环卫 now sees the case, and reports in once.
    assert api(hw).get(f"/api/v1/cases/{case_id}").json()["level"] == "staff"
    reported = api(hw).post(f"/api/v1/whistle-calls/{call_id}/report-in", {"note": "已到场"})
    assert reported.status_code == 200
    assert reported.json()["response_minutes"] == 0
    assert api(hw).post(f"/api/v1/whistle-calls/{call_id}/report-in").status_code == 400
    assert WhistleCall.objects.get().reported_by == hw
    detail = api(centre).get(f"/api/v1/cases/{case_id}").json()
    assert detail["whistles"][0]["calls"][0]["reported_by"] == "环卫孙八"
    assert detail["extensions"][0]["status"] == "approved"
    unknown = move(api, centre, case_id, "whistle", {"departments": ["NOPE"], "note": "x"})
    assert unknown.status_code == 400
    assert "departments" in unknown.json()["fields"]


# --- scope ----------------------------------------------------------------------------------------


def test_outsiders_get_404_exactly_as_for_a_missing_case(api, people, matter):
    case_id = file_case(api, people["resident"])["id"]
    move(api, people["dispatcher"], case_id, "accept")
    move(api, people["dispatcher"], case_id, "dispatch", {})

    def answers(user, pk):
        caller = api(user)
        calls = [
            caller.get(f"/api/v1/cases/{pk}"),
            caller.get(f"/api/v1/cases/{pk}/timeline"),
            caller.post(f"/api/v1/cases/{pk}/sign"),
            caller.post(f"/api/v1/cases/{pk}/verify", {"passed": True, "note": "x"}),
            caller.post(f"/api/v1/cases/{pk}/park", {"note": "x"}),
        ]
        return [(r.status_code, r.json()) for r in calls]

    for outsider in ("other_handler", "other_grid_worker"):
        outside = answers(people[outsider], case_id)
        assert outside == answers(people[outsider], 999999), outsider
        assert {status for status, _body in outside} == {404}
    assert Case.objects.get(pk=case_id).status == "dispatched"
    assert CaseEvent.objects.filter(case_id=case_id).count() == 3
    listed = api(people["other_grid_worker"]).get("/api/v1/cases").json()
    assert listed["items"] == []


def test_another_resident_sees_the_public_view_without_anything_personal(api, people, matter):
    resident, centre = people["resident"], people["dispatcher"]
    created = (
        api(resident)
        .multipart(
            "/api/v1/cases",
            filing(answers=json.dumps({"amount": "more"})) | {"photos": [photo_upload()]},
        )
        .json()
    )
    case_id = created["id"]
    move(api, centre, case_id, "accept", {"note": "内部备注"})
    move(api, centre, case_id, "dispatch", {})

    response = api(people["neighbour"]).get(f"/api/v1/cases/{case_id}")
    assert response.status_code == 200
    seen = response.json()
    assert seen["level"] == "public"
    assert seen["matter"]["code"] == "06010"
    assert seen["grid"]["name"] == "胜园社区第1网格"
    assert seen["description"] == created["description"]
    for hidden in (
        "reporter",
        "contact_name",
        "contact_phone_masked",
        "photos",
        "address",
        "lon",
        "lat",
        "answers",
        "anonymous",
        "assignments",
        "source",
    ):
        assert seen[hidden] is None, hidden
    assert [e["action"] for e in seen["timeline"]] == ["report", "accept", "dispatch"]
    assert [e["by"] for e in seen["timeline"]] == [
        "the reporter",
        "dispatch centre",
        "dispatch centre",
    ]
    assert all(e["actor"] is None and e["data"] is None for e in seen["timeline"])
    text = as_text(response)
    for name in NAMES.values():
        assert name not in text
    assert "济南路" not in text
    # Not theirs: not in their list either, and no photo ids to ask for.
    assert api(people["neighbour"]).get("/api/v1/cases").json()["items"] == []
    assert all(e["photo_ids"] == [] for e in seen["timeline"])

    reporter = api(resident).get(f"/api/v1/cases/{case_id}").json()
    assert reporter["level"] == "reporter"
    assert len(reporter["photos"]) == 1
    assert reporter["reporter"] is None
    assert all(e["actor"] is None for e in reporter["timeline"])
    assert NAMES["dispatcher"] not in json.dumps(reporter, ensure_ascii=False)


def test_the_leader_reads_everything_and_moves_nothing(api, people, matter):
    case_id = file_case(api, people["resident"])["id"]
    leader = api(people["leader"])
    seen = leader.get(f"/api/v1/cases/{case_id}").json()
    assert (seen["level"], seen["actions"]) == ("staff", [])
    moves = [
        ("accept", None),
        ("reject", {"reason": "x"}),
        ("dispatch", {}),
        ("park", {"note": "x"}),
        ("urge", None),
        ("sign", None),
        ("reply", {"note": "x"}),
        ("verify", {"passed": False, "note": "x"}),
        ("rate", {"resolved": True, "satisfaction": "satisfied"}),
        ("archive", None),
        ("extensions", {"amount": 1, "unit": "days", "reason": "x"}),
        ("whistle", {"departments": ["HW"], "note": "x"}),
    ]
    for name, body in moves:
        refused = leader.post(f"/api/v1/cases/{case_id}/{name}", body)
        assert refused.status_code == 403, name
        assert refused.json()["code"] == "forbidden", name
    assert Case.objects.get(pk=case_id).status == "reported"
    assert CaseEvent.objects.filter(case_id=case_id).count() == 1


def test_a_community_dispatcher_sees_only_its_communitys_cases(api, people, matter):
    inside = file_case(api, people["resident"])["id"]
    outside = file_case(api, people["resident"], lon=IN_G21[0], lat=IN_G21[1])["id"]
    community = api(people["community_worker"])
    assert [row["id"] for row in community.get("/api/v1/cases").json()["items"]] == [inside]
    assert community.get(f"/api/v1/cases/{outside}").status_code == 404
    assert community.post(f"/api/v1/cases/{outside}/accept").status_code == 404
    assert community.post(f"/api/v1/cases/{inside}/accept").status_code == 200


# --- the list and its cursor ----------------------------------------------------------------------


def _report(matter, reporter, at, **extra):
    values = {
        "matter": matter,
        "description": "楼下垃圾",
        "lon": IN_G11[0],
        "lat": IN_G11[1],
        "source": "resident",
        "reporter": reporter,
        "at": at,
    }
    return case_services.case_report(**(values | extra))


def _walk(caller, params, during=None) -> list[int]:
    seen, cursor, pages = [], None, 0
    while True:
        response = caller.get("/api/v1/cases", params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.json()
        body = response.json()
        assert len(body["items"]) <= params["limit"]
        seen += [row["id"] for row in body["items"]]
        pages += 1
        if during is not None:
            during(pages)
        cursor = body["next"]
        if cursor is None:
            return seen


def test_the_cursor_walks_every_page_once_while_new_cases_arrive(api, people, matter):
    resident = people["resident"]
    start = timezone.now() - timedelta(days=2)
    # Four cases share each instant: the id breaks the ties.
    old = [_report(matter, resident, start + timedelta(minutes=i // 4)).pk for i in range(23)]
    caller = api(people["dispatcher"])

    def a_new_case_arrives(_page):
        file_case(api, resident, description="新的垃圾")

    newest_first = _walk(caller, {"limit": 5}, during=a_new_case_arrives)
    assert newest_first == sorted(
        old, key=lambda pk: (-Case.objects.get(pk=pk).reported_at.timestamp(), -pk)
    )
    assert len(set(newest_first)) == 23

    oldest_first = _walk(caller, {"limit": 4, "sort": "reported"}, during=a_new_case_arrives)
    # New cases join the end of an oldest-first walk and are met once each; only the one
    # filed after the last page was read is not in it.
    everything = list(Case.objects.order_by("reported_at", "pk").values_list("pk", flat=True))
    assert len(everything) > 23 + 5
    assert oldest_first == everything[:-1]


def test_the_deadline_cursor_puts_cases_without_a_deadline_last(api, people, matter):
    resident = people["resident"]
    start = timezone.now() - timedelta(days=2)
    cases = [_report(matter, resident, start + timedelta(minutes=i)) for i in range(11)]
    soon = timezone.now() + timedelta(days=1)
    for i, case in enumerate(cases[:7]):
        # Pairs share a deadline; the last four have none (not yet dispatched).
        Case.objects.filter(pk=case.pk).update(deadline=soon + timedelta(hours=i // 2))
    walked = _walk(api(people["dispatcher"]), {"limit": 3, "sort": "deadline"})
    assert walked == [c.pk for c in cases[:7]] + sorted(c.pk for c in cases[7:])


def test_a_bad_cursor_or_limit_is_refused_by_name(api, people, matter):
    for i in range(3):
        _report(matter, people["resident"], timezone.now() - timedelta(hours=i))
    caller = api(people["dispatcher"])
    cursor = caller.get("/api/v1/cases", {"limit": 1}).json()["next"]
    assert cursor
    forged = caller.get("/api/v1/cases", {"cursor": cursor[:-2] + "xx"})
    assert forged.status_code == 400
    assert "cursor" in forged.json()["fields"]
    other_sort = caller.get("/api/v1/cases", {"cursor": cursor, "sort": "deadline"})
    assert other_sort.status_code == 400
    too_many = caller.get("/api/v1/cases", {"limit": 101})
    assert too_many.status_code == 422
    assert "limit" in too_many.json()["fields"]
    unknown_status = caller.get("/api/v1/cases", {"status": "finished"})
    assert unknown_status.status_code == 422
    assert "status" in unknown_status.json()["fields"]


def test_list_filters_narrow_the_list(api, people, matter):
    resident = people["resident"]
    a = _report(matter, resident, timezone.now() - timedelta(hours=3))
    b = _report(matter, resident, timezone.now() - timedelta(hours=2), lon=IN_G21[0], lat=IN_G21[1])
    c = _report(
        Matter.objects.get(code="06028"),
        resident,
        timezone.now() - timedelta(hours=1),
        description="深夜广场舞",
        answers={"source": "square_dance", "periods": ["late_night"]},
    )
    case_services.case_accept(case=a, actor=people["dispatcher"])
    caller = api(people["dispatcher"])

    def ids(**params):
        return [row["id"] for row in caller.get("/api/v1/cases", params).json()["items"]]

    assert ids() == [c.pk, b.pk, a.pk]
    assert ids(status="accepted") == [a.pk]
    assert ids(status=["accepted", "reported"]) == [c.pk, b.pk, a.pk]
    assert ids(grid="370502003002") == [b.pk]
    assert ids(matter="0602") == [c.pk]
    assert ids(q="广场舞") == [c.pk]
    assert ids(q=a.number) == [a.pk]
    assert ids(source="hotline") == []
    assert ids(overdue="false") == [c.pk, b.pk, a.pk]


def test_the_list_costs_the_same_queries_for_three_rows_or_forty(api, people, matter):
    resident = people["resident"]
    caller = api(people["dispatcher"])
    caller.get("/api/v1/cases")

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = caller.get("/api/v1/cases", {"limit": 100})
        assert response.status_code == 200
        return len(queries), len(response.json()["items"])

    for i in range(3):
        _report(matter, resident, timezone.now() - timedelta(minutes=i + 1))
    few = count()
    for i in range(37):
        _report(matter, resident, timezone.now() - timedelta(hours=i + 1))
    many = count()
    assert (few[1], many[1]) == (3, 40)
    assert few[0] == many[0]


def test_list_rows_carry_nothing_personal(api, people, matter):
    file_case(
        api,
        people["dispatcher"],
        contact_name="刘女士",
        contact_phone=PHONE,
        address="幸福小区3号楼502",
    )
    file_case(api, people["resident"], address="幸福小区5号楼")
    for user in ("dispatcher", "resident"):
        body = api(people[user]).get("/api/v1/cases")
        text = as_text(body)
        assert body.json()["items"]
        for secret in (PHONE, "138****5678", "刘女士", "幸福小区", NAMES["resident"]):
            assert secret not in text, (user, secret)
        assert "reporter" not in body.json()["items"][0]


# --- refusals that leave nothing behind -----------------------------------------------------------


@pytest.mark.parametrize(
    ("place", "status", "fields"),
    [
        ({"lon": 999, "lat": 999}, 422, {"lon", "lat"}),
        ({"lon": 2.3522, "lat": 48.8566}, 400, {"lon", "lat"}),  # Paris
        ({"lon": 37.405, "lat": 118.605}, 422, {"lat"}),  # swapped: latitude beyond 90
        ({"lon": 116.39, "lat": 39.91}, 400, {"lon", "lat"}),  # China, outside the street
        ({"lon": "east", "lat": 37.4}, 422, {"lon"}),
    ],
)
def test_a_place_that_is_not_in_the_street_is_refused_by_field(
    api, people, matter, place, status, fields
):
    response = api(people["resident"]).post("/api/v1/cases", filing(**place))
    assert response.status_code == status
    assert set(response.json()["fields"]) == fields
    assert response.json()["code"] == "invalid"
    assert not Case.objects.exists()


def test_paris_is_refused_with_a_message_saying_so(api, people, matter):
    response = api(people["resident"]).post("/api/v1/cases", filing(lon=2.3522, lat=48.8566))
    assert "not in China" in response.json()["fields"]["lon"][0]


def test_an_unknown_matter_bad_answers_and_a_missing_description_are_named(
    client, api, people, matter
):
    caller = api(people["resident"])
    unknown = caller.post("/api/v1/cases", filing(matter="99999"))
    assert unknown.status_code == 400
    assert list(unknown.json()["fields"]) == ["matter"]
    noise = caller.post(
        "/api/v1/cases",
        filing(matter="06028", answers={"source": "aliens", "floor": 3}),
    )
    assert noise.status_code == 400
    assert set(noise.json()["fields"]) == {"answers.source", "answers.periods", "answers.floor"}
    empty = caller.post("/api/v1/cases", filing(description="   "))
    assert empty.status_code == 400
    assert "description" in empty.json()["fields"]
    broken = caller.multipart("/api/v1/cases", filing(answers="{not json"))
    assert broken.status_code == 422
    assert "answers" in broken.json()["fields"]
    bad = client.post("/api/v1/cases", "{oops", content_type="application/json", **caller.headers)
    assert bad.status_code == 400
    assert not Case.objects.exists()


def test_markup_in_a_description_is_refused_and_other_text_returned_as_typed(api, people, matter):
    refused = api(people["resident"]).post(
        "/api/v1/cases", filing(description='<script>alert("x")</script> 垃圾')
    )
    assert refused.status_code == 400
    assert "looks like HTML" in refused.json()["fields"]["description"][0]
    assert not Case.objects.exists()
    text = '温度<30度 & "引号" a < b'
    created = api(people["resident"]).post("/api/v1/cases", filing(description=text))
    assert created.status_code == 201
    assert created["Content-Type"].startswith("application/json")
    assert created.json()["description"] == text
    assert Case.objects.get().description == text
    listed = api(people["resident"]).get("/api/v1/cases")
    assert listed["Content-Type"].startswith("application/json")
    assert listed.json()["items"][0]["description"] == text


def test_a_fake_image_is_refused_by_field_and_nothing_is_stored(api, people, matter, media_root):
    fake = SimpleUploadedFile("rubbish.jpg", b"GIF89a but not really", content_type="image/jpeg")
    good = photo_upload("first.jpg")
    response = api(people["resident"]).multipart(
        "/api/v1/cases", filing(answers="") | {"photos": [good, fake]}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["photos"]
    assert not Case.objects.exists()
    assert not CasePhoto.objects.exists()
    assert files_under(media_root) == []


def test_seven_photos_are_too_many(api, people, matter, media_root):
    photos = [SimpleUploadedFile(f"{i}.jpg", jpeg_bytes((40, 30))) for i in range(7)]
    response = api(people["resident"]).multipart(
        "/api/v1/cases", filing(answers="") | {"photos": photos}
    )
    assert response.status_code == 400
    assert "photos" in response.json()["fields"]
    assert not Case.objects.exists()
    assert files_under(media_root) == []


def test_a_fake_image_on_a_reply_leaves_the_case_as_it_was(api, people, matter, media_root):
    centre, department = people["dispatcher"], people["handler"]
    case_id = file_case(api, people["resident"])["id"]
    for user, name, body in [
        (centre, "accept", None),
        (centre, "dispatch", {}),
        (department, "sign", None),
        (department, "start", None),
    ]:
        move(api, user, case_id, name, body)
    fake = SimpleUploadedFile("after.png", b"\x89PNG not a png", content_type="image/png")
    response = api(department).multipart(
        f"/api/v1/cases/{case_id}/reply", {"note": "已处理", "photos": [fake]}
    )
    assert response.status_code == 400
    assert "photos" in response.json()["fields"]
    assert Case.objects.get(pk=case_id).status == "handling"
    assert not CaseEvent.objects.filter(case_id=case_id, action="reply").exists()
    assert files_under(media_root) == []


def test_a_move_without_a_note_may_be_posted_without_a_body(client, api, people, matter):
    case_id = file_case(api, people["resident"])["id"]
    headers = api(people["dispatcher"]).headers
    response = client.generic("POST", f"/api/v1/cases/{case_id}/accept", b"", **headers)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"


def test_the_same_move_twice_is_refused_the_second_time_and_changes_nothing(api, people, matter):
    case_id = file_case(api, people["resident"])["id"]
    first = move(api, people["dispatcher"], case_id, "accept")
    assert first.status_code == 200
    events = CaseEvent.objects.filter(case_id=case_id).count()
    accepted_at = Case.objects.get(pk=case_id).accepted_at
    second = move(api, people["dispatcher"], case_id, "accept")
    assert second.status_code == 409
    assert second.json() == {
        "code": "invalid_transition",
        "message": "The case is accepted: “accept” is not possible now.",
        "fields": {},
    }
    assert CaseEvent.objects.filter(case_id=case_id).count() == events
    assert Case.objects.get(pk=case_id).accepted_at == accepted_at


def test_a_bad_dispatch_names_the_field(api, people, matter):
    case_id = file_case(api, people["resident"])["id"]
    move(api, people["dispatcher"], case_id, "accept")
    unknown = move(api, people["dispatcher"], case_id, "dispatch", {"department": "NOPE"})
    assert unknown.status_code == 400
    assert list(unknown.json()["fields"]) == ["department"]
    bad_urgency = move(api, people["dispatcher"], case_id, "dispatch", {"urgency": "yesterday"})
    assert bad_urgency.status_code == 422
    assert list(bad_urgency.json()["fields"]) == ["urgency"]
    assert Case.objects.get(pk=case_id).status == "accepted"
    assert not CaseAssignment.objects.exists()


def test_without_a_token_the_cases_api_answers_401(client, matter):
    assert client.get("/api/v1/cases").status_code == 401
    assert client.post("/api/v1/cases", {}, content_type="application/json").status_code == 401
    assert client.get("/api/v1/matters").status_code == 401


# --- OpenAPI --------------------------------------------------------------------------------------


def test_the_openapi_description_lists_the_cases_paths(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    expected = [
        "/api/v1/matters",
        "/api/v1/matters/{code}",
        "/api/v1/cases",
        "/api/v1/cases/duplicates",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/timeline",
        "/api/v1/cases/{case_id}/duplicates",
        "/api/v1/cases/{case_id}/me-too",
        "/api/v1/cases/{case_id}/urge",
        "/api/v1/cases/{case_id}/extensions",
        "/api/v1/extensions/{extension_id}/decide",
        "/api/v1/cases/{case_id}/whistle",
        "/api/v1/whistle-calls/{call_id}/report-in",
    ] + [
        f"/api/v1/cases/{{case_id}}/{name}"
        for name in (
            "accept reject dispatch sign send-back start reply verify rate reopen archive park "
            "resume merge"
        ).split()
    ]
    assert [path for path in expected if path not in paths] == []
    filing_body = paths["/api/v1/cases"]["post"]["requestBody"]["content"]
    assert set(filing_body) == {"application/json", "multipart/form-data"}
    assert filing_body["multipart/form-data"]["schema"]["properties"]["photos"]["type"] == "array"
    # Every reference resolves.
    text = json.dumps(schema)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in schema["components"]["schemas"], ref


def test_the_centre_lists_waiting_extensions_and_other_areas_see_none(api, people, matter, street):
    centre, department = people["dispatcher"], people["handler"]
    case_id = file_case(api, people["resident"])["id"]
    move(api, centre, case_id, "accept")
    move(api, centre, case_id, "dispatch", {})
    move(api, department, case_id, "sign")
    asked = move(
        api, department, case_id, "extensions", {"amount": 1, "unit": "days", "reason": "等料"}
    )
    other_centre = User.objects.create_user(
        "dispatcher-c2", role="dispatcher", name="五一社区", area=street["c2"]
    )

    listed = api(centre).get("/api/v1/extensions").json()
    assert [e["id"] for e in listed["items"]] == [asked.json()["id"]]
    assert listed["items"][0]["case_id"] == case_id and listed["next"] is None
    for user in (other_centre, department, people["resident"], people["other_grid_worker"]):
        assert api(user).get("/api/v1/extensions").json()["items"] == []

    api(centre).post(f"/api/v1/extensions/{asked.json()['id']}/decide", {"approve": True})
    assert api(centre).get("/api/v1/extensions").json()["items"] == []
