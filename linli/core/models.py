import hashlib
import json

from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.db import INSERT_ONLY, row_insert


class AppendOnlyError(Exception):
    pass


class AppendOnlyModel(models.Model):
    """A row that is written once and never changed or deleted through the ORM (access
    logs, case timelines). The hash-chained AuditEvent below keeps its own save."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError(f"{self._meta.verbose_name_plural} cannot be changed")
        # Every save is an insert: at the cost of its SQL where nothing else is asked for.
        if not args and kwargs.keys() <= INSERT_ONLY:
            using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
            if row_insert(self, using):
                return
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.verbose_name_plural} cannot be deleted")


class AuditEvent(models.Model):
    """An append-only, hash-chained audit trail (等保 2.0 audit; standards §5 item 29).

    Each row's digest covers its content and the previous row's digest, so a row edited or
    removed behind the application's back breaks the chain that `verify_audit` walks.
    """

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target"), max_length=64, blank=True)
    success = models.BooleanField(_("success"), default=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    prev_digest = models.CharField(max_length=64, editable=False)
    digest = models.CharField(max_length=64, editable=False, unique=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        with transaction.atomic():
            # The chain head is read under a lock so that two writers cannot both link to
            # the same predecessor (SQLite serialises writers already; PostgreSQL needs this).
            head = AuditChainHead.objects.select_for_update().get_or_create(pk=1)[0]
            self.prev_digest = head.digest
            self.digest = self.compute_digest()
            super().save(*args, **kwargs)
            head.digest = self.digest
            head.save(update_fields=["digest"])

    def compute_digest(self) -> str:
        body = json.dumps(
            [
                self.prev_digest,
                self.created_at.isoformat(),
                self.actor_id,
                self.actor_label,
                self.action,
                self.target_type,
                self.target_id,
                self.success,
                self.ip,
                self.detail,
            ],
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")


class AuditChainHead(models.Model):
    """The newest digest of the audit chain; one row."""

    digest = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return self.digest


class WorkdayOverride(models.Model):
    """An administrator's answer for one date that wins over the holiday library: a local
    holiday, a typhoon day, or a year whose 调休 arrangement the library does not know yet
    (docs/calendar.md)."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")

    def __str__(self):
        kind = _("working day") if self.is_working_day else _("day off")
        return f"{self.date:%Y-%m-%d} {kind}"


def _workday_override_changed(sender, instance: WorkdayOverride, **kwargs):
    from linli.core.workcal import overrides_changed

    # Dropped now and again at commit: a reader between the two may have cached the
    # calendar as it was before the commit.
    overrides_changed()
    transaction.on_commit(overrides_changed)


# This process sees a saved or deleted override at once; other processes re-read theirs
# within LINLI_WORKCAL_TTL_SECONDS. bulk_create/update() send no signals.
models.signals.post_save.connect(
    _workday_override_changed, sender=WorkdayOverride, dispatch_uid="workday_override_saved"
)
models.signals.post_delete.connect(
    _workday_override_changed, sender=WorkdayOverride, dispatch_uid="workday_override_deleted"
)


class RateCount(models.Model):
    """Requests counted per key in a fixed window, for the rate limits
    (linli.core.ratelimits): one row per key and window, counted up by one statement that
    every web process shares. Rows of ended windows are deleted as new ones come."""

    key = models.CharField(max_length=200)
    starts = models.BigIntegerField(help_text="The window's start, in seconds since the epoch.")
    ends = models.BigIntegerField(db_index=True)
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "starts"], name="ratecount_once")]

    def __str__(self):
        return f"{self.key} {self.starts}: {self.hits}"
