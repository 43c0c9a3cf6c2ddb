"""The KPI page, its drill-down to the cases behind each figure and the monthly evaluation
workbook (docs/kpis.md). Every figure comes from selectors.kpi_report and every list
of cases from selectors.kpi_cases, so that the page, the API and the workbook keep to the
same scope and the same definitions (linli.insights.facts)."""

from datetime import date, timedelta

from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from linli.accounts.models import Department
from linli.areas.models import Area
from linli.cases.models import Matter
from linli.core.decorators import permission_required
from linli.insights.facts import EXCLUSION_FACTS, FACTS, KPIS, SOURCE_FACTS
from linli.insights.forms import DrillForm, EvaluationForm, KpiForm, Period, month_start
from linli.insights.models import Dim
from linli.insights.selectors import (
    KpiScopeError,
    kpi_cases,
    kpi_dims_for,
    kpi_evaluation,
    kpi_report,
    kpi_visible,
)
from linli.insights.workbook import XLSX_TYPE, evaluation_workbook

PAGE_SIZE = 50
# The two rates drawn as bars beside the table.
CHART_KPIS = ("on_time_rate", "satisfaction_rate")


def _fact_label(name: str) -> str:
    return str(FACTS[name][1])


def drill_url(dim: str, key: int | None, start: date, end: date, fact: str) -> str:
    params = {"dim": dim, "start": start.isoformat(), "end": end.isoformat(), "fact": fact}
    if key is not None:
        params["key"] = key
    return f"{reverse('insights:cases')}?{urlencode(params)}"


def rate_display(value) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} %"


def _cells(report, key: int | None, facts: dict) -> list[dict]:
    def link(fact):
        return drill_url(report.dim, key, report.start, report.end, fact)

    cells = []
    for kpi in KPIS:
        value = kpi.value(facts)
        cell = {
            "kpi": kpi,
            "display": rate_display(value) if kpi.is_rate else value,
            "numerator": facts.get(kpi.numerator, 0),
            "numerator_url": link(kpi.numerator),
        }
        if kpi.is_rate:
            cell["denominator"] = facts.get(kpi.denominator, 0)
            cell["denominator_url"] = link(kpi.denominator)
        if kpi.name == "received":
            cell["sources"] = [
                {"label": _fact_label(name), "count": facts[name], "url": link(name)}
                for name in SOURCE_FACTS
                if facts.get(name)
            ]
        cells.append(cell)
    return cells


def _exemptions_url() -> str | None:
    try:
        return reverse("cases:exemptions")
    except NoReverseMatch:
        return None


def _formulas() -> list[dict]:
    return [
        {
            "label": kpi.label,
            "numerator": _fact_label(kpi.numerator),
            "denominator": _fact_label(kpi.denominator) if kpi.is_rate else None,
            "complement": kpi.complement,
        }
        for kpi in KPIS
    ]


def _chart(report) -> dict:
    rates = {kpi.name: kpi for kpi in KPIS if kpi.name in CHART_KPIS}
    return {
        "labels": [row.label for row in report.rows],
        "series": [
            {"name": str(rates[name].label), "data": [row.kpis[name] for row in report.rows]}
            for name in CHART_KPIS
        ],
    }


@permission_required(kpi_visible)
def kpis(request: HttpRequest) -> HttpResponse:
    dims = kpi_dims_for(request.user)
    today = timezone.localdate()
    form = KpiForm(request.GET, dims=dims, today=today)
    last_month = month_start(month_start(today) - timedelta(days=1))
    context = {
        "form": form,
        "evaluation_form": EvaluationForm(initial={"month": last_month.strftime("%Y-%m")}),
        "custom": request.GET.get("period") == Period.CUSTOM,
        "formulas": _formulas(),
    }
    if not form.is_valid():
        return render(request, "insights/kpis.html", context, status=400)
    data = form.cleaned_data
    report = kpi_report(request.user, dim=data["dim"], start=data["start"], end=data["end"])
    rows = [
        {"row": row, "url_key": row.key, "cells": _cells(report, row.key, row.facts)}
        for row in report.rows
    ]
    exclusions = [
        {
            "label": _fact_label(name),
            "count": report.exclusions[name],
            "url": drill_url(report.dim, None, report.start, report.end, name),
        }
        for name in EXCLUSION_FACTS
        if report.exclusions.get(name)
    ]
    context |= {
        "report": report,
        "dim_label": Dim(report.dim).label,
        "kpis": KPIS,
        "rows": rows,
        "total": _cells(report, None, report.total.facts),
        "exclusions": exclusions,
        "exemptions_url": _exemptions_url(),
        "chart": _chart(report) if report.rows else None,
    }
    return render(request, "insights/kpis.html", context)


def _key_label(dim: str, key: int | None) -> str:
    if key is None:
        return _("all in your scope")
    if dim in (Dim.COMMUNITY, Dim.GRID):
        area = Area.objects.filter(pk=key).first()
        return area.name if area else "—"
    if dim == Dim.DEPARTMENT:
        if key == 0:
            return _("no lead department yet")
        department = Department.objects.filter(pk=key).first()
        return department.name if department else "—"
    matter = Matter.objects.filter(pk=key).first()
    return f"{matter.code} {matter.name}" if matter else "—"


@permission_required(kpi_visible)
def cases(request: HttpRequest) -> HttpResponse:
    form = DrillForm(request.GET)
    if not form.is_valid():
        # A figure that cannot exist (an unknown fact or breakdown) is not found; dates
        # that do not make a period get their field errors.
        if {"dim", "fact", "key"} & set(form.errors) or not request.GET:
            raise Http404
        return render(request, "insights/cases.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        found = kpi_cases(
            request.user,
            dim=data["dim"],
            key=data["key"],
            start=data["start"],
            end=data["end"],
            fact=data["fact"],
        )
    except (KpiScopeError, KeyError):
        raise Http404 from None
    page = Paginator(found.order_by("-reported_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    back = {"dim": data["dim"], "period": Period.CUSTOM}
    back |= {"start": data["start"].isoformat(), "end": data["end"].isoformat()}
    context = {
        "form": form,
        "page": page,
        "fact_label": _fact_label(data["fact"]),
        "figure": found.aggregate(figure=Sum("kpi_fact"))["figure"] or 0,
        "dim_label": Dim(data["dim"]).label,
        "key_label": _key_label(data["dim"], data["key"]),
        "start": data["start"],
        "end": data["end"],
        "back_url": f"{reverse('insights:kpis')}?{urlencode(back)}",
    }
    return render(request, "insights/cases.html", context)


@permission_required(kpi_visible)
def evaluation(request: HttpRequest) -> HttpResponse:
    form = EvaluationForm(request.GET)
    if not form.is_valid():
        return render(request, "insights/evaluation.html", {"form": form}, status=400)
    month = form.cleaned_data["month"]
    result = kpi_evaluation(request.user, month)
    response = HttpResponse(evaluation_workbook(result), content_type=XLSX_TYPE)
    filename = f"kpi-evaluation-{month:%Y-%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
