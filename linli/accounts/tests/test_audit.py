import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command

from linli.core.audit import audit_record, audit_verify
from linli.core.models import AppendOnlyError, AuditEvent


def test_the_chain_verifies_and_a_tampered_row_is_found(db, grid_worker):
    for i in range(5):
        audit_record(action="test.event", actor=grid_worker, detail={"i": i})
    assert audit_verify() == []
    call_command("verify_audit")
    victim = AuditEvent.objects.filter(action="test.event").order_by("id")[2]
    AuditEvent.objects.filter(pk=victim.pk).update(detail={"i": 99})
    assert victim.pk in audit_verify()
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit")


def test_a_removed_row_breaks_the_chain(db, grid_worker):
    for i in range(3):
        audit_record(action="test.event", actor=grid_worker, detail={"i": i})
    middle = AuditEvent.objects.filter(action="test.event").order_by("id")[1]
    AuditEvent.objects.filter(pk=middle.pk)._raw_delete(AuditEvent.objects.db)
    assert audit_verify() != []


def test_events_cannot_be_changed_or_deleted_through_the_model(db):
    event = audit_record(action="test.event")
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_admin_actions_are_audited(db, admin_user, grid_worker):
    LogEntry.objects.create(
        user=admin_user,
        content_type=ContentType.objects.get_for_model(grid_worker),
        object_id=str(grid_worker.pk),
        object_repr=str(grid_worker),
        action_flag=CHANGE,
    )
    event = AuditEvent.objects.get(action="admin.change")
    assert event.actor == admin_user and event.detail["object_id"] == str(grid_worker.pk)


def test_an_admin_change_through_the_admin_site_is_audited(client, admin_user, grid_worker):
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/department/add/", {"code": "YJ", "name": "应急", "is_active": "on"}
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="admin.add", actor=admin_user).exists()
