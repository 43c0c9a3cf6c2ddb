"""The set-based rebuild (tally_rebuild_sql) writes the very rollups and per-case records
that folding case by case (tally_fold) writes."""

from datetime import timedelta

import pytest

from linli.cases.case_services import case_merge
from linli.cases.models import Case
from linli.insights.facts import FACT_NAMES
from linli.insights.models import CaseTallied, Tally
from linli.insights.services import tally_check, tally_fold, tally_rebuild_sql
from linli.insights.tests.helpers import MON, closed, report


def rollups() -> dict:
    """Every rollup row with a non-zero fact, keyed by where it counts."""
    found = {}
    for row in Tally.objects.values("dim", "grain", "period", "key", *FACT_NAMES):
        facts = tuple(row[name] for name in FACT_NAMES)
        if any(facts):
            found[(row["dim"], row["grain"], row["period"], row["key"])] = facts
    return found


def records() -> dict:
    return {
        row["case"]: row
        for row in CaseTallied.objects.values(
            "case", "day", "community", "grid", "department", "matter", "facts"
        )
    }


@pytest.fixture
def cases(matter, personas):
    """Cases of two months and years in several states: rated, open, merged, exempted."""
    closed(matter, personas)
    closed(matter, personas, at=MON - timedelta(days=200))
    report(matter, personas["resident"], at=MON + timedelta(days=40))
    target = report(matter, personas["resident"])
    duplicate = report(matter, personas["resident"])
    case_merge(case=duplicate, into=target, actor=personas["dispatcher"], at=MON)
    exempted = report(matter, personas["resident"], at=MON + timedelta(days=1))
    Case.objects.filter(pk=exempted.pk).update(exempt_reason="malicious", tally_dirty=True)


def test_the_rebuild_equals_the_fold(cases):
    folded = tally_fold()
    assert folded.cases == 6
    by_fold, kept_by_fold = rollups(), records()
    assert by_fold

    result = tally_rebuild_sql()

    assert result.cases == 6
    assert result.rows == Tally.objects.count()
    assert rollups() == by_fold
    assert records() == kept_by_fold
    assert not Case.objects.filter(tally_dirty=True).exists()
    assert tally_check().ok


def test_folding_after_the_rebuild_adds_only_the_change(cases, personas):
    tally_rebuild_sql()
    assert tally_fold().cases == 0
    case = Case.objects.filter(status="reported").order_by("pk").first()
    Case.objects.filter(pk=case.pk).update(exempt_reason="outside", tally_dirty=True)

    assert tally_fold().cases == 1

    assert tally_check().ok
    changed = rollups()
    tally_rebuild_sql()
    assert rollups() == changed
