"""Excel in and out for the register (issue 3 item 5): the template to fill, the import
with a dry run, and the masked export.

The import checks every row before it writes anything: each person through
services.resident_values (the same rules as the forms and the API), then what only a
file can get wrong — a grid or building outside the user's scope, the same ID number
twice in the file or already in the register, unknown tags, malformed cells. It then
writes every row or none ("all or nothing"), or only the good rows, in one transaction
of bulk inserts: per-row saves would take minutes for 50,000 rows, bulk inserts seconds.

Split by sub-domain (STYLE.md 3): `columns` (the columns, header and cell parsing),
`report` (the import's report), `reader` (reading the file), `checks` (row and cross-row
checks), `importer` (writing, and `residents_import`), `template` and `exporter`. The
names other code uses are re-exported here. They are copies: to change a limit in a test,
patch the sub-module that reads it (e.g. `excel.reader.MAX_ROWS`).
"""

from linli.people.excel.columns import COLUMN_BY_KEY, COLUMNS, XLSX_TYPE, Column, header_for
from linli.people.excel.exporter import ExportFile, export_areas_for, residents_export
from linli.people.excel.importer import residents_import
from linli.people.excel.reader import MAX_FILE_BYTES, MAX_ROWS, OLE_MAGIC
from linli.people.excel.report import MODE_ALL, MODE_GOOD, ImportReport, Problem
from linli.people.excel.template import template_workbook

__all__ = [
    "COLUMNS",
    "COLUMN_BY_KEY",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MODE_ALL",
    "MODE_GOOD",
    "OLE_MAGIC",
    "XLSX_TYPE",
    "Column",
    "ExportFile",
    "ImportReport",
    "Problem",
    "export_areas_for",
    "header_for",
    "residents_export",
    "residents_import",
    "template_workbook",
]
