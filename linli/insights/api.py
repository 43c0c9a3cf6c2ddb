"""/api/v1/kpis and /api/v1/kpis/cases (docs/api-kpis.md): the figures of the KPI page and
the cases behind one of them, through the same selectors (kpi_report, kpi_cases) and so
the same scope. A breakdown the caller may not use answers 403; a row outside their scope
answers 404, as a case outside it does."""

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from linli.accounts.auth import token_auth
from linli.cases.api import CasePaginator
from linli.cases.workflow import Status as CaseStatus
from linli.core.errors import DomainError
from linli.core.schemas import Day, ErrorOut, Id
from linli.insights.facts import FACTS, KPIS
from linli.insights.forms import month_start, period_errors
from linli.insights.models import Dim
from linli.insights.selectors import (
    KpiRow,
    KpiScopeError,
    kpi_cases,
    kpi_dims_for,
    kpi_report,
    month_end,
)

router = Router(tags=["kpis"], auth=token_auth)

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class KpiQuery(Schema):
    dim: Dim | None = Field(None, description="community, grid, department or matter")
    start: Day | None = Field(None, description="First day reported (default: this month)")
    end: Day | None = Field(None, description="Last day reported, inclusive")


class KpiCasesQuery(KpiQuery):
    key: Id | None = Field(None, description="A row's key; left out: the whole scope")
    fact: str = Field(description="The fact counted, e.g. closed_on_time (see `kpis`)")
    cursor: str | None = Field(None, description="`next` of the previous page")
    limit: int = Field(50, ge=1, le=100)


class KpiDefinitionOut(Schema):
    name: str
    label: str
    numerator: str
    denominator: str | None


class KpiRowOut(Schema):
    key: int
    code: str
    label: str
    facts: dict[str, int]
    kpis: dict[str, float | int | None]


class KpiReportOut(Schema):
    dim: str
    start: date
    end: date
    pending: int = Field(description="Case changes not yet counted in the figures")
    excluded: int = Field(description="Cases left out of the rates (merged, exempted)")
    exclusions: dict[str, int]
    kpis: list[KpiDefinitionOut]
    rows: list[KpiRowOut]
    total: KpiRowOut


class CodeNameOut(Schema):
    code: str
    name: str


class KpiCaseOut(Schema):
    id: int
    number: str
    matter: CodeNameOut
    grid: CodeNameOut
    status: str
    status_label: str
    lead_department: CodeNameOut | None
    reported_at: datetime
    reported_on: date
    closed_at: datetime | None
    count: int = Field(description="How many times the case counts in the fact")


class KpiCasesOut(Schema):
    dim: str
    key: int | None
    start: date
    end: date
    fact: str
    fact_label: str
    items: list[KpiCaseOut]
    next: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


def _period(query: KpiQuery) -> tuple[date, date]:
    today = timezone.localdate()
    start = query.start or (month_start(query.end) if query.end else month_start(today))
    end = query.end or month_end(start)
    errors = period_errors(start, end)
    if errors:
        raise DomainError("invalid", next(iter(errors.values()))[0], errors)
    return start, end


def _dim(request, query: KpiQuery) -> str:
    dims = kpi_dims_for(request.user)
    if not dims:
        raise DomainError("forbidden", _("You may not see the KPIs."))
    dim = query.dim or dims[0]
    if dim not in dims:
        message = _("You may not break the KPIs down by %(dim)s.") % {"dim": dim}
        raise DomainError("forbidden", message, {"dim": [message]})
    return dim


def _row(row: KpiRow) -> dict:
    return {
        "key": row.key,
        "code": row.code,
        "label": row.label,
        "facts": row.facts,
        "kpis": row.kpis,
    }


@router.get("/kpis", response={200: KpiReportOut, **ERRORS}, summary="The KPIs of a period, by row")
def kpi_list(request, query: Query[KpiQuery]):
    """The figures of the cases reported start..end (default: this month), one row per
    community, grid, department or matter in the caller's scope, with the total."""
    dim = _dim(request, query)
    start, end = _period(query)
    report = kpi_report(request.user, dim=dim, start=start, end=end)
    return {
        "dim": report.dim,
        "start": report.start,
        "end": report.end,
        "pending": report.pending,
        "excluded": report.excluded,
        "exclusions": report.exclusions,
        "kpis": [
            {
                "name": kpi.name,
                "label": str(kpi.label),
                "numerator": kpi.numerator,
                "denominator": kpi.denominator,
            }
            for kpi in KPIS
        ],
        "rows": [_row(row) for row in report.rows],
        "total": _row(report.total),
    }


def _code_name(obj) -> dict | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


@router.get(
    "/kpis/cases",
    response={200: KpiCasesOut, **ERRORS},
    summary="The cases behind one figure, a page at a time (cursor)",
)
def kpi_case_list(request, query: Query[KpiCasesQuery]):
    """The caller's cases counted in `fact` for one row (`key`) or the whole scope, newest
    first. Pass `next` as `cursor` for the following page."""
    if query.fact not in FACTS:
        message = _("No such fact; see the numerators and denominators of /kpis.")
        raise DomainError("invalid", message, {"fact": [message]})
    dim = _dim(request, query)
    start, end = _period(query)
    try:
        found = kpi_cases(
            request.user, dim=dim, key=query.key, start=start, end=end, fact=query.fact
        )
    except KpiScopeError:
        raise HttpError(404, _("No such row in your scope.")) from None
    rows, following = CasePaginator("-reported").page(found, cursor=query.cursor, limit=query.limit)
    return {
        "dim": dim,
        "key": query.key,
        "start": start,
        "end": end,
        "fact": query.fact,
        "fact_label": str(FACTS[query.fact][1]),
        "items": [
            {
                "id": case.pk,
                "number": case.number,
                "matter": _code_name(case.matter),
                "grid": _code_name(case.grid),
                "status": case.status,
                "status_label": str(CaseStatus(case.status).label),
                "lead_department": _code_name(case.lead_department),
                "reported_at": case.reported_at,
                "reported_on": case.reported_on,
                "closed_at": case.closed_at,
                "count": case.kpi_fact,
            }
            for case in rows
        ],
        "next": following,
    }
