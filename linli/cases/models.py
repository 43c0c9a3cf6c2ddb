"""The catalogue of matters (派单目录): what a case can be about, who leads on it, how long
the department has, and what the reporter is asked.

Codes follow GB/T 47678.5-2026 as summarised in governance-standards §1.3: a 2-digit major
class and a 5-digit matter code (class + 3 digits). Codes are strings, have gaps and are
never renumbered: cases, statistics and exchanges with other platforms keep them for
years. Class 11 (社区事务) is a local extension. See docs/catalogue.md.
"""

from django.conf import settings
from django.db import models, router
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import Department
from linli.cases.workflow import CLOSED_STATUSES, Status
from linli.core.db import INSERT_ONLY, row_insert
from linli.core.models import AppendOnlyModel

CLASS_CODE_LENGTH = 2
MATTER_CODE_LENGTH = 5


class MatterClass(models.Model):
    """A major class (大类) of the directory: 01–05 are faults of a kind of component
    (部件), 06 onwards are events and matters (事件/事项)."""

    class Kind(models.TextChoices):
        COMPONENT = "component", _("component fault")
        EVENT = "event", _("event or matter")

    code = models.CharField(_("code"), max_length=CLASS_CODE_LENGTH, unique=True)
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sort = models.PositiveSmallIntegerField(_("sort"), default=100)

    class Meta:
        ordering = ["sort", "code"]
        verbose_name = _("matter class")
        verbose_name_plural = _("matter classes")
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("code"), CLASS_CODE_LENGTH),
                name="matter_class_code_two_characters",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["component", "event"]), name="matter_class_kind_known"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Matter(models.Model):
    """One kind of problem a case can be about (小类), e.g. 01001 供水井盖 or 06010 暴露垃圾,
    with its lead department, filing and closing conditions and what it asks the reporter.
    Retire a matter by clearing "active": cases keep pointing at it."""

    code = models.CharField(_("code"), max_length=MATTER_CODE_LENGTH, unique=True)
    name = models.CharField(_("name"), max_length=60)
    matter_class = models.ForeignKey(
        MatterClass, verbose_name=_("class"), on_delete=models.PROTECT, related_name="matters"
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_matters",
        help_text=_("Where the dispatcher sends a case of this matter unless told otherwise."),
    )
    description = models.TextField(_("description"), blank=True)
    filing_condition = models.TextField(
        _("filing condition"), blank=True, help_text=_("When a report is accepted as a case.")
    )
    closing_condition = models.TextField(
        _("closing condition"), blank=True, help_text=_("When a handled case may be closed.")
    )
    needs_check_photo = models.BooleanField(
        _("check photo needed to close"),
        default=False,
        help_text=_("The on-site check must include a photo before the case can close."),
    )
    allows_anonymous = models.BooleanField(
        _("may be reported anonymously"),
        default=True,
        help_text=_("Clear it where the handler has to contact the reporter."),
    )
    public = models.BooleanField(
        _("offered to residents"),
        default=True,
        help_text=_("Listed on the residents' report page and in the Open311 service list."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    keywords = models.CharField(
        _("keywords"),
        max_length=200,
        blank=True,
        help_text=_("Other words people use for it, separated by spaces; used by search."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("matter")
        verbose_name_plural = _("matters")
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("code"), MATTER_CODE_LENGTH),
                name="matter_code_five_characters",
            ),
        ]
        indexes = [models.Index(fields=["is_active", "public"])]

    def __str__(self):
        return f"{self.code} {self.name}"


class Urgency(models.TextChoices):
    """Urgency tiers (一般 / 紧急 / 特急). Cities that tier by severity (一般 / 较重 / 严重,
    standards §1.4) map onto the same three rows."""

    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")
    CRITICAL = "critical", _("critical")


class LimitUnit(models.TextChoices):
    """Working hours count only office time; working days skip weekends and public holidays
    and count make-up working days (调休), as the working-time calendar says."""

    HOURS = "hours", _("working hours")
    DAYS = "days", _("working days")


class MatterLimit(models.Model):
    """The handling limit (处置时限) of a matter at one urgency tier."""

    matter = models.ForeignKey(
        Matter, verbose_name=_("matter"), on_delete=models.CASCADE, related_name="limits"
    )
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency.choices)
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(_("unit"), max_length=8, choices=LimitUnit.choices)

    class Meta:
        ordering = ["matter", "urgency"]
        verbose_name = _("handling limit")
        verbose_name_plural = _("handling limits")
        constraints = [
            models.UniqueConstraint(fields=["matter", "urgency"], name="matter_limit_once"),
            models.CheckConstraint(condition=Q(amount__gte=1), name="matter_limit_positive"),
            models.CheckConstraint(
                condition=Q(unit__in=LimitUnit.values), name="matter_limit_unit_known"
            ),
            models.CheckConstraint(
                condition=Q(urgency__in=Urgency.values), name="matter_limit_urgency_known"
            ),
        ]

    def __str__(self):
        tier, unit = self.get_urgency_display(), self.get_unit_display()
        return f"{self.matter.code} {tier}: {self.amount} {unit}"


