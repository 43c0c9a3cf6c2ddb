"""The rollups follow the cases: folding is incremental, idempotent and equal to a full
scan (linli.insights.services)."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from linli.cases.case_services import (
    case_accept,
)
from linli.cases.models import Case
from linli.insights.facts import KPI_BY_NAME
from linli.insights.models import Tally
from linli.insights.selectors import kpi_report, period_segments
from linli.insights.services import counters_differences, tally_check, tally_fold
from linli.insights.tests.helpers import MON, closed, report


def test_folding_twice_adds_nothing_and_equals_the_full_scan(matter, personas):
    closed(matter, personas)
    report(matter, personas["resident"])
    first = tally_fold()
    assert first.cases == 2
    rows = list(Tally.objects.order_by("pk").values())
    assert tally_fold().cases == 0
    Case.objects.update(tally_dirty=True)
    assert tally_fold().cases == 2
    assert list(Tally.objects.order_by("pk").values()) == rows
    assert tally_check().ok
    assert counters_differences() == []


def test_a_move_is_folded_as_a_difference(matter, personas):
    case = report(matter, personas["resident"])
    tally_fold()
    case_accept(case=case, actor=personas["dispatcher"], at=MON)
    tally_fold()
    result = kpi_report(
        personas["leader"], dim="community", start=date(2026, 6, 1), end=date(2026, 6, 30)
    )
    assert result.total.facts["received"] == 1
    assert result.total.facts["filed"] == 1
    assert KPI_BY_NAME["filing_rate"].value(result.total.facts) == 100.0
    assert tally_check().ok


def test_a_closed_case_counts_on_time_and_satisfied(matter, personas):
    closed(matter, personas)
    result = kpi_report(
        personas["leader"], dim="department", start=date(2026, 1, 1), end=date(2026, 12, 31)
    )
    facts = result.total.facts
    assert (facts["due"], facts["closed"], facts["closed_on_time"]) == (1, 1, 1)
    assert (facts["dispatches"], facts["dispatches_on_time"], facts["signed_on_time"]) == (1, 1, 1)
    assert (facts["rated"], facts["satisfied"], facts["resolved"]) == (1, 1, 1)
    assert tally_check().ok


def test_periods_use_whole_years_then_months_then_days():
    segments = period_segments(date(2025, 11, 30), date(2027, 2, 2))
    assert segments[0] == ("d", date(2025, 11, 30))
    assert ("m", date(2025, 12, 1)) in segments
    assert ("y", date(2026, 1, 1)) in segments
    assert ("m", date(2027, 1, 1)) in segments
    assert segments[-1] == ("d", date(2027, 2, 2))
    assert len(segments) == 1 + 1 + 1 + 1 + 2


def test_the_check_command_reports_a_tampered_rollup(matter, personas):
    closed(matter, personas)
    tally_fold()
    Tally.objects.filter(dim="grid", grain="m").update(closed=5)
    out = StringIO()
    with pytest.raises(Exception, match="do not match"):
        call_command("kpi_check", stdout=out)
    assert "rollup differs" in out.getvalue()


@pytest.mark.parametrize("how", [[], ["--sql"], ["--recount"]])
def test_the_rebuild_command_gives_the_rollups_a_fold_gives(how, matter, personas):
    closed(matter, personas)
    report(matter, personas["resident"])
    tally_fold()
    folded = sorted(
        Tally.objects.values_list("dim", "grain", "period", "key", "closed", "received")
    )
    Tally.objects.all().delete()
    call_command("kpi_rebuild", *how, stdout=StringIO())
    rebuilt = sorted(
        Tally.objects.values_list("dim", "grain", "period", "key", "closed", "received")
    )
    assert rebuilt == folded
    assert tally_check().ok
