"""The monthly evaluation ranks what the viewer may see by the weighted score of its rates,
re-weighting over the rates present, and the workbook shows the ranking and the grades
(linli.insights.selectors.kpi_evaluation, linli.insights.workbook)."""

from datetime import date
from io import BytesIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from linli.insights.selectors import evaluation_grade, evaluation_score, kpi_evaluation
from linli.insights.tests.helpers import closed, report
from linli.insights.workbook import GRADE_COLOURS, HEADER_ROW

JUNE = date(2026, 6, 1)
WEIGHTS = {"on_time_rate": 30, "satisfaction_rate": 35, "resolution_rate": 35}
GRADES = {"green": 90, "blue": 80, "yellow": 70}


@pytest.fixture
def june(matter, personas):
    """c1 (g11): two cases closed, both satisfied; c2 (g21): one closed, not satisfied and
    not resolved, and one still open."""
    closed(matter, personas, "g11")
    closed(matter, personas, "g11")
    closed(matter, personas, "g21", satisfied=False)
    report(matter, personas["resident"], "g21")


def test_the_score_is_the_weighted_mean_of_the_rates_present():
    rates = {"on_time_rate": 80.0, "satisfaction_rate": None, "resolution_rate": 100.0}
    # The satisfaction rate has no denominator: 30 and 35 share the whole weight.
    assert evaluation_score(rates, WEIGHTS) == round((30 * 80 + 35 * 100) / 65, 1) == 90.8
    assert evaluation_score(dict.fromkeys(WEIGHTS), WEIGHTS) is None
    full = {"on_time_rate": 100.0, "satisfaction_rate": 50.0, "resolution_rate": 0.0}
    assert evaluation_score(full, WEIGHTS) == 47.5


@pytest.mark.parametrize(
    ("score", "grade"),
    [(100, "green"), (90, "green"), (89.9, "blue"), (80, "blue"), (70, "yellow"), (69.9, "red")],
)
def test_grades_start_at_their_thresholds(score, grade):
    assert evaluation_grade(score, GRADES) == grade


def test_a_leader_gets_communities_departments_and_grids_ranked(personas, street, june):
    evaluation = kpi_evaluation(personas["leader"], JUNE)
    assert [sheet.dim for sheet in evaluation.sheets] == ["community", "department", "grid"]
    communities = evaluation.sheets[0]
    assert [(r.key, r.rank, r.score, r.grade) for r in communities.rows] == [
        (street["c1"].pk, 1, 100.0, "green"),
        (street["c2"].pk, 2, 30.0, "red"),  # on time (30), unsatisfied, unresolved
    ]
    assert communities.rows[1].rates == {
        "on_time_rate": 100.0, "satisfaction_rate": 0.0, "resolution_rate": 0.0,
    }  # fmt: skip


def test_ties_share_a_rank_and_rows_without_rates_come_last_unranked(personas, street, matter):
    closed(matter, personas, "g11")
    closed(matter, personas, "g12")
    report(matter, personas["resident"], "g21")
    grids = kpi_evaluation(personas["leader"], JUNE).sheets[-1]
    assert [(r.key, r.rank) for r in grids.rows] == [
        (street["g11"].pk, 1),
        (street["g12"].pk, 1),
        (street["g21"].pk, None),
    ]
    assert grids.rows[-1].score is None and grids.rows[-1].grade is None


def test_a_handler_and_a_grid_worker_get_only_their_own(personas, street, june):
    handler = kpi_evaluation(personas["handler"], JUNE)
    assert [(s.dim, [r.key for r in s.rows]) for s in handler.sheets] == [
        ("department", [street["dept"].pk])
    ]
    worker = kpi_evaluation(personas["other_grid_worker"], JUNE)
    assert [(s.dim, [r.key for r in s.rows]) for s in worker.sheets] == [
        ("grid", [street["g21"].pk])
    ]


def test_the_weights_come_from_the_settings(personas, street, june, settings):
    settings.LINLI_KPI_WEIGHTS = {"satisfaction_rate": 1}
    communities = kpi_evaluation(personas["leader"], JUNE).sheets[0]
    assert [r.score for r in communities.rows] == [100.0, 0.0]
    settings.LINLI_KPI_WEIGHTS = {"received": 1}
    with pytest.raises(ImproperlyConfigured):
        kpi_evaluation(personas["leader"], JUNE)


def _workbook(content: bytes):
    return load_workbook(BytesIO(content))


def _fill(cell) -> str:
    return cell.fill.start_color.rgb[-6:]


def test_the_workbook_ranks_and_fills_by_the_scores(client, personas, street, june):
    client.force_login(personas["leader"])
    client.cookies["django_language"] = "en"
    response = client.get(reverse("insights:evaluation"), {"month": "2026-06"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "kpi-evaluation-2026-06.xlsx" in response["Content-Disposition"]
    book = _workbook(response.content)
    assert book.sheetnames == ["community", "department", "grid"]
    ws = book["community"]
    assert "2026-06" in ws["A1"].value
    assert "30" in ws["A2"].value and "35" in ws["A2"].value
    assert ws["A3"].value.startswith("Cases excluded from the figures: 0")
    headings = [c.value for c in ws[HEADER_ROW]]
    assert headings[:3] == ["Rank", "Code", "Name"] and headings[-2:] == ["Score", "Grade"]
    first, second = ws[HEADER_ROW + 1], ws[HEADER_ROW + 2]
    assert (first[0].value, first[1].value, first[-2].value, first[-1].value) == (
        1, street["c1"].code, 100, "green",
    )  # fmt: skip
    assert (second[0].value, second[-2].value, second[-1].value) == (2, 30, "red")
    assert _fill(first[-2]) == GRADE_COLOURS["green"]
    assert _fill(second[-2]) == GRADE_COLOURS["red"]
    legend = [_fill(c) for c in ws[5][1:5]]
    assert legend == [GRADE_COLOURS[g] for g in ("green", "blue", "yellow", "red")]


@pytest.mark.parametrize("month", ["", "2026-13", "June", "1999-12", "2999-01"])
def test_a_bad_month_gets_a_field_error(client, personas, month):
    client.force_login(personas["leader"])
    client.cookies["django_language"] = "en"
    response = client.get(reverse("insights:evaluation"), {"month": month})
    assert response.status_code == 400
    assert response.context["form"].errors["month"]


def test_a_resident_may_not_download_the_workbook(client, personas):
    client.force_login(personas["resident"])
    assert client.get(reverse("insights:evaluation"), {"month": "2026-06"}).status_code == 403


def test_the_command_writes_the_workbook(tmp_path, personas, street, june):
    out = tmp_path / "june.xlsx"
    call_command("kpi_evaluation", "--month", "2026-06", "--out", str(out))
    book = load_workbook(out)
    assert len(book.sheetnames) == 3
    call_command("kpi_evaluation", "--month", "2026-06", "--out", str(out), "--user", "worker2")
    assert len(load_workbook(out).sheetnames) == 1
    with pytest.raises(CommandError, match="--month"):
        call_command("kpi_evaluation", "--month", "2026-6x", "--out", str(out))
