"""The template to fill in."""

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from linli.core.errors import DomainError
from linli.people import permissions, selectors
from linli.people.excel.columns import COLUMNS, RELATION_ZH
from linli.people.models import ETHNICITIES

LISTS_SHEET = "代码表"
TEMPLATE_ROWS = 5000  # rows that get the dropdowns; more rows may still be typed


def _write_headers(sheet, first_row: int) -> None:
    bold = Font(bold=True)
    grey = Font(color="666666", italic=True)
    for position, column in enumerate(COLUMNS, start=1):
        head = sheet.cell(row=first_row, column=position, value=column.zh)
        head.font = bold
        if column.hint:
            head.comment = Comment(str(column.hint), "linli", width=260, height=90)
        sheet.cell(row=first_row + 1, column=position, value=column.en).font = grey
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"


def template_workbook(*, viewer) -> bytes:
    """The xlsx to fill in: the column headers in Chinese and English with a hint on each,
    dropdowns where a cell has few valid values, and a second sheet listing the grid
    codes and tags this user may use."""
    if not permissions.may_use_register(viewer):
        raise DomainError("forbidden", _("Your role may not work with the register."))
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "居民"
    _write_headers(sheet, 1)
    sheet.freeze_panes = "A3"
    lists = workbook.create_sheet(LISTS_SHEET)
    grids = list(selectors.grids_in_scope_for(viewer=viewer))
    tags = list(selectors.visible_tags_for(viewer=viewer))
    blocks = [
        ("网格编码", "grid code", [g.code for g in grids]),
        ("网格名称", "grid name", [g.name for g in grids]),
        ("标签", "tag", [t.name for t in tags]),
        ("需填等级", "needs a grade", ["是" if t.has_grade else "" for t in tags]),
        ("与户主关系", "relation", list(RELATION_ZH.values())),
        ("民族", "ethnicity", ETHNICITIES),
    ]
    ranges = {}
    for position, (zh, en, values) in enumerate(blocks, start=1):
        letter = get_column_letter(position)
        lists.cell(row=1, column=position, value=zh).font = Font(bold=True)
        lists.cell(row=2, column=position, value=en).font = Font(color="666666", italic=True)
        for offset, value in enumerate(values, start=3):
            lists.cell(row=offset, column=position, value=value)
        lists.column_dimensions[letter].width = 20
        ranges[en] = f"'{LISTS_SHEET}'!${letter}$3:${letter}${max(3, len(values) + 2)}"
    validations = {
        "grid": ranges["grid code"],
        "relation": ranges["relation"],
        "ethnicity": ranges["ethnicity"],
        "tenure": '"自有,租住,集体"',
        "registration": '"户籍,流动"',
        "gender": '"男,女"',
    }
    positions = {c.key: i for i, c in enumerate(COLUMNS, start=1)}
    for key, formula in validations.items():
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.error = _("Choose a value from the list.")
        validation.showErrorMessage = key != "grid"  # a micro-grid code may be typed too
        letter = get_column_letter(positions[key])
        validation.add(f"{letter}3:{letter}{TEMPLATE_ROWS + 2}")
        sheet.add_data_validation(validation)
    for key in ("birth_date", "moved_in_on"):
        validation = DataValidation(type="date", operator="greaterThan", formula1="1")
        validation.error = _("Enter a date such as 1950-03-01.")
        validation.showErrorMessage = False
        letter = get_column_letter(positions[key])
        validation.add(f"{letter}3:{letter}{TEMPLATE_ROWS + 2}")
        sheet.add_data_validation(validation)
    workbook.properties.creator = viewer.get_username()
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
