from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area


class Department(models.Model):
    """A functional department (职能部门) that handles dispatched cases: 城管, 住建, 应急…"""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # The area it answers for (usually the street); blank means the whole system.
    area = models.ForeignKey(
        Area, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self):
        return self.name


class User(AbstractUser):
    """Every person who signs in. Staff users carry a scope: an area subtree (grid worker,
    dispatcher, leader, administrator) or a department (handler)."""

    class Role(models.TextChoices):
        RESIDENT = "resident", _("resident")
        GRID_WORKER = "grid_worker", _("grid worker")
        DISPATCHER = "dispatcher", _("dispatcher")
        HANDLER = "handler", _("department handler")
        LEADER = "leader", _("leader")
        ADMIN = "admin", _("administrator")

    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.RESIDENT, db_index=True
    )
    name = models.CharField(_("display name"), max_length=100, blank=True)
    area = models.ForeignKey(
        Area,
        verbose_name=_("area scope"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    # The mobile number is personal data: stored encrypted, found by its blind index.
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_index = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    phone_masked = models.CharField(_("mobile"), max_length=20, blank=True, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="handler") | Q(department__isnull=False),
                name="user_handler_has_department",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=["grid_worker", "dispatcher", "leader"])
                | Q(area__isnull=False),
                name="user_area_staff_has_area",
            ),
            models.UniqueConstraint(
                fields=["phone_index"],
                condition=~Q(phone_index=""),
                name="user_phone_unique",
            ),
        ]

    def __str__(self):
        return self.name or self.username

    @property
    def is_staff_role(self) -> bool:
        return self.role != self.Role.RESIDENT


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class PhoneCode(models.Model):
    """A one-time SMS code for resident sign-up. The phone is kept only as its blind index,
    the code only as a hash."""

    class Purpose(models.TextChoices):
        SIGNUP = "signup", _("sign-up")

    phone_index = models.CharField(max_length=64, db_index=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"
