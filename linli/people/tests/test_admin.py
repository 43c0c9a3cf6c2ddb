from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from linli.people import services
from linli.people.models import AccessLog


def test_changing_a_tags_interval_moves_everyones_next_visit(
    client, register, grid_worker, admin_user, tags
):
    zhang = register["zhang"]
    since = timezone.localdate() - timedelta(days=3)
    tag = tags["elderly-alone"]
    services.resident_tag_add(resident=zhang, tag=tag, actor=grid_worker, since=since)
    zhang.refresh_from_db()
    assert zhang.next_visit_due == since + timedelta(days=7)

    client.force_login(admin_user)
    response = client.post(
        reverse("admin:people_tag_change", args=[tag.pk]),
        {
            "code": tag.code,
            "name": tag.name,
            "category": tag.category,
            "visit_interval_days": 2,
            "is_active": "on",
            "sort": tag.sort,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    zhang.refresh_from_db()
    assert zhang.next_visit_due == since + timedelta(days=2)


def test_the_access_log_cannot_be_changed_or_deleted_in_the_admin(
    client, register, grid_worker, admin_user
):
    services.resident_reveal(
        resident=register["zhang"], viewer=grid_worker, field="phone", reason="回访"
    )
    log = AccessLog.objects.get()
    client.force_login(admin_user)
    assert client.get(reverse("admin:people_accesslog_changelist")).status_code == 200
    assert client.post(reverse("admin:people_accesslog_delete", args=[log.pk])).status_code == 403
    client.post(reverse("admin:people_accesslog_change", args=[log.pk]), {"reason": "x"})
    log.refresh_from_db()
    assert log.reason == "回访"
    assert AccessLog.objects.count() == 1
