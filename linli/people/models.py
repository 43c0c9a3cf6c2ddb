"""The resident register (人、房、户): households, residents, key-population tags, talents,
visits, correction requests and the personal-data access log.

ID numbers and phones are personal data (standards §4): each is stored three times — as
AES-GCM ciphertext, as a keyed blind index for exact lookup, and masked for display. The
plaintext never reaches the database (a test reads the raw tables to prove it).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area, Building
from linli.core.models import AppendOnlyModel

ID_NUMBER_CONTEXT = "resident.id_number"
PHONE_CONTEXT = "resident.phone"
PROPOSED_PHONE_CONTEXT = "correction.phone"

# GB/T 3304 (中国各民族名称的罗马字母拼写法和代码): the 56 ethnic groups, in code order.
ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族",
    "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族",
    "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族",
    "基诺族",
]  # fmt: skip


class Household(models.Model):
    """A household (户) living at one address in one grid."""

    class Tenure(models.TextChoices):
        OWNED = "owned", _("owned")
        RENTED = "rented", _("rented")
        COLLECTIVE = "collective", _("collective")

    class Registration(models.TextChoices):
        REGISTERED = "registered", _("registered here (户籍)")
        MIGRANT = "migrant", _("migrant (流动)")

    number = models.CharField(_("household number"), max_length=40, unique=True)
    grid = models.ForeignKey(
        Area,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="households",
        limit_choices_to={"level__in": [Area.Level.GRID, Area.Level.MICROGRID]},
    )
    building = models.ForeignKey(
        Building,
        verbose_name=_("building"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="households",
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    room = models.CharField(_("room"), max_length=20, blank=True)
    # The street address down to the building; the room is kept apart so that lists can
    # show the address without it (standards §4.2).
    address = models.CharField(_("address"), max_length=200)
    tenure = models.CharField(_("tenure"), max_length=16, choices=Tenure.choices)
    registration = models.CharField(_("registration"), max_length=16, choices=Registration.choices)
    is_active = models.BooleanField(_("lives here"), default=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [models.Index(fields=["grid", "is_active"])]

    def __str__(self):
        return f"{self.number} {self.address_masked}"

    @property
    def address_masked(self) -> str:
        """The address with the unit but without the room."""
        return f"{self.address}{self.unit}" if self.unit else self.address

    @property
    def address_full(self) -> str:
        return f"{self.address}{self.unit}{self.room}"


class Tag(models.Model):
    """A key-population tag (重点人群: 独居老人, 残疾人, 低保…). Administrators add tags; a
    sensitive tag is seen only by users allowed sensitive data (standards §4.1, §4.3)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=50, unique=True)
    category = models.CharField(_("category"), max_length=50, blank=True)
    is_sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("Only users allowed sensitive data see residents' sensitive tags."),
    )
    has_grade = models.BooleanField(_("has a grade"), default=False)
    visit_interval_days = models.PositiveSmallIntegerField(
        _("visit every (days)"),
        null=True,
        blank=True,
        help_text=_("Blank: people with this tag need no regular visits."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class Resident(models.Model):
    """A person in the register. ID number and phone are encrypted with a blind index."""

    class Gender(models.TextChoices):
        MALE = "M", _("male")
        FEMALE = "F", _("female")

    class Relation(models.TextChoices):
        HEAD = "head", _("head of household")
        SPOUSE = "spouse", _("spouse")
        CHILD = "child", _("child")
        PARENT = "parent", _("parent")
        GRANDCHILD = "grandchild", _("grandchild")
        GRANDPARENT = "grandparent", _("grandparent")
        SIBLING = "sibling", _("sibling")
        OTHER_RELATIVE = "relative", _("other relative")
        NON_RELATIVE = "none", _("not related (tenant, carer…)")

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("name"), max_length=50, db_index=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("date of birth"))
    ethnicity = models.CharField(_("ethnicity"), max_length=10, blank=True, default="汉族")
    relation = models.CharField(_("relation to the head"), max_length=16, choices=Relation.choices)
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_index = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    phone_encrypted = models.TextField(blank=True, editable=False)
    phone_index = models.CharField(max_length=64, blank=True, editable=False, db_index=True)
    phone_masked = models.CharField(_("mobile"), max_length=20, blank=True, editable=False)
    moved_in_on = models.DateField(_("moved in"), null=True, blank=True)
    moved_out_on = models.DateField(_("moved out"), null=True, blank=True)
    moved_out_reason = models.CharField(_("reason for leaving"), max_length=100, blank=True)
    # The signed-in account of this person, so that they can see their own household.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resident",
    )
    tags = models.ManyToManyField(Tag, through="ResidentTag", related_name="residents")
    # Kept in step by the services whenever a tag or a visit changes, so that the overdue
    # list is one indexed range query instead of a per-person computation.
    next_visit_due = models.DateField(_("next visit due"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["household_id", "id"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        # Granted to individual users or groups by an administrator, on top of the roles
        # that have them by default (settings LINLI_REVEAL_ROLES and friends).
        permissions = [
            ("reveal_personal_data", _("May see ID numbers and phones in full, with a reason")),
            ("view_sensitive_tags", _("May see sensitive tags")),
            ("export_full", _("May export the register unmasked")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=~Q(id_number_index=""),
                name="resident_id_number_unique",
            ),
            models.CheckConstraint(
                condition=Q(moved_out_on__isnull=True)
                | Q(moved_in_on__isnull=True)
                | Q(moved_out_on__gte=models.F("moved_in_on")),
                name="resident_moves_out_after_moving_in",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def lives_here(self) -> bool:
        return self.moved_out_on is None

    def age_on(self, day) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class ResidentTag(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, verbose_name=_("tag"), on_delete=models.PROTECT)
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    since = models.DateField(_("since"), default=timezone.localdate)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("resident tag")
        verbose_name_plural = _("resident tags")
        constraints = [
            models.UniqueConstraint(fields=["resident", "tag"], name="resident_tag_once"),
        ]

    def __str__(self):
        return f"{self.resident} · {self.tag}"


class Talent(models.Model):
    """A resident in the talent pool (能人库). Listed only with recorded consent."""

    class Skill(models.TextChoices):
        ELECTRICIAN = "electrician", _("electrician")
        PLUMBER = "plumber", _("plumber")
        REPAIR = "repair", _("repairs")
        LAW = "law", _("law")
        MEDICINE = "medicine", _("medicine and care")
        PSYCHOLOGY = "psychology", _("counselling")
        EDUCATION = "education", _("teaching and tutoring")
        CULTURE = "culture", _("culture and arts")
        IT = "it", _("computers and phones")
        OTHER = "other", _("other")

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="talents")
    skill = models.CharField(_("skill"), max_length=20, choices=Skill.choices)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    certificate = models.CharField(_("certificate"), max_length=100, blank=True)
    willing_to_serve = models.BooleanField(_("willing to serve"), default=False)
    consent_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)
    consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("consent recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["skill", "id"]
        verbose_name = _("talent")
        verbose_name_plural = _("talents")
        constraints = [
            models.UniqueConstraint(fields=["resident", "skill"], name="talent_skill_once"),
        ]

    def __str__(self):
        return f"{self.resident} · {self.get_skill_display()}"


class Visit(models.Model):
    """A visit (走访) by a grid worker: one line of the 民情日志."""

    class Method(models.TextChoices):
        HOME = "home", _("home visit")
        PHONE = "phone", _("phone call")
        VIDEO = "video", _("video call")
        ELSEWHERE = "elsewhere", _("met elsewhere")

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="visits"
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visitor"),
        on_delete=models.PROTECT,
        related_name="visits_made",
    )
    visited_at = models.DateTimeField(_("visited at"), db_index=True)
    method = models.CharField(_("how"), max_length=16, choices=Method.choices)
    findings = models.TextField(_("findings"), max_length=2000)
    follow_up_needed = models.BooleanField(_("follow-up needed"), default=False)
    follow_up_note = models.CharField(_("follow-up"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [models.Index(fields=["resident", "-visited_at"])]

    def __str__(self):
        return f"{self.visited_at:%Y-%m-%d} {self.resident}"


class VisitPhoto(models.Model):
    """A photo taken on a visit, re-encoded without EXIF (linli.core.images)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to="visits/%Y/%m/")
    thumbnail = models.ImageField(upload_to="visits/%Y/%m/thumbs/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self):
        return self.image.name


class CorrectionRequest(models.Model):
    """A resident asks for their record to be corrected (PIPL Art. 46); their grid worker
    approves (the change is applied) or answers why not."""

    class Field(models.TextChoices):
        NAME = "name", _("name")
        PHONE = "phone", _("mobile")
        ETHNICITY = "ethnicity", _("ethnicity")
        RELATION = "relation", _("relation to the head")
        ADDRESS = "address", _("address")
        OTHER = "other", _("something else")

    class Status(models.TextChoices):
        OPEN = "open", _("waiting")
        APPROVED = "approved", _("corrected")
        REJECTED = "rejected", _("answered, not changed")

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="corrections"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="corrections_requested"
    )
    field = models.CharField(_("what is wrong"), max_length=16, choices=Field.choices)
    # A proposed phone is personal data like the stored one: `proposed` then holds its
    # masked form and the number itself is sealed in `proposed_encrypted`.
    proposed = models.CharField(_("correct value"), max_length=200)
    proposed_encrypted = models.TextField(blank=True, editable=False)
    explanation = models.CharField(_("explanation"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections_answered",
    )
    answer = models.CharField(_("answer"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")

    def __str__(self):
        return f"{self.resident} · {self.get_field_display()}"


class AccessLog(AppendOnlyModel):
    """Every full view of personal data and every export (standards §4.2, §4.3): who, whose,
    which field, why, when and from where. Append-only; no one can edit or delete a row."""

    class Field(models.TextChoices):
        ID_NUMBER = "id_number", _("ID number")
        PHONE = "phone", _("mobile")
        ADDRESS = "address", _("full address")
        EXPORT_MASKED = "export", _("export (masked)")
        EXPORT_FULL = "export_full", _("export (in full)")

    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("viewer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_logs",
    )
    field = models.CharField(_("field"), max_length=16, choices=Field.choices)
    reason = models.CharField(_("reason"), max_length=200)
    rows = models.PositiveIntegerField(_("rows"), default=1)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.viewer} {self.field}"
