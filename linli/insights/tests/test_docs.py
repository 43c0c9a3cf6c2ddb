"""docs/kpis.md publishes the formulas: its KPI table and its fact table must name exactly
the KPIs and facts of linli.insights.facts, each KPI with its own numerator and denominator,
so that renaming a fact or changing a formula without the documentation fails here."""

import re
from pathlib import Path

from django.conf import settings

from linli.insights.facts import FACT_NAMES, KPIS

DOC = Path(settings.BASE_DIR) / "docs" / "kpis.md"
CODE = re.compile(r"^`([a-z][a-z0-9_]*)`$")


def tables(text: str) -> list[list[list[str]]]:
    """Every Markdown table of `text` as its rows of cells (the header first, without the
    |---| line)."""
    found, current = [], []
    for line in [*text.splitlines(), ""]:
        line = line.strip()
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def table(header: str) -> list[list[str]]:
    """The rows of the one table whose first header cell is `header`."""
    matching = [t for t in tables(DOC.read_text(encoding="utf-8")) if t[0][0] == header]
    assert len(matching) == 1, f"one table headed {header!r} in {DOC}"
    return matching[0][1:]


def code(cell: str) -> str:
    match = CODE.match(cell)
    assert match, f"not a `name`: {cell!r}"
    return match.group(1)


def test_the_kpi_table_names_every_kpi_once():
    names = [code(row[0]) for row in table("KPI")]
    assert len(names) == len(set(names))
    assert set(names) == {kpi.name for kpi in KPIS}


def test_every_kpi_row_names_its_numerator_and_denominator():
    rows = {code(row[0]): row for row in table("KPI")}
    for kpi in KPIS:
        _name, _chinese, _english, numerator, denominator, formula = rows[kpi.name]
        assert code(numerator) == kpi.numerator, kpi.name
        if kpi.is_rate:
            assert code(denominator) == kpi.denominator, kpi.name
            assert formula.startswith("1 −") == kpi.complement, kpi.name
        else:
            assert denominator == "—", kpi.name


def test_the_fact_table_names_every_fact_once():
    names = [code(row[0]) for row in table("fact")]
    assert len(names) == len(set(names))
    assert set(names) == set(FACT_NAMES)
