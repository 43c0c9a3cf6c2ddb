"""The KPI rollups (docs/kpis.md): sums of the facts in linli.insights.facts per period
and per community, grid, department and matter, kept in step with the cases by
linli.insights.services.tally_fold and checked against them by `manage.py kpi_check`.

A period is a day, a month or a year, so that a figure for any span reads at most a few
rows per key: whole years, then whole months, then the days at the edges.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.insights.facts import FACT_NAMES


class Grain(models.TextChoices):
    DAY = "d", _("day")
    MONTH = "m", _("month")
    YEAR = "y", _("year")


class Dim(models.TextChoices):
    COMMUNITY = "community", _("community")
    GRID = "grid", _("grid")
    DEPARTMENT = "department", _("department")
    MATTER = "matter", _("matter")


class Tally(models.Model):
    """The facts summed over the cases reported in one period under one key: the id of a
    community, grid, department or matter (0: no lead department yet)."""

    dim = models.CharField(max_length=12, choices=Dim.choices)
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()
    key = models.BigIntegerField()

    class Meta:
        verbose_name = _("KPI rollup row")
        verbose_name_plural = _("KPI rollup rows")
        constraints = [
            models.UniqueConstraint(fields=["dim", "grain", "period", "key"], name="tally_once")
        ]
        # A whole breakdown reads by (dim, grain, period); a scoped one (a community's grids,
        # a department) by its few keys first.
        indexes = [models.Index(fields=["dim", "key", "grain", "period"], name="tally_by_key")]

    def __str__(self):
        return f"{self.dim} {self.grain} {self.period} {self.key}"


for _name in FACT_NAMES:
    Tally.add_to_class(_name, models.BigIntegerField(default=0))


class CaseTallied(models.Model):
    """What the rollups hold for one case: the keys and the facts it was last folded with,
    so that a change is folded as a difference and folding twice adds nothing."""

    case = models.OneToOneField(
        "cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    community = models.BigIntegerField()
    grid = models.BigIntegerField()
    department = models.BigIntegerField()
    matter = models.BigIntegerField()
    # The non-zero facts, name → count.
    facts = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("case in the KPI rollups")
        verbose_name_plural = _("cases in the KPI rollups")

    def __str__(self):
        return str(self.case_id)
