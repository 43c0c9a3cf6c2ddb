"""Reading an uploaded file: is it an xlsx within the limits, where are the headers, which
rows hold people."""

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from linli.people.excel.columns import (
    COLUMN_BY_KEY,
    HEADER_KEYS,
    PROGRESS_EVERY,
    REQUIRED_HEADERS,
    Progress,
    _empty,
    _header_matches,
    _norm_header,
    header_for,
)
from linli.people.excel.report import ImportReport, Problem, _FileProblem

MAX_FILE_BYTES = 20 * 1024 * 1024
# An xlsx is a zip: 20 MB can unpack to gigabytes. A real 100,000-row register unpacks to
# a small fraction of this.
MAX_UNPACKED_BYTES = 600 * 1024 * 1024
MAX_ROWS = 100_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc)


def _not_xlsx() -> _FileProblem:
    return _FileProblem(
        _("This is not an Excel workbook (.xlsx). Download the template and fill it in.")
    )


def _file_bytes(file) -> bytes:
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    elif hasattr(file, "read"):
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_FILE_BYTES + 1)
    else:
        with open(file, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _FileProblem(
            _("The file is larger than %(mb)d MB; split it into smaller files.")
            % {"mb": MAX_FILE_BYTES // 2**20}
        )
    if data.startswith(OLE_MAGIC):
        raise _FileProblem(
            _("This is an old .xls workbook: open it in Excel or WPS and save it as .xlsx.")
        )
    if not data.startswith(b"PK"):
        raise _not_xlsx()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise _not_xlsx() from None
    if "xl/workbook.xml" not in names:
        raise _not_xlsx()
    if unpacked > MAX_UNPACKED_BYTES:
        raise _FileProblem(_("The workbook is too large once unpacked; split it."))
    return data


@dataclass
class _Sheet:
    positions: dict[str, int]  # column key → 0-based position
    rows: list[tuple[int, tuple]]  # (Excel row number, values)


def _sheet_read(data: bytes, report: ImportReport, progress: Progress | None) -> _Sheet:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file; all mean the same
        raise _not_xlsx() from None
    try:
        sheet = workbook.worksheets[0]
        estimate = sheet.max_row if isinstance(sheet.max_row, int) else None
        rows = sheet.iter_rows(values_only=True)
        positions, header_row = _headers(rows)
        mapped = set(positions.values())
        found: list[tuple[int, tuple]] = []
        number = header_row
        english_checked = False
        for values in rows:
            number += 1
            if not english_checked:
                english_checked = True
                # The template's second header row, in English.
                if _header_matches(values) >= 3:
                    continue
            if all(_empty(v) for v in values):
                continue
            if len(found) >= MAX_ROWS:
                raise _FileProblem(
                    _("The file has more than %(n)s rows; split it into smaller files.")
                    % {"n": f"{MAX_ROWS:,}"}
                )
            for position, value in enumerate(values):
                if position not in mapped and not _empty(value):
                    letter = get_column_letter(position + 1)
                    report.problems.append(
                        Problem(number, letter, _("A value in a column without a header."), letter)
                    )
                    break
            found.append((number, values))
            if progress and len(found) % PROGRESS_EVERY == 0:
                progress("read", len(found), estimate)
    except _FileProblem:
        raise
    except Exception:
        raise _not_xlsx() from None
    finally:
        workbook.close()
    if not found:
        raise _FileProblem(_("The file has no rows to import."))
    if progress:
        progress("read", len(found), len(found))
    return _Sheet(positions=positions, rows=found)


def _headers(rows: Iterable[tuple]) -> tuple[dict[str, int], int]:
    """Find the header row among the first five (an export has a watermark line above
    it) and map each known header to its position."""
    for number in range(1, 6):
        values = next(rows, None)
        if values is None:
            break
        if _header_matches(values) < 3:
            continue
        positions: dict[str, int] = {}
        for position, value in enumerate(values):
            if _empty(value):
                continue
            key = HEADER_KEYS.get(_norm_header(value))
            letter = get_column_letter(position + 1)
            if key is None:
                raise _FileProblem(
                    _("Unknown column header “%(header)s”: remove the column or use the template.")
                    % {"header": str(value).strip()[:40]},
                    number,
                    letter,
                )
            if key in positions:
                raise _FileProblem(
                    _("The column “%(header)s” appears twice.") % {"header": str(value).strip()},
                    number,
                    letter,
                )
            positions[key] = position
        missing = [header_for(COLUMN_BY_KEY[k]) for k in REQUIRED_HEADERS if k not in positions]
        if missing:
            raise _FileProblem(
                _("Required columns are missing: %(columns)s.") % {"columns": "、".join(missing)},
                number,
            )
        return positions, number
    raise _FileProblem(_("No header row found in the first rows: start from the template."))
