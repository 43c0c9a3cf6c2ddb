"""Reading the KPIs (docs/kpis.md): one selector, `kpi_report`, behind the leader's KPI
page, `/api/v1/kpis` and the monthly evaluation workbook; `kpi_cases` behind every
drill-down. Both keep to the viewer's scope: area staff see the communities and grids under
their area (and departments and matters only when their area is a whole street or more),
a department handler sees their own department, residents see none.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, Sum

from linli.accounts.models import Department
from linli.accounts.scopes import AREA_ROLES, scope_root, sees_everything
from linli.areas.models import Area
from linli.cases.models import Case, Matter
from linli.cases.selectors import cases_for
from linli.insights.facts import (
    EXCLUSION_FACTS,
    FACT_NAMES,
    FACTS,
    KPI_BY_NAME,
    KPIS,
    fact_expressions,
)
from linli.insights.models import Dim, Grain, Tally
from linli.insights.services import community_map, tally_fold, tally_pending

WIDE_LEVELS = {Area.Level.DISTRICT, Area.Level.STREET}
# How many pending case changes a read folds before it answers; the rest wait for
# `manage.py kpi_fold`, and the page says how many.
FOLD_ON_READ = 5000


class KpiScopeError(Exception):
    """The viewer may not see this breakdown."""


# --- periods --------------------------------------------------------------------------------------


def month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def period_segments(start: date, end: date) -> list[tuple[str, date]]:
    """Cover the days start..end (inclusive) with the fewest rollup periods: whole years,
    then whole months, then single days."""
    segments = []
    day = start
    while day <= end:
        if day.month == 1 and day.day == 1 and date(day.year, 12, 31) <= end:
            segments.append((Grain.YEAR, day))
            day = date(day.year + 1, 1, 1)
        elif day.day == 1 and month_end(day) <= end:
            segments.append((Grain.MONTH, day))
            day = month_end(day) + timedelta(days=1)
        else:
            segments.append((Grain.DAY, day))
            day += timedelta(days=1)
    return segments


# --- scope ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiScope:
    """What a viewer may break the KPIs down by: dim → allowed keys (None: all)."""

    dims: dict

    def keys(self, dim: str):
        if dim not in self.dims:
            raise KpiScopeError(dim)
        return self.dims[dim]

    @property
    def any(self) -> bool:
        return bool(self.dims)


def kpi_scope(user) -> KpiScope:
    if not (user.is_authenticated and user.is_active):
        return KpiScope({})
    if sees_everything(user):
        return KpiScope(dict.fromkeys(Dim.values))
    if user.role == "handler":
        if user.department_id is None:
            return KpiScope({})
        return KpiScope({Dim.DEPARTMENT: {user.department_id}})
    if user.role not in AREA_ROLES:
        return KpiScope({})
    root = scope_root(user)
    if root is None:
        return KpiScope({})
    inside = Area.objects.filter(path__startswith=root.path)
    communities = set(inside.filter(level=Area.Level.COMMUNITY).values_list("pk", flat=True))
    grids = set(
        inside.filter(level__in=[Area.Level.GRID, Area.Level.MICROGRID]).values_list(
            "pk", flat=True
        )
    )
    dims = {Dim.GRID: grids}
    if communities:
        dims[Dim.COMMUNITY] = communities
    if root.level in WIDE_LEVELS:
        dims[Dim.DEPARTMENT] = None
        dims[Dim.MATTER] = None
    return KpiScope(dims)


def kpi_dims_for(user) -> list[str]:
    """The breakdowns `user` may choose, in the order of Dim."""
    scope = kpi_scope(user)
    return [dim for dim in Dim.values if dim in scope.dims]


# --- the figures ----------------------------------------------------------------------------------


def _names(dim: str, keys) -> dict[int, tuple[str, str]]:
    """key → (code, label) of the rows of `dim`, in one query."""
    model = {Dim.DEPARTMENT: Department, Dim.MATTER: Matter}.get(dim, Area)
    rows = model.objects.filter(pk__in=keys).values_list("pk", "code", "name")
    if dim == Dim.MATTER:
        return {pk: (code, f"{code} {name}") for pk, code, name in rows}
    return {pk: (code, name) for pk, code, name in rows}


@dataclass
class KpiRow:
    key: int
    code: str
    label: str
    facts: dict

    @property
    def kpis(self) -> dict:
        return {kpi.name: kpi.value(self.facts) for kpi in KPIS}


@dataclass
class KpiReport:
    dim: str
    start: date
    end: date
    rows: list[KpiRow]
    total: KpiRow
    pending: int = 0  # case changes not yet folded into the figures
    exclusions: dict = field(default_factory=dict)  # fact name → count in the total

    @property
    def excluded(self) -> int:
        return sum(self.exclusions.values())


def kpi_sums(dim: str, start: date, end: date, keys=None) -> dict[int, dict]:
    """key → the facts summed over start..end from the rollups (no scope: callers check).
    One query per grain, each on the whole (dim, grain, period) index."""
    by_grain: dict[str, list[date]] = {}
    for grain, period in period_segments(start, end):
        by_grain.setdefault(grain, []).append(period)
    found: dict[int, dict] = {}
    for grain, periods in by_grain.items():
        rows = Tally.objects.filter(dim=dim, grain=grain, period__in=periods)
        if keys is not None:
            rows = rows.filter(key__in=sorted(keys))
        sums = rows.values("key").annotate(**{n: Sum(n) for n in FACT_NAMES}).order_by()
        for row in sums:
            total = found.setdefault(row["key"], dict.fromkeys(FACT_NAMES, 0))
            for name in FACT_NAMES:
                total[name] += row[name] or 0
    return found


def kpi_report(user, *, dim: str, start: date, end: date) -> KpiReport:
    """The KPIs of the cases reported start..end, one row per key of `dim` in the viewer's
    scope, with the total over those rows. Raises KpiScopeError when the viewer may not
    break the figures down by `dim`."""
    if start > end:
        raise ValueError("start after end")
    keys = kpi_scope(user).keys(dim)
    pending = 0
    if tally_pending():
        tally_fold(limit=FOLD_ON_READ)
        pending = Case.objects.filter(tally_dirty=True).count()
    sums = kpi_sums(dim, start, end, keys)
    names = _names(dim, list(sums))
    rows = [KpiRow(key, *names.get(key, ("", "—")), facts) for key, facts in sums.items()]
    rows.sort(key=lambda row: (row.code, row.key))
    total = {name: sum(row.facts[name] for row in rows) for name in FACT_NAMES}
    exclusions = {name: total[name] for name in EXCLUSION_FACTS if total[name]}
    return KpiReport(
        dim=dim,
        start=start,
        end=end,
        rows=rows,
        total=KpiRow(0, "", "", total),
        pending=pending,
        exclusions=exclusions,
    )


# --- drill-down -----------------------------------------------------------------------------------


def kpi_cases(user, *, dim: str, key: int | None, start: date, end: date, fact: str):
    """The cases behind one fact of one row (key None: the viewer's whole scope), as a
    queryset of the viewer's cases; each case counts once, whatever its count."""
    if fact not in FACTS:
        raise KeyError(fact)
    keys = kpi_scope(user).keys(dim)
    if key is not None and keys is not None and key not in keys:
        raise KpiScopeError(dim)
    wanted = {key} if key is not None else keys
    cases = cases_for(user).filter(reported_on__gte=start, reported_on__lte=end)
    if wanted is not None:
        cases = cases.filter(_dim_q(dim, wanted))
    expression = fact_expressions()[fact]
    return cases.annotate(kpi_fact=expression).filter(kpi_fact__gt=0)


def _dim_q(dim: str, keys) -> Q:
    if dim == Dim.COMMUNITY:
        grids = [grid for grid, community in community_map().items() if community in keys]
        return Q(grid_id__in=grids)
    if dim == Dim.GRID:
        return Q(grid_id__in=keys)
    if dim == Dim.DEPARTMENT:
        q = Q(lead_department_id__in=[k for k in keys if k])
        return q | Q(lead_department__isnull=True) if 0 in keys else q
    return Q(matter_id__in=keys)


# --- who sees the KPIs ----------------------------------------------------------------------------


def kpi_visible(user) -> bool:
    """Whether kpi_dims_for(user) is not empty, from the user's own columns (no query): the
    navigation bar asks on every page."""
    if not (user.is_authenticated and user.is_active):
        return False
    if sees_everything(user):
        return True
    if user.role == "handler":
        return user.department_id is not None
    return user.role in AREA_ROLES and user.area_id is not None


# --- the monthly evaluation -----------------------------------------------------------------------

# The breakdowns ranked in the workbook, one sheet each, in this order.
EVALUATION_DIMS = (Dim.COMMUNITY, Dim.DEPARTMENT, Dim.GRID)
GRADE_RED = "red"


@dataclass
class EvaluationRow:
    key: int
    code: str
    label: str
    rates: dict  # KPI name → percentage or None, for every weighted rate
    score: float | None
    rank: int | None = None
    grade: str | None = None


@dataclass
class EvaluationSheet:
    dim: str
    rows: list[EvaluationRow]
    excluded: int
    exclusions: dict
    pending: int


@dataclass
class Evaluation:
    month: date
    start: date
    end: date
    weights: dict
    grades: dict
    sheets: list[EvaluationSheet]


def evaluation_weights() -> dict[str, int]:
    """LINLI_KPI_WEIGHTS, checked against the rates of KPIS."""
    weights = dict(settings.LINLI_KPI_WEIGHTS)
    wrong = [name for name in weights if name not in KPI_BY_NAME or not KPI_BY_NAME[name].is_rate]
    if wrong or not weights:
        raise ImproperlyConfigured(f"LINLI_KPI_WEIGHTS: not rates of the KPIs: {wrong}")
    return weights


def evaluation_grade(score: float | None, grades: dict) -> str | None:
    if score is None:
        return None
    for grade, lowest in grades.items():
        if score >= lowest:
            return grade
    return GRADE_RED


def evaluation_score(rates: dict, weights: dict) -> float | None:
    """The weighted mean of the rates present: a rate without a denominator (no case due,
    none rated) leaves the score, and its weight is shared out over the others."""
    present = {name: value for name, value in rates.items() if value is not None}
    if not present:
        return None
    weight = sum(weights[name] for name in present)
    return round(sum(weights[name] * value for name, value in present.items()) / weight, 1)


def kpi_evaluation(user, month: date) -> Evaluation:
    """The month's ranking of the communities, departments and grids the viewer may see
    (one sheet each), by the composite score of LINLI_KPI_WEIGHTS; ties share a rank, rows
    without any weighted rate come last, unranked."""
    weights = evaluation_weights()
    grades = dict(settings.LINLI_KPI_GRADES)
    start = month.replace(day=1)
    end = month_end(start)
    sheets = []
    for dim in kpi_dims_for(user):
        if dim not in EVALUATION_DIMS:
            continue
        report = kpi_report(user, dim=dim, start=start, end=end)
        rows = []
        for row in report.rows:
            values = row.kpis
            rates = {name: values[name] for name in weights}
            score = evaluation_score(rates, weights)
            grade = evaluation_grade(score, grades)
            rows.append(EvaluationRow(row.key, row.code, row.label, rates, score, grade=grade))
        rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.code, r.key))
        previous, rank = None, 0
        for position, row in enumerate(rows, start=1):
            if row.score is None:
                break
            if row.score != previous:
                rank, previous = position, row.score
            row.rank = rank
        sheets.append(
            EvaluationSheet(dim, rows, report.excluded, report.exclusions, report.pending)
        )
    sheets.sort(key=lambda sheet: EVALUATION_DIMS.index(sheet.dim))
    return Evaluation(
        month=start, start=start, end=end, weights=weights, grades=grades, sheets=sheets
    )