class Datatype(models.TextChoices):
    """The six attribute types of an Open311 service definition (open311.md SD3)."""

    STRING = "string", _("one line of text")
    TEXT = "text", _("long text")
    NUMBER = "number", _("number")
    DATETIME = "datetime", _("date and time")
    SINGLEVALUELIST = "singlevaluelist", _("single choice")
    MULTIVALUELIST = "multivaluelist", _("multiple choice")


LIST_DATATYPES = {Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST}


class MatterQuestion(models.Model):
    """An extra question a matter asks the reporter ("which floor", "is anyone hurt"); an
    Open311 attribute of the matter's service definition."""

    matter = models.ForeignKey(
        Matter, verbose_name=_("matter"), on_delete=models.CASCADE, related_name="questions"
    )
    code = models.SlugField(_("code"), max_length=40)
    prompt = models.CharField(_("prompt"), max_length=100)
    datatype = models.CharField(_("type"), max_length=16, choices=Datatype.choices)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveSmallIntegerField(_("order"), default=1)
    help_text = models.CharField(_("help text"), max_length=200, blank=True)

    class Meta:
        ordering = ["matter", "order", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        constraints = [
            models.UniqueConstraint(fields=["matter", "code"], name="matter_question_code_once"),
            models.CheckConstraint(
                condition=Q(datatype__in=Datatype.values), name="matter_question_datatype_known"
            ),
        ]

    def __str__(self):
        return f"{self.matter.code} {self.prompt}"

    @property
    def is_list(self) -> bool:
        return self.datatype in LIST_DATATYPES


class MatterQuestionOption(models.Model):
    """One choice of a single- or multiple-choice question (an Open311 `values` entry)."""

    question = models.ForeignKey(
        MatterQuestion, verbose_name=_("question"), on_delete=models.CASCADE, related_name="options"
    )
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=1)

    class Meta:
        ordering = ["question", "order", "pk"]
        verbose_name = _("option")
        verbose_name_plural = _("options")
        constraints = [
            models.UniqueConstraint(fields=["question", "key"], name="matter_option_key_once"),
        ]

    def __str__(self):
        return self.name


# --- Cases ------------------------------------------------------------------------------------

CONTACT_PHONE_CONTEXT = "case.contact_phone"
DESCRIPTION_MAX = 2000
ADDRESS_MAX = 256
EVENT_NOTE_MAX = 1000


class Source(models.TextChoices):
    """Every entrance of the one queue (issue 4 §3)."""

    RESIDENT = "resident", _("resident report (随手拍)")
    GRID_WORKER = "grid_worker", _("grid worker patrol")
    HOTLINE = "hotline", _("12345 hotline")
    SENSOR = "sensor", _("sensor alarm")
    IMPORT = "import", _("import")
    OPEN311 = "open311", _("Open311")


class ExemptReason(models.TextChoices):
    """Why a case may be taken out of the KPI rates (免考核), with an approver's yes."""

    MALICIOUS = "malicious", _("malicious request (恶意诉求)")
    UNREASONABLE = "unreasonable", _("unreasonable demand (无理诉求)")
    OUTSIDE = "outside", _("outside the street's remit (非本辖区职责)")
    FORCE_MAJEURE = "force_majeure", _("force majeure (不可抗力)")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASIC = "basic", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("not satisfied")


