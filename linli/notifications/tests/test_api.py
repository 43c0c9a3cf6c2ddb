from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.notifications.models import Notification
from linli.notifications.services import notify

PARAMS = {"name": "王芳", "number": "C-2026-0001", "place": "城管"}
API = "/api/v1/notifications"


def test_without_a_token_it_answers_401(client, db):
    for response in [client.get(API), client.post(f"{API}/read-all"), client.post(f"{API}/1/read")]:
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"


def test_the_list_holds_ones_own_newest_first_rendered(client, resident, grid_worker, bearer):
    older, *_ = notify([resident], kind="test_greeting", params=PARAMS, object_ref="case:1")
    newer, *_ = notify([resident], kind="test_greeting", params=PARAMS, link="/cases/2/")
    notify([grid_worker], kind="test_greeting", params=PARAMS)

    body = client.get(API, HTTP_ACCEPT_LANGUAGE="en", **bearer(resident)).json()

    assert body["next"] is None
    assert [item["id"] for item in body["items"]] == [newer.pk, older.pk]
    item = body["items"][1]
    assert item["kind"] == "test_greeting"
    assert item["title"] == "Hello 王芳"
    assert item["body"] == "Case C-2026-0001 moved to 城管."
    assert (item["link"], item["object_ref"], item["read_at"]) == ("", "case:1", None)
    assert body["items"][0]["link"] == "/cases/2/"


def test_the_list_filters_unread_and_pages_by_cursor(client, resident, bearer):
    rows = [notify([resident], kind="test_greeting", params=PARAMS)[0] for _ in range(3)]
    Notification.objects.filter(pk=rows[2].pk).update(read_at=rows[2].created_at)
    auth = bearer(resident)

    unread = client.get(API, {"unread": "true"}, **auth).json()
    assert [i["id"] for i in unread["items"]] == [rows[1].pk, rows[0].pk]
    first = client.get(API, {"limit": 2}, **auth).json()
    assert [i["id"] for i in first["items"]] == [rows[2].pk, rows[1].pk]
    rest = client.get(API, {"limit": 2, "cursor": first["next"]}, **auth).json()
    assert [i["id"] for i in rest["items"]] == [rows[0].pk] and rest["next"] is None


def test_the_list_costs_the_same_queries_for_any_number_of_rows(client, resident, bearer):
    auth = bearer(resident)
    notify([resident], kind="test_greeting", params=PARAMS)
    client.get(API, **auth)
    with CaptureQueriesContext(connection) as few:
        client.get(API, **auth)
    for _ in range(10):
        notify([resident], kind="test_greeting", params=PARAMS)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(API, **auth).json()["items"]) == 11
    assert len(many) == len(few)


def test_reading_one_marks_it_and_answers_it(client, resident, bearer):
    (row,) = notify([resident], kind="test_greeting", params=PARAMS)
    response = client.post(f"{API}/{row.pk}/read", **bearer(resident))
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.read_at is not None
    assert response.json()["id"] == row.pk and response.json()["read_at"] is not None


def test_another_users_notification_answers_404_and_stays_unread(
    client, resident, grid_worker, bearer
):
    (row,) = notify([grid_worker], kind="test_greeting", params=PARAMS)
    response = client.post(f"{API}/{row.pk}/read", HTTP_ACCEPT_LANGUAGE="en", **bearer(resident))
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "No such notification.",
        "fields": {},
    }
    row.refresh_from_db()
    assert row.read_at is None


def test_read_all_marks_only_ones_own(client, resident, grid_worker, bearer):
    notify([resident, grid_worker], kind="test_greeting", params=PARAMS)
    notify([resident], kind="test_greeting", params=PARAMS)
    response = client.post(f"{API}/read-all", **bearer(resident))
    assert response.json() == {"marked": 2}
    assert not Notification.objects.filter(recipient=resident, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=grid_worker).read_at is None
    assert client.post(f"{API}/read-all", **bearer(resident)).json() == {"marked": 0}


def test_the_api_is_described_in_openapi(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {API, f"{API}/read-all", f"{API}/{{notification_id}}/read"} <= set(paths)
