from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.accounts.services import api_token_issue
from linli.conftest import PASSWORD
from linli.core.models import AuditEvent
from linli.people import services
from linli.people.models import AccessLog, Household, Resident, Visit
from linli.people.tests.conftest import ID_A, ID_B, PHONE_A
from linli.people.validation import id_number_make

LISTS = ["/api/v1/households", "/api/v1/residents", "/api/v1/visits", "/api/v1/overdue-visits"]


def token_for(client, username, password=PASSWORD):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password, "name": "test"},
        content_type="application/json",
    )


@pytest.fixture
def bearer(db):
    def make(user):
        _token, raw = api_token_issue(user=user)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return make


def post(client, path, body, auth):
    return client.post(path, body, content_type="application/json", **auth)


def patch(client, path, body, auth):
    return client.patch(path, body, content_type="application/json", **auth)


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


# --- who may ------------------------------------------------------------------------------


def test_without_a_token_every_list_answers_401(client, register):
    for path in LISTS:
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "unauthenticated"


def test_roles_without_the_register_get_403_on_every_list(
    client, register, resident, handler, leader, bearer
):
    for user in (resident, handler, leader):
        auth = bearer(user)
        for path in LISTS:
            response = client.get(path, **auth)
            assert response.status_code == 403, (user.role, path)
            assert response.json() == {
                "code": "forbidden",
                "message": response.json()["message"],
                "fields": {},
            }
        zhang = client.get(f"/api/v1/residents/{register['zhang'].pk}", **auth)
        assert zhang.status_code == 403