class Case(models.Model):
    """One problem in the one queue (事件), from report to archive. Its status moves only
    through linli.cases.case_services, by the table in linli.cases.workflow; every move
    appends a CaseEvent."""

    number = models.CharField(_("number"), max_length=32, unique=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    # The foreign keys below lead a composite index in Meta.indexes, which serves their
    # lookups; a second index of their own would only cost every insert (the intake).
    matter = models.ForeignKey(
        Matter,
        verbose_name=_("matter"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    urgency = models.CharField(
        _("urgency"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL
    )
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    address = models.CharField(_("address"), max_length=ADDRESS_MAX, blank=True)
    grid = models.ForeignKey(
        "areas.Area",
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
        db_index=False,
    )
    anonymous = models.BooleanField(_("anonymous"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REPORTED, db_index=True
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_cases",
        db_index=False,
    )
    # Indexed for the queue sorted by deadline and the overdue sweep.
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True, db_index=True)
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed for"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    rework_count = models.PositiveSmallIntegerField(_("rework"), default=0)
    sendback_count = models.PositiveSmallIntegerField(_("send-backs"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=16, choices=Satisfaction.choices, null=True, blank=True
    )
    resolved = models.BooleanField(_("resolved"), null=True, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    # The order number or alarm id of the system the case came from (a 12345 order, a
    # sensor alarm, an Open311 client's token): the same one is never taken in twice.
    external_ref = models.CharField(_("external reference"), max_length=64, blank=True)
    # A caller without an account (12345): their name, and their phone sealed like every
    # phone (linli.core.crypto); the masked form is all that lists show.
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_phone_encrypted = models.TextField(blank=True, editable=False)
    contact_phone_index = models.CharField(max_length=64, blank=True, editable=False)
    contact_phone_masked = models.CharField(
        _("contact phone"), max_length=20, blank=True, editable=False
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )
    # --- what the KPIs count (linli.insights.facts; docs/kpis.md) ---
    # The local day of the report: every figure of a period is about the cases reported in it.
    reported_on = models.DateField(_("reported on"), editable=False)
    # Counters the move services keep, because a reopen clears the round's timestamps:
    # dispatches by the centre and how many of them were within the dispatch limit, signs
    # within the response limit (per round: a dispatch or a reopen), replies (处置数).
    dispatch_count = models.PositiveSmallIntegerField(_("dispatches"), default=0)
    dispatch_on_time_count = models.PositiveSmallIntegerField(_("timely dispatches"), default=0)
    sign_on_time_count = models.PositiveSmallIntegerField(_("timely signs"), default=0)
    reply_count = models.PositiveSmallIntegerField(_("replies"), default=0)
    # Once a deadline passed with no reply (found by the SLA sweep or by a late reply), the
    # case counts as overdue (超期) for good.
    was_overdue = models.BooleanField(_("was overdue"), default=False)
    # An approved exemption (linli.cases.models.Exemption) takes the case out of the rates.
    exempt_reason = models.CharField(
        _("exempt as"), max_length=16, choices=ExemptReason.choices, blank=True
    )
    # Set by every save; cleared when linli.insights has folded the case into its rollups.
    tally_dirty = models.BooleanField(default=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="case_status_known"),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="case_source_known"),
            models.CheckConstraint(
                condition=Q(urgency__in=Urgency.values), name="case_urgency_known"
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__in=Satisfaction.values),
                name="case_satisfaction_known",
            ),
            # Only a passed on-site check closes a case (the invariant).
            models.CheckConstraint(
                condition=~Q(status__in=sorted(CLOSED_STATUSES))
                | Q(closed_at__isnull=False, verified_at__isnull=False),
                name="case_closed_is_verified",
            ),
            models.CheckConstraint(
                condition=~Q(status="archived") | Q(archived_at__isnull=False),
                name="case_archived_has_time",
            ),
            models.CheckConstraint(
                condition=Q(lon__gte=-180, lon__lte=180, lat__gte=-90, lat__lte=90),
                name="case_point_on_earth",
            ),
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="case_merged_has_target",
            ),
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~Q(external_ref=""),
                name="case_external_ref_once",
            ),
        ]
        indexes = [
            models.Index(fields=["lead_department", "status"]),
            models.Index(fields=["grid", "status"]),
            models.Index(fields=["reporter", "reported_at"]),
            # The duplicate finder: open cases of a matter near in time.
            models.Index(fields=["matter", "reported_at"]),
            # Drill-down from a KPI to its cases, and the rollups' full-scan check.
            models.Index(fields=["reported_on", "grid"]),
            models.Index(
                fields=["tally_dirty"], condition=Q(tally_dirty=True), name="case_tally_dirty"
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.matter_id}"

    def save(self, *args, **kwargs):
        """Every write marks the case for the KPI rollups (linli.insights folds it)."""
        if self.reported_on is None:
            self.reported_on = timezone.localdate(self.reported_at)
        self.tally_dirty = True
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "tally_dirty"}
        elif not args and kwargs.get("force_insert") is True and kwargs.keys() <= INSERT_ONLY:
            # A new case (the intake): the wide row's insert at the cost of its SQL.
            using = kwargs.get("using") or router.db_for_write(Case, instance=self)
            if row_insert(self, using):
                return
        super().save(*args, **kwargs)


class CaseEvent(AppendOnlyModel):
    """One entry of a case's timeline: who moved it, from what to what, and why.
    Append-only: a mistake is corrected by a further move, never by editing history."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=24)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    note = models.TextField(_("note"), max_length=EVENT_NOTE_MAX, blank=True)
    public = models.BooleanField(_("public"), default=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["case", "created_at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self):
        return f"{self.case_id} {self.action} {self.from_status}→{self.to_status}"


class CaseAssignment(models.Model):
    """A department working on a case: the lead (one) and any co-handlers (协办)."""

    class Role(models.TextChoices):
        LEAD = "lead", _("lead")
        CO_HANDLER = "co_handler", _("co-handler")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="assignments"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["case", "role", "id"]
        verbose_name = _("case assignment")
        verbose_name_plural = _("case assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "department"], name="case_assignment_department_once"
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(role="lead"), name="case_assignment_one_lead"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["lead", "co_handler"]), name="case_assignment_role_known"
            ),
        ]

    def __str__(self):
        return f"{self.case_id} {self.department_id} {self.role}"


# --- photos, support, extensions, supervision, the whistle, sensors -------------------------------


class PhotoKind(models.TextChoices):
    REPORT = "report", _("as reported")
    REPLY = "reply", _("after handling")
    CHECK = "check", _("on-site check")


MAX_PHOTOS_PER_STEP = 6


class CasePhoto(models.Model):
    """A photo of a case, re-encoded without EXIF (linli.core.images): taken by the reporter,
    by the department after handling, or at the on-site check. Served only through a scoped
    view, never from a public URL."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="photos"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=PhotoKind.choices)
    event = models.ForeignKey(
        CaseEvent,
        verbose_name=_("timeline entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="photos",
    )
    image = models.ImageField(upload_to="cases/%Y/%m/")
    thumbnail = models.ImageField(upload_to="cases/%Y/%m/thumbs/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["case", "created_at", "id"]
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PhotoKind.values), name="case_photo_kind_known"
            ),
        ]

    def __str__(self):
        return self.image.name


