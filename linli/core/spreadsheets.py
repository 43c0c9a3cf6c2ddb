"""Cells of the workbooks linli writes, safe against formula injection.

openpyxl stores any string that starts with "=" as a formula, and spreadsheet programs
run text starting with + - @ as one when a cell is edited or the sheet is saved as CSV.
A resident's name or address typed as =HYPERLINK(...) must open as that text, so such a
string is written as a text cell with Excel's own quote prefix (what typing a leading '
does): it shows and re-imports as typed, and never runs."""

from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def safe_cell(sheet, value):
    """The value as it may go into `sheet.append`: a quoted text cell when it could be
    taken for a formula, else the value itself."""
    if not is_risky(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe_row(sheet, values) -> list:
    return [safe_cell(sheet, value) for value in values]


def safe_set(cell, value) -> None:
    """The same for a cell of an ordinary (not write-only) sheet."""
    cell.value = value
    if is_risky(value):
        cell.data_type = "s"
        cell.quotePrefix = True
