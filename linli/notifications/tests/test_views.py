import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.notifications.models import Notification
from linli.notifications.selectors import unread_count
from linli.notifications.services import notify

PARAMS = {"name": "王芳", "number": "C-2026-0001", "place": "城管"}
LIST = "/notifications/"


def _rows(user, n, **extra):
    """n notifications for user, one minute apart, the last one newest."""
    start = timezone.now() - timedelta(hours=1)
    return Notification.objects.bulk_create(
        Notification(
            recipient=user,
            kind="test_greeting",
            params={**PARAMS, "name": f"#{i}"},
            created_at=start + timedelta(minutes=i),
            **extra,
        )
        for i in range(n)
    )


def _badge(html: str) -> str:
    return re.search(r'id="notifications-badge"[^>]*>([^<]*)<', html).group(1)


def test_the_urls_are_where_the_docs_say():
    assert reverse("notifications:list") == LIST
    assert reverse("notifications:read", args=[7]) == "/notifications/7/read/"
    assert reverse("notifications:read_all") == "/notifications/read-all/"


def test_the_list_shows_ones_own_newest_first_and_unread_in_bold(client, resident, grid_worker):
    notify([resident], kind="test_greeting", params={**PARAMS, "name": "older"})
    newer, *_ = notify([resident], kind="test_greeting", params={**PARAMS, "name": "newer"})
    notify([grid_worker], kind="test_greeting", params={**PARAMS, "name": "not yours"})
    older = Notification.objects.get(params__name="older")
    older.read_at = timezone.now()
    older.save(update_fields=["read_at"])

    client.force_login(resident)
    response = client.get(LIST)
    html = response.content.decode()

    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert html.index("Hello newer") < html.index("Hello older")
    assert "not yours" not in html
    assert re.search(r'fw-bold">Hello newer<', html)
    assert not re.search(r'fw-bold">Hello older<', html)
    assert "Case C-2026-0001 moved to 城管." in html
    assert [n.pk for n in response.context["page"]] == [newer.pk, older.pk]


def test_the_list_filters_to_unread(client, resident):
    first, second = _rows(resident, 2)
    Notification.objects.filter(pk=first.pk).update(read_at=timezone.now())
    client.force_login(resident)
    response = client.get(LIST, {"unread": "1"})
    assert [n.pk for n in response.context["page"]] == [second.pk]


def test_the_list_pages_by_fifty(client, resident):
    rows = _rows(resident, 51)
    client.force_login(resident)
    first = client.get(LIST)
    assert [n.pk for n in first.context["page"]] == [r.pk for r in reversed(rows[1:])]
    second = client.get(LIST, {"page": 2})
    assert [n.pk for n in second.context["page"]] == [rows[0].pk]
    assert "51 in all" in first.content.decode()


def test_the_list_answers_htmx_with_the_rows_only(client, resident):
    _rows(resident, 2)
    client.force_login(resident)
    html = client.get(LIST, HTTP_HX_REQUEST="true").content.decode()
    assert "Hello #1" in html and "<h1" not in html and '<nav class="navbar' not in html


def test_the_list_costs_the_same_queries_for_any_number_of_rows(client, resident):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _rows(resident, 2)
    client.force_login(resident)
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    _rows(resident, 40)
    with CaptureQueriesContext(connection) as many:
        client.get(LIST)
    assert len(many) == len(few)


def test_the_list_needs_a_sign_in(client, db):
    response = client.get(LIST)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- reading -------------------------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, resident):
    (row,) = notify([resident], kind="test_greeting", params=PARAMS, link="/people/mine/")
    client.force_login(resident)
    response = client.post(reverse("notifications:read", args=[row.pk]))
    assert response.status_code == 302 and response["Location"] == "/people/mine/"
    row.refresh_from_db()
    assert row.read_at is not None


def test_a_notification_without_a_link_returns_to_the_list(client, resident):
    (row,) = notify([resident], kind="test_greeting", params=PARAMS)
    client.force_login(resident)
    response = client.post(reverse("notifications:read", args=[row.pk]))
    assert response.status_code == 302 and response["Location"] == LIST
    row.refresh_from_db()
    assert row.read_at is not None


