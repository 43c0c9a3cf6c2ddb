from django.http import HttpRequest

from linli.core.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # axes resolves the address once per request with the configured proxy count.
    return getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR")


def audit_record(
    *,
    action: str,
    actor=None,
    actor_label: str = "",
    target=None,
    success: bool = True,
    request: HttpRequest | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail. `target` is a model instance or None."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else ""),
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        success=success,
        ip=client_ip(request),
        detail=detail or {},
    )


def audit_verify() -> list[int]:
    """Ids of events whose digest or link does not match; empty when the chain is whole."""
    broken = []
    previous = "0" * 64
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_digest != previous or event.compute_digest() != event.digest:
            broken.append(event.pk)
        previous = event.digest
    return broken
