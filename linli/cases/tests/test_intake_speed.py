"""Filing a case through POST /api/v1/cases stays cheap (docs/performance.md, intake): a
fixed number of queries once the catalogue and the grid index are warm, the 201 answer
built from the objects in hand and equal to what GET /cases/{id} answers, the number
written with the row, and the caches following edits."""

import json

import pytest
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from linli.accounts.auth import api_token_for
from linli.accounts.services import api_token_issue
from linli.areas import geo
from linli.areas.models import Area
from linli.cases import selectors
from linli.cases.models import Case, CaseEvent, MatterQuestion
from linli.cases.tests import test_api
from linli.core.testing import photo_upload

IN_G11 = (118.605, 37.405)
IN_G21 = (118.625, 37.405)
WARM = {"LINLI_GRID_INDEX_TTL_SECONDS": 60, "LINLI_CATALOGUE_TTL_SECONDS": 60}


def _forget() -> None:
    selectors._filing_matters.clear()
    geo._state.update(index=None, version=None, checked=0.0)


@pytest.fixture(autouse=True)
def cold_caches():
    """Every test starts and ends without matters or grids kept from another test's
    database: with the WARM settings nothing would be re-read for a minute."""
    _forget()
    yield
    _forget()


@pytest.fixture
def people(personas, catalogue):
    return personas


# The API caller and the filing of the API's own tests (a fixture imported is a fixture).
api = test_api.api
filing = test_api.filing
post = test_api.file_case


# --- queries ------------------------------------------------------------------------------------


@override_settings(**WARM)
def test_a_warm_json_filing_costs_seven_queries(api, people, matter, django_assert_max_num_queries):
    resident = people["resident"]
    post(api, resident)  # warms the catalogue, the grid index and the token's last use
    # The token with its user; both intake rate limits counted in one upsert; then the
    # transaction (a savepoint inside the test's own): the case's id, the case with its
    # number, its timeline entry.
    with django_assert_max_num_queries(7) as captured:
        created = post(api, resident)
    sql = [query["sql"] for query in captured.captured_queries]
    assert sum(s.startswith('INSERT INTO "core_ratecount"') for s in sql) == 1
    assert sum(s.startswith("INSERT") for s in sql) == 3
    assert not any(s.startswith("UPDATE") for s in sql)
    assert Case.objects.get(pk=created["id"]).number == created["number"]


def test_a_cold_filing_reads_the_catalogue_and_the_grid_index_version(
    api, people, matter, django_assert_max_num_queries
):
    """With the test settings' TTLs of 0, every filing re-reads the matter with its
    questions and options and re-checks the grid index's version."""
    resident = people["resident"]
    post(api, resident)
    with django_assert_max_num_queries(11):
        post(api, resident)


def test_a_token_costs_one_query_and_one_more_for_a_staff_scope_or_department(
    people, django_assert_num_queries
):
    expected = {"resident": 1, "grid_worker": 2, "handler": 2, "dispatcher": 2}
    for role, queries in expected.items():
        user = people[role]
        _token, raw = api_token_issue(user=user)
        with django_assert_num_queries(queries):
            loaded = api_token_for(raw).user
            assert (loaded.pk, loaded.role) == (user.pk, user.role)
            assert (loaded.area, loaded.department) == (user.area, user.department)
            assert loaded.area is None or loaded.area.path == user.area.path


# --- the answer ---------------------------------------------------------------------------------


def same_as_get(api, user, created: dict) -> None:
    shown = api(user).get(f"/api/v1/cases/{created['id']}")
    assert shown.status_code == 200
    assert created == shown.json()


def test_the_answer_equals_the_residents_get_detail(api, people, matter):
    resident = people["resident"]
    created = post(api, resident, anonymous=True)
    assert (created["level"], created["supporters"], created["anonymous"]) == ("reporter", 0, True)
    assert [event["by"] for event in created["timeline"]] == ["the reporter"]
    same_as_get(api, resident, created)


