"""Open311 GeoReport v2 (docs/open311.md): the keys clients file with, and the link from
each case or timeline note an Open311 client filed to the key (and so the channel, e.g.
"fixmystreet") that filed it. The cases themselves live in linli.cases."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.cases.models import Case, CaseEvent

EMAIL_CONTEXT = "open311.email"
PHONE_CONTEXT = "open311.phone"
CHANNEL_MAX = 40
CLIENT_ID_MAX = 100
UPDATE_ID_MAX = 100
KEY_PREFIX_LENGTH = 8


class Open311Key(models.Model):
    """A key an Open311 client (a FixMyStreet site, a city app) files requests with. Only
    its SHA-256 is stored; the key is shown once, when it is issued."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    channel = models.SlugField(
        _("channel"),
        max_length=CHANNEL_MAX,
        help_text=_("What the cases it files are marked with, e.g. fixmystreet."),
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("issued"), default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Open311 key")
        verbose_name_plural = _("Open311 keys")

    def __str__(self):
        return f"{self.name} ({self.channel}, {self.key_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Open311Request(models.Model):
    """A case an Open311 client filed: which key (and channel) filed it, the client's own
    ids for the device and account, the media links it sent (stored, never fetched), the
    reporter's email (sealed) and the token the request can also be looked up by."""

    case = models.OneToOneField(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="open311"
    )
    key = models.ForeignKey(
        Open311Key, verbose_name=_("Open311 key"), on_delete=models.PROTECT, related_name="requests"
    )
    channel = models.CharField(_("channel"), max_length=CHANNEL_MAX, db_index=True)
    token = models.CharField(_("token"), max_length=36, unique=True)
    device_id = models.CharField(_("device id"), max_length=CLIENT_ID_MAX, blank=True)
    account_id = models.CharField(_("account id"), max_length=CLIENT_ID_MAX, blank=True)
    media_urls = models.JSONField(_("media links"), default=list, blank=True)
    # Attributes the matter does not ask, kept as sent (FixMyStreet's attribute[uprn]…).
    extra_attributes = models.JSONField(_("other attributes"), default=dict, blank=True)
    email_encrypted = models.TextField(blank=True, editable=False)
    email_masked = models.CharField(_("email"), max_length=100, blank=True, editable=False)
    # The case keeps at most cases.models.DESCRIPTION_MAX characters; Open311 allows 4,000.
    # The whole text is kept here when it was longer.
    description_full = models.TextField(_("full description"), blank=True)
    created_at = models.DateTimeField(_("filed"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")

    def __str__(self):
        return f"{self.case_id} {self.channel}"


class Open311Update(models.Model):
    """A note an Open311 client posted on a case (POST servicerequestupdates): the
    timeline entry it became, and the client's update_id, taken once per channel."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="open311_updates"
    )
    event = models.OneToOneField(
        CaseEvent, verbose_name=_("timeline entry"), on_delete=models.PROTECT, related_name="+"
    )
    key = models.ForeignKey(
        Open311Key, verbose_name=_("Open311 key"), on_delete=models.PROTECT, related_name="updates"
    )
    channel = models.CharField(_("channel"), max_length=CHANNEL_MAX)
    update_id = models.CharField(_("update id"), max_length=UPDATE_ID_MAX)
    media_urls = models.JSONField(_("media links"), default=list, blank=True)
    contact_name = models.CharField(_("name"), max_length=50, blank=True)
    email_encrypted = models.TextField(blank=True, editable=False)
    email_masked = models.CharField(_("email"), max_length=100, blank=True, editable=False)
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    created_at = models.DateTimeField(_("posted"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Open311 update")
        verbose_name_plural = _("Open311 updates")
        constraints = [
            models.UniqueConstraint(fields=["channel", "update_id"], name="open311_update_once"),
        ]

    def __str__(self):
        return f"{self.case_id} {self.channel}:{self.update_id}"
