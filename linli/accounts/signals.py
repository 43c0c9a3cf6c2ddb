"""Security events into the audit trail: sign-ins, failed sign-ins, lockouts and every
change made through the admin site (等保 2.0: administrators' actions are audited)."""

from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from linli.core.audit import audit_record

ADMIN_ACTIONS = {1: "add", 2: "change", 3: "delete"}

# Sent after a resident signs up with a verified mobile number (arguments: user, phone in
# E.164). The register listens, to link the account to the person with that number;
# accounts sits below people and does not import it.
resident_signed_up = Signal()


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    audit_record(action="auth.login", actor=user, request=request)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="auth.logout", actor=user, request=request)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    audit_record(
        action="auth.login_failed",
        actor_label=str(credentials.get("username", ""))[:150],
        success=False,
        request=request,
    )


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    audit_record(
        action="auth.locked_out", actor_label=str(username)[:150], success=False, request=request
    )


@receiver(post_save, sender=LogEntry)
def on_admin_action(sender, instance: LogEntry, created, **kwargs):
    if not created:
        return
    audit_record(
        action=f"admin.{ADMIN_ACTIONS.get(instance.action_flag, 'action')}",
        actor=instance.user,
        detail={
            "model": instance.content_type.model if instance.content_type_id else "",
            "object_id": instance.object_id or "",
            "object": instance.object_repr,
            "message": instance.get_change_message(),
        },
    )