class CaseSupport(models.Model):
    """A resident who has the same problem says "me too" (+1) on an open case, or the
    reporter of a duplicate merged into it; either way they hear the outcome."""

    class Kind(models.TextChoices):
        ME_TOO = "me_too", _("me too")
        MERGED = "merged", _("merged duplicate")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="supports"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="case_supports",
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    from_case = models.ForeignKey(
        Case,
        verbose_name=_("merged case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["case", "created_at"]
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="case_support_once"),
        ]

    def __str__(self):
        return f"{self.case_id} {self.user_id} {self.kind}"


class Extension(models.Model):
    """A lead department asks, before the deadline, for more time with a reason (延期申请);
    the centre approves (the deadline moves) or refuses (standards §2.4)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="extensions"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), max_length=EVENT_NOTE_MAX)
    amount = models.PositiveIntegerField(_("extra time"))
    unit = models.CharField(_("unit"), max_length=8, choices=LimitUnit.choices)
    old_deadline = models.DateTimeField(_("deadline before"))
    new_deadline = models.DateTimeField(_("deadline asked for"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("answer"), max_length=EVENT_NOTE_MAX, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="extension_one_pending"
            ),
            models.CheckConstraint(
                condition=Q(new_deadline__gt=models.F("old_deadline")),
                name="extension_moves_deadline_later",
            ),
            models.CheckConstraint(condition=Q(amount__gte=1), name="extension_positive"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.case_id} +{self.amount} {self.unit} {self.status}"


class Exemption(models.Model):
    """A request to take a case out of the KPI rates (免考核) — a malicious or unreasonable
    request, one outside the street's remit — with its reason, decided by someone other
    than who asked (standards §2.1: callers must not make malicious repeat calls). Approved
    exemptions are listed, and every KPI page counts the cases they took out."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="exemptions"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=ExemptReason.choices)
    note = models.TextField(_("explanation"), max_length=EVENT_NOTE_MAX)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("asked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("answer"), max_length=EVENT_NOTE_MAX, blank=True)
    created_at = models.DateTimeField(_("asked"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("exemption")
        verbose_name_plural = _("exemptions")
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="exemption_one_pending"
            ),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="approved"), name="exemption_one_approved"
            ),
            # No one approves their own request.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="exemption_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="exemption_decided_has_decider",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.case_id} {self.reason} {self.status}"


