from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message for one user. Only the kind and the values that fill its message are
    stored: the text is rendered when it is shown, in the viewer's language, from the
    kind registry (linli/notifications/registry.py)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
        # Both composite indexes below start with the recipient and serve its lookups.
        db_index=False,
    )
    kind = models.SlugField(_("kind"), max_length=40)
    params = models.JSONField(_("values"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    # What it is about, e.g. "case:123", so that an app can find the notifications of
    # one of its objects without a foreign key to every app.
    object_ref = models.CharField(_("about"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The list, newest first.
            models.Index(fields=["recipient", "-created_at"], name="notification_list"),
            # The unread badge on every page: one COUNT over this index.
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
