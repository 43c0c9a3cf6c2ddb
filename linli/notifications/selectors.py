"""Reads for notifications. A user sees their own notifications and no one else's."""

from django.db.models import QuerySet

from linli.notifications.models import Notification


def notifications_for(*, user, unread: bool = False) -> QuerySet[Notification]:
    """`user`'s notifications, newest first (the (recipient, -created_at) index)."""
    rows = Notification.objects.filter(recipient=user)
    if unread:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def unread_count(*, user) -> int:
    """One COUNT over the (recipient, read_at) index: cheap enough for every page."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
