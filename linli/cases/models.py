"""The catalogue of matters (派单目录): what a case can be about, who leads on it, how long
the department has, and what the reporter is asked.

Codes follow GB/T 47678.5-2026 as summarised in governance-standards §1.3: a 2-digit major
class and a 5-digit matter code (class + 3 digits). Codes are strings, have gaps and are
never renumbered: cases, statistics and exchanges with other platforms keep them for
years. Class 11 (社区事务) is a local extension. See docs/catalogue.md.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from linli.accounts.models import Department

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