def test_the_answer_equals_the_staff_get_detail_of_a_hotline_call(api, people, matter):
    dispatcher = people["dispatcher"]
    created = post(
        api,
        dispatcher,
        contact_name="刘女士",
        contact_phone="13812345678",
        external_ref="12345-20260601-0009",
        urgency="urgent",
    )
    assert created["level"] == "staff"
    assert created["actions"] == ["accept", "reject", "merge"]
    assert created["contact_phone_masked"] == "138****5678"
    assert created["timeline"][0]["actor"]["role"] == "dispatcher"
    assert (created["assignments"], created["extensions"], created["whistles"]) == ([], [], [])
    same_as_get(api, dispatcher, created)


def test_the_answer_with_photos_equals_the_get_detail(api, people, matter, media_root):
    worker = people["grid_worker"]
    response = api(worker).multipart(
        "/api/v1/cases",
        filing(answers=json.dumps({"amount": "small"}))
        | {"photos": [photo_upload("a.jpg"), photo_upload("b.jpg")]},
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["level"] == "staff"
    assert len(created["photos"]) == 2
    assert created["timeline"][0]["photo_ids"] == [photo["id"] for photo in created["photos"]]
    same_as_get(api, worker, created)


def test_a_patrol_report_beyond_the_workers_grid_is_answered_at_the_reporters_level(
    api, people, matter
):
    worker = people["grid_worker"]
    created = post(api, worker, lon=IN_G21[0], lat=IN_G21[1])
    assert created["grid"]["code"] == "370502003002001"
    assert created["level"] == "reporter"
    assert created["actions"] == []
    assert created["reporter"] is None  # staff-only fields stay empty
    assert api(worker).get(f"/api/v1/cases/{created['id']}").status_code == 404


# --- the number ---------------------------------------------------------------------------------


def _sequence_skip(by: int) -> None:
    """Move the id the database would give next on by `by`, as rolled-back or deleted
    rows do."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), "
                "(SELECT max(id) FROM cases_case) + %s)",
                [by],
            )
        else:
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = 'cases_case'", [by]
            )


def test_the_number_is_the_year_and_the_id_the_database_gives(api, people, matter):
    resident = people["resident"]
    first = post(api, resident)
    _sequence_skip(100)
    second = post(api, resident)
    assert second["id"] == first["id"] + 101
    case = Case.objects.get(pk=second["id"])
    assert case.number == second["number"] == f"{case.reported_at:%Y}-{case.pk:08d}"
    third = post(api, resident)
    assert third["id"] == second["id"] + 1
    assert len({first["number"], second["number"], third["number"]}) == 3


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite fallback")
def test_without_immediate_transactions_the_number_follows_the_insert(api, people, matter):
    # A deferred BEGIN would not hold the write lock while the id is read ahead.
    wrapper = connections["default"]
    mode, wrapper.transaction_mode = wrapper.transaction_mode, None
    try:
        with CaptureQueriesContext(wrapper) as captured:
            created = post(api, people["resident"])
    finally:
        wrapper.transaction_mode = mode
    updates = [q["sql"] for q in captured.captured_queries if 'UPDATE "cases_case"' in q["sql"]]
    assert len(updates) == 1
    assert '"number"' in updates[0]
    case = Case.objects.get(pk=created["id"])
    assert case.number == created["number"] == f"{case.reported_at:%Y}-{case.pk:08d}"
    assert CaseEvent.objects.get(case=case).action == "report"


# --- the caches follow edits ----------------------------------------------------------------------


@override_settings(**WARM)
def test_a_matter_retired_or_given_a_required_question_is_seen_by_the_next_filing(
    api, people, matter
):
    resident = people["resident"]
    post(api, resident)
    MatterQuestion.objects.create(
        matter=matter, code="floor", prompt="哪一层？", datatype="number", required=True
    )
    refused = api(resident).post("/api/v1/cases", filing())
    assert refused.status_code == 400
    assert "answers.floor" in refused.json()["fields"]
    assert post(api, resident, answers={"amount": "cart", "floor": 3})["answers"]["floor"] == 3
    matter.is_active = False
    matter.save()
    refused = api(resident).post("/api/v1/cases", filing(answers={"amount": "cart", "floor": 3}))
    assert refused.status_code == 400
    assert "matter" in refused.json()["fields"]


@override_settings(**WARM)
def test_an_edit_made_behind_the_orms_back_is_seen_once_the_ttl_has_passed(api, people, matter):
    resident = people["resident"]
    post(api, resident)
    # As another process's edit: no signal reaches this one.
    type(matter).objects.filter(pk=matter.pk).update(public=False)
    post(api, resident)
    loaded_at, held = selectors._filing_matters[matter.code]
    selectors._filing_matters[matter.code] = (loaded_at - 61, held)
    refused = api(resident).post("/api/v1/cases", filing())
    assert refused.status_code == 400
    assert "matter" in refused.json()["fields"]


def test_a_renamed_grid_is_named_anew_in_the_next_answer(api, people, matter):
    resident = people["resident"]
    assert post(api, resident)["grid"]["name"] == "胜园社区第1网格"
    grid = Area.objects.get(code="370502003001001")
    grid.name = "胜园社区第一网格"
    grid.save()  # moves the grid index's version, which the test settings check every time
    assert post(api, resident)["grid"]["name"] == "胜园社区第一网格"


# --- row_insert: the same row as the ORM's insert ------------------------------------------------


def _stored(model, pk) -> dict:
    """The row as the database holds it, column by column (strings, numbers, NULLs as the
    driver returns them), without converting back through the fields."""
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE {column} = %s", [pk])  # noqa: S608
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def _twins(matter, street, people, **extra):
    """Two unsaved cases alike in every field but the number."""
    import datetime as dt

    from django.utils import timezone

    at = timezone.now().replace(microsecond=123456)
    fields = {
        "source": "resident",
        "matter": matter,
        "description": "路灯不亮 a < b “引号”\n第二行",
        "lon": 118.605,
        "lat": 37.405,
        "address": "1号楼",
        "grid": street["g11"],
        "reporter": people["resident"],
        "anonymous": True,
        "status": "reported",
        "reported_at": at,
        "deadline": at + dt.timedelta(hours=4),
        "answers": {"楼层": 3, "list": ["a", "b"], "none": None},
        "contact_name": "张",
        "created_at": at,
        **extra,
    }
    return Case(number="T-ROW-1", **fields), Case(number="T-ROW-2", **fields)


def test_row_insert_stores_what_the_orm_stores(people, matter, street):
    from django.utils import timezone

    fast, orm = _twins(matter, street, people)
    before = timezone.now()
    fast.save(force_insert=True)  # row_insert
    orm.save(force_insert=True, update_fields=None)  # any other argument: Django's own insert
    assert fast.pk and orm.pk and fast.pk != orm.pk
    assert not fast._state.adding and fast._state.db == "default"
    one, two = _stored(Case, fast.pk), _stored(Case, orm.pk)
    for row in (one, two):
        row.pop("id"), row.pop("number")
    # auto_now: each took the time of its own save.
    assert one.pop("updated_at") and two.pop("updated_at")
    assert Case.objects.get(pk=fast.pk).updated_at >= before
    assert one == two
    assert one["reported_on"] is not None and one["tally_dirty"] in (True, 1)
    assert Case.objects.get(pk=fast.pk).answers == {"楼层": 3, "list": ["a", "b"], "none": None}

    fast_event = CaseEvent(case=fast, actor=people["resident"], action="report", to_status="x")
    orm_event = CaseEvent(case=orm, actor=people["resident"], action="report", to_status="x")
    fast_event.created_at = orm_event.created_at  # the default was taken at each's creation
    fast_event.save()
    orm_event.save(update_fields=None, force_insert=True)
    one, two = _stored(CaseEvent, fast_event.pk), _stored(CaseEvent, orm_event.pk)
    for row in (one, two):
        row.pop("id"), row.pop("case_id")
    assert one == two


def test_row_insert_refuses_an_unsaved_related_object(people, matter, street):
    from linli.areas.models import Area as AreaModel

    case, _ = _twins(matter, street, people, grid=AreaModel(level="grid", code="x"))
    with pytest.raises(ValueError, match="unsaved related object 'grid'"):
        case.save(force_insert=True)
    assert not Case.objects.filter(number="T-ROW-1").exists()