def test_a_token_from_the_token_endpoint_opens_the_register(client, register):
    raw = token_for(client, "worker").json()["token"]
    response = client.get("/api/v1/residents", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert ids(response) == [register["zhang"].pk]


def test_a_worker_of_another_grid_gets_404_for_zhang_exactly_as_for_no_one(
    client, register, grid_worker, other_grid_worker, bearer
):
    auth = bearer(other_grid_worker)
    zhang = register["zhang"]
    visit = services.visit_create(resident=zhang, visitor=grid_worker, method="home", findings="好")

    def answers(resident_pk, household_pk, visit_pk):
        calls = [
            client.get(f"/api/v1/residents/{resident_pk}", **auth),
            patch(client, f"/api/v1/residents/{resident_pk}", {"phone": "13700000000"}, auth),
            post(
                client,
                f"/api/v1/residents/{resident_pk}/reveal",
                {"field": "phone", "reason": "核实"},
                auth,
            ),
            post(client, f"/api/v1/residents/{resident_pk}/move-out", {}, auth),
            post(
                client,
                "/api/v1/visits",
                {"resident": resident_pk, "method": "home", "findings": "一切正常"},
                auth,
            ),
            post(
                client,
                "/api/v1/residents",
                {"household": household_pk, "name": "王五", "relation": "child"},
                auth,
            ),
            client.get(f"/api/v1/households/{household_pk}", **auth),
            patch(client, f"/api/v1/households/{household_pk}", {"note": "x"}, auth),
            client.get(f"/api/v1/visits/{visit_pk}", **auth),
            patch(client, f"/api/v1/visits/{visit_pk}", {"findings": "x"}, auth),
        ]
        return [(response.status_code, response.json()) for response in calls]

    outside = answers(zhang.pk, register["home_a"].pk, visit.pk)
    assert outside == answers(99999, 99999, 99999)
    assert {status for status, _body in outside} == {404}
    assert {body["code"] for _status, body in outside} == {"not_found"}

    listed = client.get("/api/v1/residents", **auth)
    assert ids(listed) == [register["li"].pk]
    assert zhang.pk not in ids(client.get("/api/v1/residents", {"q": ID_A}, **auth))
    households = client.get("/api/v1/households", **auth)
    assert [h["id"] for h in households.json()["items"]] == [register["home_b"].pk]

    zhang.refresh_from_db()
    assert zhang.phone_masked == "138****5678" and zhang.moved_out_on is None
    visit.refresh_from_db()
    assert list(Visit.objects.all()) == [visit] and visit.findings == "好"
    assert not AccessLog.objects.exists()
    assert Resident.objects.count() == 2
    assert Household.objects.get(pk=register["home_a"].pk).note == ""


# --- residents ----------------------------------------------------------------------------


def test_the_grid_workers_list_shows_zhang_masked_and_nothing_in_full(
    client, register, grid_worker, bearer, tags
):
    services.resident_tag_add(
        resident=register["zhang"], tag=tags["elderly-alone"], actor=grid_worker
    )
    response = client.get("/api/v1/residents", **bearer(grid_worker))
    assert response.status_code == 200
    assert response.json()["next"] is None
    (zhang,) = response.json()["items"]
    assert zhang["name"] == "张建国"
    assert zhang["id_number_masked"] == register["zhang"].id_number_masked
    assert "*" in zhang["id_number_masked"]
    assert zhang["phone_masked"] == "138****5678"
    assert zhang["household"]["address_masked"] == "济南路12号1号楼2单元"
    assert zhang["household"]["grid"]["code"] == register["home_a"].grid.code
    assert zhang["birth_date"] == "1950-03-01" and zhang["gender"] == "M"
    assert [t["code"] for t in zhang["tags"]] == ["elderly-alone"]
    body = response.content.decode()
    assert ID_A not in body and PHONE_A not in body and "301室" not in body


def test_sensitive_tags_are_left_out_for_a_grid_worker(
    client, register, grid_worker, admin_user, bearer, tags
):
    services.resident_tag_add(
        resident=register["zhang"], tag=tags["disabled"], actor=admin_user, grade="二级"
    )
    worker = client.get(f"/api/v1/residents/{register['zhang'].pk}", **bearer(grid_worker))
    assert worker.json()["tags"] == []
    assert "disabled" not in worker.content.decode()
    assert (
        client.get("/api/v1/residents", {"tag": "disabled"}, **bearer(grid_worker)).json()["items"]
        == []
    )
    admin = client.get(f"/api/v1/residents/{register['zhang'].pk}", **bearer(admin_user))
    assert admin.json()["tags"] == [{"code": "disabled", "name": "残疾人", "grade": "二级"}]


def test_the_resident_list_filters(client, register, dispatcher, grid_worker, bearer, street, tags):
    auth = bearer(dispatcher)
    zhang, li = register["zhang"], register["li"]
    services.resident_tag_add(resident=li, tag=tags["party-member"], actor=dispatcher)
    assert set(ids(client.get("/api/v1/residents", **auth))) == {zhang.pk, li.pk}
    assert ids(client.get("/api/v1/residents", {"q": "建国"}, **auth)) == [zhang.pk]
    assert ids(client.get("/api/v1/residents", {"q": ID_B}, **auth)) == [li.pk]
    assert ids(client.get("/api/v1/residents", {"q": "138 1234 5678"}, **auth)) == [zhang.pk]
    # Part of an ID number matches nothing: there is no plaintext to search.
    assert ids(client.get("/api/v1/residents", {"q": ID_A[:10]}, **auth)) == []
    assert ids(client.get("/api/v1/residents", {"grid": street["g21"].code}, **auth)) == [li.pk]
    assert ids(client.get("/api/v1/residents", {"grid": street["c1"].code}, **auth)) == [zhang.pk]
    assert ids(client.get("/api/v1/residents", {"grid": "nowhere"}, **auth)) == []
    household = {"household": register["home_a"].pk}
    assert ids(client.get("/api/v1/residents", household, **auth)) == [zhang.pk]
    assert ids(client.get("/api/v1/residents", {"tag": "party-member"}, **auth)) == [li.pk]
    services.resident_move_out(resident=zhang, actor=dispatcher, reason="搬走")
    assert ids(client.get("/api/v1/residents", **auth)) == [li.pk]
    everyone = client.get("/api/v1/residents", {"include_moved_out": True}, **auth)
    assert set(ids(everyone)) == {zhang.pk, li.pk}


def test_the_resident_list_does_not_query_per_row(
    client, register, grid_worker, bearer, tags, django_assert_max_num_queries
):
    auth = bearer(grid_worker)
    client.get("/api/v1/residents", **auth)  # token's last_used_at is written once
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/api/v1/residents", **auth).json()["items"]) == 1
    for i in range(29):
        person = services.resident_create(
            actor=grid_worker,
            household=register["home_a"],
            name=f"住户{i}",
            relation="child",
            birth_date=date(1990, 1, 1) + timedelta(days=i),
            gender="F",
        )
        services.resident_tag_add(resident=person, tag=tags["volunteer"], actor=grid_worker)
    with django_assert_max_num_queries(len(one)):
        response = client.get("/api/v1/residents", **auth)
    assert len(response.json()["items"]) == 30 and response.json()["next"] is None


def test_a_bad_check_digit_is_refused_naming_the_field_and_nothing_is_written(
    client, register, grid_worker, bearer
):
    bad = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    before = Resident.objects.count()
    response = post(
        client,
        "/api/v1/residents",
        {"household": register["home_a"].pk, "name": "王五", "relation": "child", "id_number": bad},
        bearer(grid_worker),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["id_number"]
    assert Resident.objects.count() == before


def test_a_duplicate_id_number_is_refused(client, register, grid_worker, bearer):
    response = post(
        client,
        "/api/v1/residents",
        {
            "household": register["home_a"].pk,
            "name": "张建国",
            "relation": "child",
            "id_number": ID_B,
        },
        bearer(grid_worker),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate" and "id_number" in response.json()["fields"]
    assert Resident.objects.count() == 2


def test_a_malformed_resident_is_422_naming_the_fields(client, register, grid_worker, bearer):
    response = post(
        client,
        "/api/v1/residents",
        {"household": "first", "name": "王五", "relation": "cousin", "birth_date": "yesterday"},
        bearer(grid_worker),
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"household", "relation", "birth_date"}


def test_a_grid_worker_registers_a_person_and_sees_them_masked(
    client, register, grid_worker, bearer
):
    number = id_number_make("370502", date(2015, 6, 1), 4)
    response = post(
        client,
        "/api/v1/residents",
        {
            "household": register["home_a"].pk,
            "name": "张小明",
            "relation": "grandchild",
            "id_number": number,
            "phone": "13600001111",
            "moved_in_on": "2015-06-01",
        },
        bearer(grid_worker),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["birth_date"] == "2015-06-01" and body["gender"] == "F"
    assert body["phone_masked"] == "136****1111"
    assert (
        number not in response.content.decode() and "13600001111" not in response.content.decode()
    )
    person = Resident.objects.get(pk=body["id"])
    assert person.household == register["home_a"]
    assert AuditEvent.objects.filter(action="resident.create", target_id=str(person.pk)).exists()


def test_patch_changes_only_the_fields_sent(client, register, grid_worker, bearer):
    zhang = register["zhang"]
    response = patch(
        client, f"/api/v1/residents/{zhang.pk}", {"phone": "13900001234"}, bearer(grid_worker)
    )
    assert response.status_code == 200
    assert response.json()["phone_masked"] == "139****1234"
    assert "13900001234" not in response.content.decode()
    zhang.refresh_from_db()
    assert zhang.phone_masked == "139****1234"
    assert zhang.name == "张建国" and zhang.relation == "head"
    assert zhang.id_number_masked == register["zhang"].id_number_masked

    bad = patch(client, f"/api/v1/residents/{zhang.pk}", {"phone": "12345"}, bearer(grid_worker))
    assert bad.status_code == 400 and "phone" in bad.json()["fields"]
    zhang.refresh_from_db()
    assert zhang.phone_masked == "139****1234"


def test_moving_out_keeps_the_person_marked(client, register, grid_worker, bearer):
    zhang = register["zhang"]
    auth = bearer(grid_worker)
    response = post(client, f"/api/v1/residents/{zhang.pk}/move-out", {"reason": "搬迁"}, auth)
    assert response.status_code == 200
    assert response.json()["moved_out_on"] == timezone.localdate().isoformat()
    assert response.json()["moved_out_reason"] == "搬迁"
    again = post(client, f"/api/v1/residents/{zhang.pk}/move-out", {}, auth)
    assert again.status_code == 400
    assert client.get(f"/api/v1/residents/{zhang.pk}", **auth).status_code == 200


# --- reveal -------------------------------------------------------------------------------


def test_a_reveal_without_a_reason_is_refused_and_logs_nothing(
    client, register, grid_worker, bearer
):
    response = post(
        client,
        f"/api/v1/residents/{register['zhang'].pk}/reveal",
        {"field": "id_number"},
        bearer(grid_worker),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "reason_required" and "reason" in response.json()["fields"]
    assert ID_A not in response.content.decode()
    assert not AccessLog.objects.exists()


def test_a_reveal_with_a_reason_answers_the_value_and_writes_one_log_row(
    client, register, grid_worker, bearer
):
    zhang = register["zhang"]
    auth = bearer(grid_worker)
    response = client.post(
        f"/api/v1/residents/{zhang.pk}/reveal",
        {"field": "id_number", "reason": "办理高龄补贴"},
        content_type="application/json",
        HTTP_USER_AGENT="linli-test",
        **auth,
    )
    assert response.status_code == 200
    assert response.json() == {"field": "id_number", "value": ID_A}
    assert "no-store" in response["Cache-Control"]
    (entry,) = AccessLog.objects.all()
    assert (entry.viewer, entry.resident, entry.field) == (grid_worker, zhang, "id_number")
    assert entry.reason == "办理高龄补贴" and entry.user_agent == "linli-test"

    phone = post(
        client, f"/api/v1/residents/{zhang.pk}/reveal", {"field": "phone", "reason": "联系"}, auth
    )
    assert phone.json()["value"] == PHONE_A
    address = post(
        client, f"/api/v1/residents/{zhang.pk}/reveal", {"field": "address", "reason": "上门"}, auth
    )
    assert address.json()["value"] == "济南路12号1号楼2单元301室"
    assert AccessLog.objects.count() == 3


def test_reveals_over_the_hourly_limit_answer_429(client, register, grid_worker, bearer, settings):
    settings.LINLI_REVEALS_PER_HOUR = 1
    url = f"/api/v1/residents/{register['zhang'].pk}/reveal"
    auth = bearer(grid_worker)
    assert post(client, url, {"field": "phone", "reason": "联系"}, auth).status_code == 200
    response = post(client, url, {"field": "phone", "reason": "联系"}, auth)
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert AccessLog.objects.count() == 1


def test_a_role_not_designated_to_reveal_gets_403(client, register, grid_worker, bearer, settings):
    settings.LINLI_REVEAL_ROLES = ["admin"]
    response = post(
        client,
        f"/api/v1/residents/{register['zhang'].pk}/reveal",
        {"field": "phone", "reason": "联系本人"},
        bearer(grid_worker),
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert not AccessLog.objects.exists()


def test_a_field_that_cannot_be_revealed_is_422(client, register, grid_worker, bearer):
    response = post(
        client,
        f"/api/v1/residents/{register['zhang'].pk}/reveal",
        {"field": "birth_date", "reason": "核实"},
        bearer(grid_worker),
    )
    assert response.status_code == 422 and "field" in response.json()["fields"]
    assert not AccessLog.objects.exists()


# --- households ---------------------------------------------------------------------------


def test_a_grid_worker_adds_and_changes_a_household(client, register, grid_worker, bearer, street):
    auth = bearer(grid_worker)
    response = post(
        client,
        "/api/v1/households",
        {
            "grid": street["g11"].code,
            "building": "370502003001001-B01",
            "address": "济南路12号1号楼",
            "unit": "1单元",
            "room": "502室",
            "tenure": "rented",
            "registration": "migrant",
        },
        auth,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["address_masked"] == "济南路12号1号楼1单元"
    assert body["building_code"] == "370502003001001-B01"
    assert body["members"] == [] and body["n_members"] == 0
    assert "502室" not in response.content.decode()
    household = Household.objects.get(pk=body["id"])
    assert household.room == "502室" and household.grid == street["g11"]

    changed = patch(
        client, f"/api/v1/households/{household.pk}", {"tenure": "owned", "note": "新装修"}, auth
    )
    assert changed.status_code == 200
    assert changed.json()["tenure"] == "owned" and changed.json()["note"] == "新装修"
    household.refresh_from_db()
    assert household.tenure == "owned" and household.registration == "migrant"
    # null empties a text field and leaves a flag or a choice as it is.
    cleared = patch(
        client, f"/api/v1/households/{household.pk}", {"unit": None, "is_active": None}, auth
    )
    assert cleared.status_code == 200
    household.refresh_from_db()
    assert household.unit == "" and household.is_active and household.room == "502室"

    detail = client.get(f"/api/v1/households/{register['home_a'].pk}", **auth)
    assert [m["name"] for m in detail.json()["members"]] == ["张建国"]
    assert detail.json()["n_members"] == 1


def test_a_household_outside_the_callers_grid_is_refused_naming_the_grid(
    client, register, grid_worker, bearer, street
):
    before = Household.objects.count()
    body = {"address": "西四路9号", "tenure": "owned", "registration": "registered"}
    for grid in (street["g21"].code, "nowhere"):
        response = post(client, "/api/v1/households", {**body, "grid": grid}, bearer(grid_worker))
        assert response.status_code == 400 and list(response.json()["fields"]) == ["grid"]
    wrong_building = post(
        client,
        "/api/v1/households",
        {**body, "grid": street["g11"].code, "building": "370502003002001-B01"},
        bearer(grid_worker),
    )
    assert wrong_building.status_code == 400
    assert list(wrong_building.json()["fields"]) == ["building"]
    assert Household.objects.count() == before


def test_the_household_list_filters(client, register, dispatcher, bearer, street):
    auth = bearer(dispatcher)
    home_a, home_b = register["home_a"], register["home_b"]
    everyone = client.get("/api/v1/households", **auth)
    assert {h["id"] for h in everyone.json()["items"]} == {home_a.pk, home_b.pk}
    assert "301室" not in everyone.content.decode()
    by_grid = client.get("/api/v1/households", {"grid": street["g21"].code}, **auth)
    assert [h["id"] for h in by_grid.json()["items"]] == [home_b.pk]
    by_address = client.get("/api/v1/households", {"q": "济南路"}, **auth)
    assert [h["id"] for h in by_address.json()["items"]] == [home_a.pk]
    by_number = client.get("/api/v1/households", {"q": home_b.number}, **auth)
    assert [h["id"] for h in by_number.json()["items"]] == [home_b.pk]
    patch(client, f"/api/v1/households/{home_b.pk}", {"is_active": False}, auth)
    assert [h["id"] for h in client.get("/api/v1/households", **auth).json()["items"]] == [
        home_a.pk
    ]
    both = client.get("/api/v1/households", {"include_inactive": True}, **auth)
    assert len(both.json()["items"]) == 2


# --- visits -------------------------------------------------------------------------------


def test_a_visit_is_recorded_and_listed(
    client, register, grid_worker, other_grid_worker, dispatcher, bearer, street
):
    auth = bearer(grid_worker)
    zhang = register["zhang"]
    response = post(
        client,
        "/api/v1/visits",
        {
            "resident": zhang.pk,
            "method": "home",
            "findings": "身体尚可，冰箱有菜",
            "follow_up_needed": True,
            "follow_up_note": "联系社区医生",
        },
        auth,
    )
    assert response.status_code == 201
    visit = Visit.objects.get()
    assert response.json()["id"] == visit.pk and visit.visitor == grid_worker
    assert response.json()["resident"] == {
        "id": zhang.pk,
        "name": "张建国",
        "household_number": register["home_a"].number,
    }
    assert response.json()["n_photos"] == 0
    services.visit_create(
        resident=register["li"], visitor=dispatcher, method="phone", findings="好"
    )

    assert ids(client.get("/api/v1/visits", **auth)) == [visit.pk]
    staff = bearer(dispatcher)
    assert len(ids(client.get("/api/v1/visits", **staff))) == 2
    assert ids(client.get("/api/v1/visits", {"resident": zhang.pk}, **staff)) == [visit.pk]
    assert ids(client.get("/api/v1/visits", {"grid": street["g11"].code}, **staff)) == [visit.pk]
    assert ids(client.get("/api/v1/visits", {"follow_up_needed": True}, **staff)) == [visit.pk]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert ids(client.get("/api/v1/visits", {"since": tomorrow}, **staff)) == []
    assert (
        client.get(f"/api/v1/visits/{visit.pk}", **auth).json()["findings"] == "身体尚可，冰箱有菜"
    )
    outside = client.get(f"/api/v1/visits/{visit.pk}", **bearer(other_grid_worker))
    assert outside.status_code == 404 and outside.json()["code"] == "not_found"


def test_a_visit_with_bad_input_writes_nothing(client, register, grid_worker, bearer):
    response = post(
        client,
        "/api/v1/visits",
        {
            "resident": register["zhang"].pk,
            "method": "home",
            "findings": "  ",
            "follow_up_needed": True,
        },
        bearer(grid_worker),
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"findings", "follow_up_note"}
    assert not Visit.objects.exists()


def test_only_the_visitor_may_correct_a_visit_within_24_hours(
    client, register, grid_worker, other_grid_worker, dispatcher, bearer
):
    visit = services.visit_create(
        resident=register["zhang"], visitor=grid_worker, method="home", findings="一切正常"
    )
    path = f"/api/v1/visits/{visit.pk}"
    mine = patch(client, path, {"findings": "一切正常，血压偏高"}, bearer(grid_worker))
    assert mine.status_code == 200 and mine.json()["findings"] == "一切正常，血压偏高"
    assert AuditEvent.objects.filter(action="visit.update").count() == 1

    someone_else = patch(client, path, {"findings": "改了"}, bearer(dispatcher))
    assert someone_else.status_code == 403 and someone_else.json()["code"] == "forbidden"
    outside = patch(client, path, {"findings": "改了"}, bearer(other_grid_worker))
    assert outside.status_code == 404

    needs_note = patch(client, path, {"follow_up_needed": True}, bearer(grid_worker))
    assert needs_note.status_code == 400 and "follow_up_note" in needs_note.json()["fields"]

    Visit.objects.filter(pk=visit.pk).update(created_at=timezone.now() - timedelta(hours=25))
    late = patch(client, path, {"findings": "补充"}, bearer(grid_worker))
    assert late.status_code == 400 and late.json()["code"] == "too_late"
    visit.refresh_from_db()
    assert visit.findings == "一切正常，血压偏高" and visit.follow_up_needed is False


def test_the_overdue_list_shows_who_is_due_most_overdue_first(
    client, register, grid_worker, other_grid_worker, bearer, tags
):
    long_ago = timezone.localdate() - timedelta(days=30)
    services.resident_tag_add(
        resident=register["zhang"], tag=tags["elderly-alone"], actor=grid_worker, since=long_ago
    )
    services.resident_tag_add(
        resident=register["li"], tag=tags["elderly-alone"], actor=other_grid_worker, since=long_ago
    )
    response = client.get("/api/v1/overdue-visits", **bearer(grid_worker))
    assert response.status_code == 200
    (zhang,) = response.json()["items"]
    assert zhang["id"] == register["zhang"].pk and zhang["days_overdue"] == 23
    assert ID_A not in response.content.decode()


# --- the description ----------------------------------------------------------------------


def test_the_openapi_description_lists_the_register(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/households",
        "/api/v1/households/{household_id}",
        "/api/v1/residents",
        "/api/v1/residents/{resident_id}",
        "/api/v1/residents/{resident_id}/move-out",
        "/api/v1/residents/{resident_id}/reveal",
        "/api/v1/visits",
        "/api/v1/visits/{visit_id}",
        "/api/v1/overdue-visits",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/residents/{resident_id}"]) == {"get", "patch"}
    out = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["ResidentOut"]
    assert "id_number_masked" in out["properties"] and "id_number" not in out["properties"]
