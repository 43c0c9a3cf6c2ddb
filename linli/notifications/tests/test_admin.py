from django.urls import reverse

from linli.notifications.models import Notification
from linli.notifications.services import notify


def test_administrators_read_the_list_and_nobody_writes_it(client, resident, admin_user):
    (row,) = notify([resident], kind="test_greeting", params={"name": "x"}, object_ref="case:9")
    client.force_login(admin_user)
    listing = client.get(reverse("admin:notifications_notification_changelist"))
    assert listing.status_code == 200 and "case:9" in listing.content.decode()
    assert client.get(reverse("admin:notifications_notification_add")).status_code == 403
    delete = reverse("admin:notifications_notification_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    change = reverse("admin:notifications_notification_change", args=[row.pk])
    client.post(change, {"kind": "other", "object_ref": "case:10"})
    row.refresh_from_db()
    assert (row.kind, row.object_ref) == ("test_greeting", "case:9")
    assert Notification.objects.count() == 1


def test_a_staff_user_of_another_role_does_not_see_them(client, grid_worker):
    grid_worker.is_staff = True
    grid_worker.is_superuser = True
    grid_worker.save()
    client.force_login(grid_worker)
    response = client.get(reverse("admin:notifications_notification_changelist"))
    assert response.status_code == 403
