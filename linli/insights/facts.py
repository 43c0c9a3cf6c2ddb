"""The one definition of every KPI (docs/kpis.md): the facts counted about each case, as
SQL expressions over one case row, and the figures built from them.

Every figure of a period is about the cases *reported* in that period (by local day), each
case counted under its grid, its community, its current lead department and its matter.
The same expressions serve the rollups (linli.insights.services folds them per case), the
full-scan check against the cases (`manage.py kpi_check`) and the drill-down from a figure
to the cases behind its numerator and denominator — so the three cannot disagree.
"""

from dataclasses import dataclass

from django.db.models import Case as If
from django.db.models import F, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _

from linli.cases.models import ExemptReason, Satisfaction, Source
from linli.cases.workflow import OPEN_STATUSES, Status

MERGED = Q(status=Status.MERGED)
# Counted: every case that stays in the rates — not merged into another, not exempted.
COUNTED = ~MERGED & Q(exempt_reason="")
CLOSED = COUNTED & Q(closed_at__isnull=False)
RATED = COUNTED & Q(satisfaction__isnull=False)


def _flag(condition: Q):
    return If(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _number(expression, condition: Q = COUNTED):
    return If(When(condition, then=expression), default=Value(0), output_field=IntegerField())


# name → (expression over one case, what it counts). Order is the column order.
FACTS: dict[str, tuple] = {
    "received": (Value(1, output_field=IntegerField()), _("cases received")),
    **{f"source_{value}": (_flag(Q(source=value)), label) for value, label in Source.choices},
    "merged": (_flag(MERGED), _("merged into another case (duplicates)")),
    **{
        f"exempt_{value}": (_flag(~MERGED & Q(exempt_reason=value)), label)
        for value, label in ExemptReason.choices
    },
    "counted": (_flag(COUNTED), _("cases counted (received − merged − exempted)")),
    "filed": (_flag(COUNTED & Q(accepted_at__isnull=False)), _("filed (立案)")),
    "rejected": (_flag(COUNTED & Q(status=Status.REJECTED)), _("not filed (不予立案)")),
    "dispatches": (_number(F("dispatch_count")), _("dispatches")),
    "dispatches_on_time": (_number(F("dispatch_on_time_count")), _("dispatches in time")),
    "send_backs": (_number(F("sendback_count")), _("send-backs")),
    "rounds": (
        _number(F("dispatch_count") + F("reopen_count")),
        _("rounds to answer (dispatches and reopens)"),
    ),
    "signed_on_time": (_number(F("sign_on_time_count")), _("signed for in time")),
    "due": (
        _flag(COUNTED & (Q(closed_at__isnull=False) | Q(was_overdue=True))),
        _("due: closed, or past a deadline unreplied (应结案)"),
    ),
    "closed": (_flag(CLOSED), _("closed (结案)")),
    "closed_on_time": (_flag(CLOSED & Q(was_overdue=False)), _("closed, never overdue")),
    "overdue": (_flag(COUNTED & Q(was_overdue=True)), _("overdue at some point (超期)")),
    "replies": (_number(F("reply_count")), _("replies (处置数)")),
    "reworks": (_number(F("rework_count")), _("failed checks sent back for rework (返工)")),
    "reopens": (_number(F("reopen_count")), _("reopened after the callback (重办)")),
    "rated": (_flag(RATED), _("rated at the callback (回访)")),
    "resolved": (_flag(RATED & Q(resolved=True)), _("rated resolved")),
    "satisfied": (
        _flag(RATED & Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASIC])),
        _("rated satisfied or basically satisfied"),
    ),
    "satisfied_basic": (
        _flag(RATED & Q(satisfaction=Satisfaction.BASIC)),
        _("of which basically satisfied"),
    ),
    "open": (_flag(COUNTED & Q(status__in=sorted(OPEN_STATUSES))), _("still open")),
}
FACT_NAMES = tuple(FACTS)
SOURCE_FACTS = tuple(f"source_{value}" for value in Source.values)
EXCLUSION_FACTS = ("merged", *(f"exempt_{value}" for value in ExemptReason.values))


def fact_expressions() -> dict:
    return {name: expression for name, (expression, _label) in FACTS.items()}


@dataclass(frozen=True)
class Kpi:
    """A figure: numerator / denominator as a percentage (1 − n/d with `complement`), or a
    plain count when there is no denominator."""

    name: str
    label: str
    numerator: str
    denominator: str | None = None
    complement: bool = False

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None

    def value(self, facts: dict):
        """The percentage to one decimal (None without a denominator), or the count."""
        numerator = facts.get(self.numerator, 0)
        if not self.is_rate:
            return numerator
        denominator = facts.get(self.denominator, 0)
        if not denominator:
            return None
        share = numerator / denominator
        if self.complement:
            share = 1 - share
        return round(share * 100, 1)


KPIS = (
    Kpi("received", _("cases received (受理数)"), "received"),
    Kpi("filing_rate", _("filing rate (立案率)"), "filed", "counted"),
    Kpi(
        "timely_dispatch_rate",
        _("timely dispatch rate (及时派遣率)"),
        "dispatches_on_time",
        "dispatches",
    ),
    Kpi(
        "accurate_dispatch_rate",
        _("accurate dispatch rate (准确派遣率)"),
        "send_backs",
        "dispatches",
        complement=True,
    ),
    Kpi("response_rate", _("response rate (响应率)"), "signed_on_time", "rounds"),
    Kpi("on_time_rate", _("on-time closing rate (按期办结率)"), "closed_on_time", "due"),
    Kpi("closing_rate", _("closing rate (结案率)"), "closed", "due"),
    Kpi("rework_rate", _("rework rate (返工率)"), "reworks", "replies"),
    Kpi("overdue", _("overdue cases (超期数)"), "overdue"),
    Kpi("resolution_rate", _("resolution rate (解决率)"), "resolved", "rated"),
    Kpi("satisfaction_rate", _("satisfaction rate (满意率)"), "satisfied", "rated"),
)
KPI_BY_NAME = {kpi.name: kpi for kpi in KPIS}