def test_mark_read_stays_on_the_list(client, resident):
    (row,) = notify([resident], kind="test_greeting", params=PARAMS, link="/people/mine/")
    client.force_login(resident)
    response = client.post(reverse("notifications:read", args=[row.pk]), {"stay": "1"})
    assert response["Location"] == LIST


def test_a_stored_link_off_the_site_is_never_followed(client, resident):
    (row,) = _rows(resident, 1, link="https://evil.example/")
    client.force_login(resident)
    response = client.post(reverse("notifications:read", args=[row.pk]))
    assert response["Location"] == LIST


def test_mark_read_with_htmx_answers_the_row_and_the_badge(client, resident):
    rows = notify([resident], kind="test_greeting", params=PARAMS)
    notify([resident], kind="test_greeting", params=PARAMS)
    client.force_login(resident)
    response = client.post(reverse("notifications:read", args=[rows[0].pk]), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="notification-{rows[0].pk}"' in html and "fw-bold" not in html
    assert 'hx-swap-oob="true"' in html and _badge(html) == "1"


def test_another_users_notification_answers_404_and_stays_unread(client, resident, grid_worker):
    (row,) = notify([grid_worker], kind="test_greeting", params=PARAMS, link="/people/mine/")
    client.force_login(resident)
    assert client.post(reverse("notifications:read", args=[row.pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[row.pk + 1000])).status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_reading_takes_a_post(client, resident):
    (row,) = notify([resident], kind="test_greeting", params=PARAMS)
    client.force_login(resident)
    assert client.get(reverse("notifications:read", args=[row.pk])).status_code == 405
    assert client.get(reverse("notifications:read_all")).status_code == 405
    row.refresh_from_db()
    assert row.read_at is None


def test_reading_needs_a_sign_in_and_a_csrf_token(resident):
    from django.test import Client

    (row,) = notify([resident], kind="test_greeting", params=PARAMS)
    anonymous = Client()
    response = anonymous.post(reverse("notifications:read", args=[row.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(resident)
    assert strict.post(reverse("notifications:read_all")).status_code == 403
    row.refresh_from_db()
    assert row.read_at is None


def test_mark_all_read_marks_only_ones_own(client, resident, grid_worker):
    notify([resident, grid_worker], kind="test_greeting", params=PARAMS)
    notify([resident], kind="test_greeting", params=PARAMS)
    client.force_login(resident)
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302 and response["Location"] == LIST
    assert unread_count(user=resident) == 0
    assert unread_count(user=grid_worker) == 1


def test_mark_all_read_with_htmx_answers_the_rows_and_an_empty_badge(client, resident):
    notify([resident], kind="test_greeting", params=PARAMS)
    client.force_login(resident)
    response = client.post(reverse("notifications:read_all"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Hello 王芳" in html and "fw-bold" not in html and "<h1" not in html
    assert _badge(html) == ""


# --- the badge in the navigation ----------------------------------------------------------


@pytest.mark.parametrize("persona", ["resident", "grid_worker", "handler", "leader", "admin"])
def test_every_role_has_the_entry_with_its_unread_count(client, personas, persona):
    user = personas[persona]
    notify([user], kind="test_greeting", params=PARAMS)
    notify([user], kind="test_greeting", params=PARAMS)
    client.force_login(user)
    html = client.get("/").content.decode()
    assert f'href="{LIST}">Notifications<span' in html
    assert _badge(html) == "2"


def test_the_badge_is_empty_with_nothing_unread_and_caps_at_99(client, resident):
    client.force_login(resident)
    assert _badge(client.get(LIST).content.decode()) == ""
    _rows(resident, 100)
    assert _badge(client.get(LIST).content.decode()) == "99+"


def test_the_unread_count_is_one_query(resident, django_assert_num_queries):
    _rows(resident, 3)
    with django_assert_num_queries(1):
        assert unread_count(user=resident) == 3


def test_a_page_counts_unread_once_however_often_it_shows_it(rf, resident):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.notifications.context_processors import notifications

    _rows(resident, 3)
    request = rf.get("/")
    request.user = resident
    count = notifications(request)["notifications_unread"]
    with CaptureQueriesContext(connection) as queries:
        assert (count(), count()) == (3, 3)
    assert len(queries) == 1
