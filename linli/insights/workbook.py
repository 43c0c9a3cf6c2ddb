"""The monthly evaluation workbook (openpyxl): one sheet per breakdown of
selectors.kpi_evaluation, ranked by the composite score, each score filled with its grade's
colour. Written by the page (/insights/evaluation.xlsx) and `manage.py kpi_evaluation`."""

from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from linli.core.spreadsheets import safe_set
from linli.insights.facts import FACTS, KPI_BY_NAME
from linli.insights.models import Dim
from linli.insights.selectors import GRADE_RED, Evaluation, EvaluationSheet

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The fills of the grades (the light tones spreadsheet users know from conditional formats).
GRADE_COLOURS = {
    "green": "C6EFCE",
    "blue": "BDD7EE",
    "yellow": "FFEB9C",
    GRADE_RED: "FFC7CE",
}
HEADER_ROW = 7


def grade_fill(grade: str) -> PatternFill:
    colour = GRADE_COLOURS[grade]
    return PatternFill(fill_type="solid", start_color=colour, end_color=colour)


def grade_names() -> dict[str, str]:
    return {
        "green": _("green"),
        "blue": _("blue"),
        "yellow": _("yellow"),
        GRADE_RED: _("red"),
    }


def _weights_text(evaluation: Evaluation) -> str:
    parts = [f"{KPI_BY_NAME[name].label} {weight}" for name, weight in evaluation.weights.items()]
    text = _(
        "Weights: %(weights)s. A rate with nothing to count (no case due, none rated) is left "
        "out of a row's score and the other weights are scaled up to the same total."
    )
    return text % {"weights": ", ".join(parts)}


def _exclusions_text(sheet: EvaluationSheet) -> str:
    parts = [f"{FACTS[name][1]} {count}" for name, count in sheet.exclusions.items()]
    text = _("Cases excluded from the figures: %(n)d") % {"n": sheet.excluded}
    return f"{text} ({', '.join(parts)})" if parts else text


def _write_sheet(book: Workbook, evaluation: Evaluation, sheet: EvaluationSheet) -> None:
    ws = book.create_sheet(title=str(Dim(sheet.dim).label)[:31])
    names = grade_names()
    ws["A1"] = _("Monthly evaluation %(month)s, by %(dim)s") % {
        "month": evaluation.month.strftime("%Y-%m"),
        "dim": Dim(sheet.dim).label,
    }
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = _weights_text(evaluation)
    ws["A3"] = _exclusions_text(sheet)
    if sheet.pending:
        ws["A4"] = _("%(n)d case changes were not yet counted.") % {"n": sheet.pending}
    ws["A5"] = _("Grades:")
    thresholds = list(evaluation.grades.items())
    column = 2
    for grade, lowest in thresholds:
        cell = ws.cell(row=5, column=column, value=f"{names[grade]} ≥ {lowest}")
        cell.fill = grade_fill(grade)
        column += 1
    cell = ws.cell(row=5, column=column, value=f"{names[GRADE_RED]} < {thresholds[-1][1]}")
    cell.fill = grade_fill(GRADE_RED)

    rates = list(evaluation.weights)
    headings = [_("Rank"), _("Code"), _("Name")]
    headings += [str(KPI_BY_NAME[name].label) for name in rates]
    headings += [_("Score"), _("Grade")]
    for column, heading in enumerate(headings, start=1):
        cell = ws.cell(row=HEADER_ROW, column=column, value=heading)
        cell.font = Font(bold=True)
    for offset, row in enumerate(sheet.rows, start=1):
        values = [row.rank if row.rank is not None else "—", row.code, row.label]
        values += [row.rates[name] if row.rates[name] is not None else "—" for name in rates]
        values += [row.score if row.score is not None else "—"]
        values += [names[row.grade] if row.grade else "—"]
        line = HEADER_ROW + offset
        for column, value in enumerate(values, start=1):
            safe_set(ws.cell(row=line, column=column), value)
        if row.grade:
            for column in (len(values) - 1, len(values)):
                ws.cell(row=line, column=column).fill = grade_fill(row.grade)
    if not sheet.rows:
        ws.cell(row=HEADER_ROW + 1, column=1, value=_("No cases were reported this month."))
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1)
    widths = [6, 18, 24] + [14] * len(rates) + [10, 10]
    for column, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width


def evaluation_workbook(evaluation: Evaluation) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in evaluation.sheets:
        _write_sheet(book, evaluation, sheet)
    if not evaluation.sheets:
        book.create_sheet(title=_("Evaluation"))["A1"] = _("Nothing to evaluate in your scope.")
    out = BytesIO()
    book.save(out)
    return out.getvalue()