class CaseAlert(models.Model):
    """A supervision step the SLA sweep took on a case for one deadline: the reminder
    before it (催办), the notice once it has passed (督办) and the escalation to the leaders
    after five working days overdue. Unique per (case, kind, deadline), so a second sweep
    adds nothing and a new deadline (an extension, a reopen) starts afresh."""

    class Kind(models.TextChoices):
        REMIND = "remind", _("reminder before the deadline")
        SUPERVISE = "supervise", _("overdue notice")
        ESCALATE = "escalate", _("escalation")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    deadline = models.DateTimeField(_("deadline"))
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("supervision alert")
        verbose_name_plural = _("supervision alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "deadline"], name="case_alert_once_per_deadline"
            ),
        ]

    def __str__(self):
        return f"{self.case_id} {self.kind}"


class Whistle(models.Model):
    """吹哨报到: the street summons several departments to a joint case; each one's
    reporting in (报到) is timed."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="whistles"
    )
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("what is needed"), max_length=EVENT_NOTE_MAX)
    created_at = models.DateTimeField(_("blown"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles")

    def __str__(self):
        return f"{self.case_id} {self.created_at:%Y-%m-%d %H:%M}"


class WhistleCall(models.Model):
    """One department summoned by a whistle, and when it reported in."""

    whistle = models.ForeignKey(
        Whistle, verbose_name=_("whistle"), on_delete=models.CASCADE, related_name="calls"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("reported in"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("note"), max_length=EVENT_NOTE_MAX, blank=True)

    class Meta:
        ordering = ["whistle", "department__code"]
        verbose_name = _("summoned department")
        verbose_name_plural = _("summoned departments")
        constraints = [
            models.UniqueConstraint(
                fields=["whistle", "department"], name="whistle_call_department_once"
            ),
        ]

    def __str__(self):
        return f"{self.whistle_id} {self.department_id}"

    @property
    def response_time(self):
        if self.reported_at is None:
            return None
        return self.reported_at - self.whistle.created_at


class SensorDevice(models.Model):
    """A networked sensor (smoke detector, water-level gauge…) that files alarms through
    the JSON endpoint with its own key. Only the SHA-256 of the key is stored."""

    code = models.CharField(_("device code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100)
    matter = models.ForeignKey(
        Matter, verbose_name=_("matter"), on_delete=models.PROTECT, related_name="+"
    )
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    address = models.CharField(_("address"), max_length=ADDRESS_MAX, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    last_seen_at = models.DateTimeField(_("last alarm"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("sensor device")
        verbose_name_plural = _("sensor devices")

    def __str__(self):
        return f"{self.code} {self.name}"
