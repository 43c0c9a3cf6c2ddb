"""The 12345 hotline's orders, imported from the platform's CSV or xlsx export.

Like the register's import (linli/people/excel/, whose report, problems and cell helpers
this reuses), every row is checked before anything is written and the report names each
bad row and column; then every row is taken in or none ("all or nothing", one
transaction), or only the good rows. Each row becomes a case through
case_services.case_report(source="hotline"), the one intake every entrance uses, with the
order number as its external_ref: the same order is never taken in twice, so importing a
file again adds nothing.

A problem with the file itself (neither CSV nor xlsx by its content, too big, too many
rows, required columns missing) is reported alone and nothing else is read.
"""

import codecs
import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from linli.accounts.scopes import can_see_area
from linli.areas import geo
from linli.areas.models import Area
from linli.cases.case_services import (
    CONTACT_NAME_MAX,
    EXTERNAL_REF_MAX,
    _coordinate,
    case_report,
    contact_phone_parse,
)
from linli.cases.models import ADDRESS_MAX, DESCRIPTION_MAX, Case, Matter, Source, Urgency
from linli.cases.permissions import CENTRE_ROLES
from linli.core.audit import audit_record
from linli.core.errors import DomainError
from linli.people.excel.columns import (
    BATCH,
    Column,
    _as_text,
    _CellError,
    _empty,
    _norm_header,
    header_for,
)
from linli.people.excel.reader import OLE_MAGIC
from linli.people.excel.reader import _file_bytes as _xlsx_checked
from linli.people.excel.report import MODE_ALL, MODE_GOOD, ImportReport, Problem, _FileProblem

__all__ = [
    "COLUMNS",
    "CRS_CHOICES",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MODE_ALL",
    "MODE_GOOD",
    "HotlineReport",
    "hotline_import",
    "hotline_template",
    "may_import",
]

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
# Clocks of the hotline platform and of this server differ a little.
FUTURE_TOLERANCE = timedelta(minutes=5)
CRS_CHOICES = ("wgs84", "gcj02", "bd09")
TEMPLATE_ROWS = 5_000  # rows that get the dropdowns

COLUMNS = [
    Column(
        "order_no",
        "工单编号",
        "order_no",
        gettext_lazy("Required. The order's number on the 12345 platform; taken in once."),
        22,
        True,
    ),
    Column(
        "reported_at",
        "来电时间",
        "reported_at",
        gettext_lazy("Required: date and time of the call, Beijing time, e.g. 2026-06-01 09:30."),
        18,
    ),
    Column("contact_name", "来电人", "contact_name", gettext_lazy("Optional."), 10),
    Column(
        "contact_phone",
        "联系电话",
        "contact_phone",
        gettext_lazy("Optional: a mobile or fixed-line number."),
        16,
        True,
    ),
    Column(
        "matter_code",
        "事项编码",
        "matter_code",
        gettext_lazy("The 5-digit code of the matter (sheet 事项目录), or its name in 事项名称."),
        10,
        True,
    ),
    Column(
        "matter_name",
        "事项名称",
        "matter_name",
        gettext_lazy("The matter's exact name, when no code is given."),
        18,
    ),
    Column("description", "问题描述", "description", gettext_lazy("Required."), 40),
    Column("address", "地址", "address", gettext_lazy("Optional."), 28),
    Column("lon", "经度", "lon", gettext_lazy("Required: longitude, e.g. 118.605 (WGS-84)."), 12),
    Column("lat", "纬度", "lat", gettext_lazy("Required: latitude, e.g. 37.405 (WGS-84)."), 12),
    Column(
        "urgency",
        "紧急程度",
        "urgency",
        gettext_lazy("一般, 紧急 or 特急; blank means 一般."),
        10,
    ),
]
# Accepted in a file beside the template's columns: a matter given by code or by name.
MATTER_ANY = Column("matter", "事项", "matter")
COLUMN_BY_KEY = {c.key: c for c in [*COLUMNS, MATTER_ANY]}
HEADER_KEYS = {c.zh: c.key for c in COLUMN_BY_KEY.values()}
HEADER_KEYS |= {c.en.lower(): c.key for c in COLUMN_BY_KEY.values()}
HEADER_KEYS |= {"longitude": "lon", "latitude": "lat"}
REQUIRED_HEADERS = ("order_no", "reported_at", "description", "lon", "lat")
MATTER_KEYS = ("matter_code", "matter_name", "matter")
# The rows a case_report error's field names point at.
FIELD_COLUMNS = {
    "external_ref": "order_no",
    "contact_name": "contact_name",
    "contact_phone": "contact_phone",
    "description": "description",
    "address": "address",
    "lon": "lon",
    "lat": "lat",
    "urgency": "urgency",
}

URGENCY = {"一般": Urgency.NORMAL, "紧急": Urgency.URGENT, "特急": Urgency.CRITICAL}
URGENCY |= {value: value for value in Urgency.values}
URGENCY_ZH = ("一般", "紧急", "特急")
TIME_FORMATS = tuple(
    f"{day}{gap}{clock}"
    for day in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")
    for gap in (" ", "")
    for clock in ("%H:%M:%S", "%H:%M", "%H时%M分%S秒", "%H时%M分", "%H点%M分")
) + ("%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S", "%Y%m%d %H:%M")
DATE_ONLY = re.compile(r"\d{4}\D\d{1,2}\D\d{1,2}\D?|\d{8}")
# Text a CSV cannot hold: a binary file that happens to decode.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Progress = Callable[[str, int, int | None], None]


def may_import(user) -> bool:
    """The centre (dispatchers and administrators) takes 12345 orders in; `None` is the
    server's operator running the command without --user."""
    if user is None:
        return True
    if not (user.is_authenticated and user.is_active):
        return False
    return user.role in CENTRE_ROLES


@dataclass
class HotlineReport(ImportReport):
    """The register import's report, counting cases instead of households; `ignored`
    lists the columns of the file that were not understood and left out."""

    cases_created: int = 0
    numbers: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "committed": self.committed,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "rows_total": self.rows_total,
            "rows_good": self.rows_good,
            "cases_created": self.cases_created,
            "ignored_columns": self.ignored,
            "problems": [
                {"row": p.row, "column": p.column, "message": p.message} for p in self.problems
            ],
        }


# --- reading the file ----------------------------------------------------------------------


def _not_readable() -> _FileProblem:
    return _FileProblem(
        _(
            "This is neither a CSV file nor an Excel workbook (.xlsx). Export the orders as "
            "CSV or .xlsx, or fill in the template."
        )
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
    if not data.strip():
        raise _FileProblem(_("The file is empty."))
    return data


def _csv_text(data: bytes) -> str:
    """The text of a CSV: UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's
    "Unicode text"), else GB18030, which Chinese exports often use."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    elif b"\x00" in data:
        raise _not_readable()
    elif data.startswith(codecs.BOM_UTF8):
        candidates = ("utf-8-sig",)
    else:
        # A GB18030 text is very seldom valid UTF-8, so the order of the tries decides.
        candidates = ("utf-8", "gb18030")
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if CONTROL.search(text):
            break
        return text
    raise _not_readable()


def _csv_rows(data: bytes) -> Iterator[tuple]:
    text = _csv_text(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        for values in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield tuple(values)
    except csv.Error:
        raise _not_readable() from None


def _xlsx_rows(data: bytes) -> Iterator[tuple]:
    _xlsx_checked(data)  # the register's checks: a real xlsx, not an old .xls, no zip bomb
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a broken file; all mean the same
        raise _not_readable() from None
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


@dataclass
class _Table:
    positions: dict[str, int]  # column key → 0-based position
    rows: list[tuple[int, tuple]]  # (row number as a spreadsheet shows it, values)
    ignored: list[str]


def _header_matches(values: tuple) -> int:
    return sum(1 for value in values if _norm_header(value) in HEADER_KEYS)


def _headers(values: tuple, number: int) -> tuple[dict[str, int], list[str]]:
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for position, value in enumerate(values):
        if _empty(value):
            continue
        key = HEADER_KEYS.get(_norm_header(value))
        if key is None:
            # An export carries more columns (status, handling unit …) than an order needs.
            ignored.append(str(value).strip()[:40])
            continue
        if key in positions:
            raise _FileProblem(
                _("The column “%(header)s” appears twice.") % {"header": str(value).strip()},
                number,
                get_column_letter(position + 1),
            )
        positions[key] = position
    missing = [header_for(COLUMN_BY_KEY[k]) for k in REQUIRED_HEADERS if k not in positions]
    if not any(k in positions for k in MATTER_KEYS):
        missing.append(
            f"{header_for(COLUMN_BY_KEY['matter_code'])}/{header_for(COLUMN_BY_KEY['matter_name'])}"
        )
    if missing:
        raise _FileProblem(
            _("Required columns are missing: %(columns)s.") % {"columns": "、".join(missing)},
            number,
        )
    return positions, ignored


def _table(rows: Iterable[tuple]) -> _Table:
    """Find the header row among the first five (an export may have a title above it),
    skip the template's English header row, and keep the rows that hold something."""
    rows = iter(rows)
    positions: dict[str, int] | None = None
    number = 0
    for values in rows:
        number += 1
        if _header_matches(values) >= 3:
            positions, ignored = _headers(values, number)
            break
        if number >= 5:
            break
    if positions is None:
        raise _FileProblem(
            _("No header row found in the first rows: use the 12345 export or the template.")
        )
    found: list[tuple[int, tuple]] = []
    header_row = number
    for values in rows:
        number += 1
        if number == header_row + 1 and _header_matches(values) >= 3:
            continue
        if all(_empty(v) for v in values):
            continue
        if len(found) >= MAX_ROWS:
            raise _FileProblem(
                _("The file has more than %(n)s rows; split it into smaller files.")
                % {"n": f"{MAX_ROWS:,}"}
            )
        found.append((number, tuple(values)))
    if not found:
        raise _FileProblem(_("The file has no rows to import."))
    return _Table(positions=positions, rows=found, ignored=ignored)


def _read(file) -> _Table:
    data = _file_bytes(file)
    if data.startswith((b"PK", OLE_MAGIC)):
        return _table(_xlsx_rows(data))
    return _table(_csv_rows(data))


# --- checking the rows ---------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    problems: list[Problem] = field(default_factory=list)
    order_no: str = ""
    matter: Matter | None = None
    matter_key: str = "matter_code"
    point: tuple[float, float] | None = None
    values: dict = field(default_factory=dict)  # case_report's arguments


def _moment(value) -> datetime | None:
    """A cell's date and time, aware (naive ones are the server's time zone, Beijing)."""
    if _empty(value):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        raise _CellError(_("Give the time of day too, e.g. 2026-06-01 09:30."))
    elif isinstance(value, int) and not isinstance(value, bool):
        return _moment(str(value))
    elif isinstance(value, str):
        text = re.sub(r"\s+", " ", value.strip())
        if DATE_ONLY.fullmatch(text):
            raise _CellError(_("Give the time of day too, e.g. 2026-06-01 09:30."))
        moment = None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            for pattern in TIME_FORMATS:
                try:
                    moment = datetime.strptime(text, pattern)  # noqa: DTZ007 - made aware below
                    break
                except ValueError:
                    continue
        if moment is None:
            raise _CellError(_("Not a date and time; write it as 2026-06-01 09:30."))
    else:
        raise _CellError(_("Not a date and time; write it as 2026-06-01 09:30."))
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


class _Checker:
    def __init__(self, table: _Table, actor, crs: str, now: datetime):
        self.positions = table.positions
        self.actor = actor
        self.crs = crs
        self.now = now
        matters = list(Matter.objects.all())
        self.by_code = {m.code: m for m in matters}
        self.by_name: dict[str, list[Matter]] = defaultdict(list)
        for matter in matters:
            self.by_name[matter.name].append(matter)

    def cell(self, values: tuple, key: str):
        position = self.positions.get(key)
        if position is None or position >= len(values):
            return None
        return values[position]

    def problem(self, row: _Row, key: str, message: str) -> None:
        position = self.positions.get(key)
        letter = get_column_letter(position + 1) if position is not None else ""
        row.problems.append(Problem(row.number, header_for(COLUMN_BY_KEY[key]), message, letter))

    def text(self, row: _Row, values: tuple, key: str, limit: int, *, required=False) -> str:
        try:
            text = _as_text(self.cell(values, key))
        except _CellError as error:
            self.problem(row, key, str(error))
            return ""
        if required and not text:
            self.problem(row, key, _("This cell must not be empty."))
        elif len(text) > limit:
            self.problem(row, key, _("At most %(n)d characters.") % {"n": limit})
        return text

    def check(self, number: int, values: tuple) -> _Row:
        row = _Row(number=number)
        row.order_no = self.text(row, values, "order_no", EXTERNAL_REF_MAX, required=True)
        at = self._time(row, values)
        contact_name = self.text(row, values, "contact_name", CONTACT_NAME_MAX)
        phone = self.text(row, values, "contact_phone", 40)
        if phone and contact_phone_parse(phone) is None:
            self.problem(row, "contact_phone", _("Not a valid mainland phone number."))
        self._matter(row, values)
        description = self.text(row, values, "description", DESCRIPTION_MAX, required=True)
        address = self.text(row, values, "address", ADDRESS_MAX)
        self._point(row, values)
        urgency = self.text(row, values, "urgency", 20)
        if urgency:
            urgency = URGENCY.get(urgency) or URGENCY.get(urgency.lower()) or ""
            if not urgency:
                self.problem(row, "urgency", _("Write 一般, 紧急 or 特急."))
        row.values = {
            "at": at,
            "contact_name": contact_name,
            "contact_phone": phone,
            "description": description,
            "address": address,
            "urgency": urgency or Urgency.NORMAL,
        }
        return row

    def _time(self, row: _Row, values: tuple) -> datetime | None:
        try:
            at = _moment(self.cell(values, "reported_at"))
        except _CellError as error:
            self.problem(row, "reported_at", str(error))
            return None
        if at is None:
            self.problem(row, "reported_at", _("This cell must not be empty."))
        elif at > self.now + FUTURE_TOLERANCE:
            self.problem(row, "reported_at", _("This time is in the future."))
        return at

    def _matter(self, row: _Row, values: tuple) -> None:
        given = {}
        for key in MATTER_KEYS:
            try:
                text = _as_text(self.cell(values, key))
            except _CellError as error:
                self.problem(row, key, str(error))
                return
            if text:
                given[key] = text
        if not given:
            key = next(k for k in MATTER_KEYS if k in self.positions)
            self.problem(row, key, _("Give the matter's code or its name."))
            return
        row.matter_key, text = next(iter(given.items()))
        if row.matter_key == "matter_code" or (row.matter_key == "matter" and text.isdigit()):
            matter = self.by_code.get(text)
            found = [matter] if matter else []
        else:
            found = self.by_name.get(text, [])
        if not found:
            self.problem(
                row,
                row.matter_key,
                _("Unknown matter “%(matter)s”: use a code or the exact name from the catalogue.")
                % {"matter": text[:30]},
            )
            return
        if len(found) > 1:
            self.problem(row, row.matter_key, _("Several matters have this name: give the code."))
            return
        matter = found[0]
        name = given.get("matter_name")
        if row.matter_key == "matter_code" and name and name != matter.name:
            self.problem(
                row,
                "matter_name",
                _("The code %(code)s is “%(name)s”, not this name.")
                % {"code": matter.code, "name": matter.name},
            )
            return
        if not matter.is_active:
            self.problem(row, row.matter_key, _("This matter is no longer in use."))
            return
        row.matter = matter

    def _point(self, row: _Row, values: tuple) -> None:
        point = []
        for key in ("lon", "lat"):
            raw = self.cell(values, key)
            number = None if _empty(raw) else _coordinate(raw)
            if _empty(raw):
                self.problem(row, key, _("This cell must not be empty."))
            elif number is None:
                self.problem(row, key, _("Not a number."))
            point.append(number)
        if None in point:
            return
        lon, lat = geo.to_wgs84(point[0], point[1], self.crs)
        if not geo.in_china(lon, lat):
            self.problem(
                row, "lon", _("This point is not in China; are longitude and latitude swapped?")
            )
            return
        row.point = (lon, lat)


def _check_places(rows: list[_Row], checker: _Checker) -> None:
    """Place every point in its grid at once (the grid index answers in bulk), then keep
    the rows inside the importer's area."""
    placed = [row for row in rows if row.point is not None]
    if not placed:
        return
    pks = geo.locate_many(np.array([row.point for row in placed], dtype=float))
    grids = Area.objects.in_bulk({int(pk) for pk in pks if pk})
    for row, pk in zip(placed, pks, strict=True):
        grid = grids.get(int(pk)) if pk else None
        if grid is None:
            checker.problem(row, "lon", _("This point is outside every grid of the street."))
        elif checker.actor is not None and not can_see_area(checker.actor, grid):
            checker.problem(row, "lon", _("This point is outside your area."))


def _check_orders(rows: list[_Row], checker: _Checker) -> None:
    """The same order twice in the file, or already taken in."""
    by_order: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.order_no and len(row.order_no) <= EXTERNAL_REF_MAX:
            by_order[row.order_no].append(row)
    for same in by_order.values():
        if len(same) > 1:
            numbers = ", ".join(str(r.number) for r in same)
            for row in same:
                checker.problem(
                    row,
                    "order_no",
                    _("The same order number is in rows %(rows)s.") % {"rows": numbers},
                )
    orders = sorted(by_order)
    taken: set[str] = set()
    for start in range(0, len(orders), BATCH):
        taken.update(
            Case.objects.filter(
                source=Source.HOTLINE, external_ref__in=orders[start : start + BATCH]
            ).values_list("external_ref", flat=True)
        )
    for order in taken:
        for row in by_order[order]:
            checker.problem(row, "order_no", _("This order has already been taken in."))


# --- writing -------------------------------------------------------------------------------


def _report_one(row: _Row, checker: _Checker) -> Case | None:
    """File one row; a refusal (someone took the order in meanwhile) becomes its problem."""
    lon, lat = row.point
    try:
        return case_report(
            matter=row.matter,
            description=row.values["description"],
            lon=lon,
            lat=lat,
            source=Source.HOTLINE,
            reporter=None,
            address=row.values["address"],
            urgency=row.values["urgency"],
            external_ref=row.order_no,
            contact_name=row.values["contact_name"],
            contact_phone=row.values["contact_phone"],
            at=row.values["at"],
        )
    except DomainError as error:
        for name, messages in (error.fields or {"": [error.message]}).items():
            key = FIELD_COLUMNS.get(name, row.matter_key)
            for message in messages:
                checker.problem(row, key, str(message))
        return None


def _write(rows: list[_Row], checker: _Checker, mode: str, progress: Progress | None) -> list:
    cases: list[Case] = []
    with transaction.atomic():
        for i, row in enumerate(rows, start=1):
            case = _report_one(row, checker)
            if case is not None:
                cases.append(case)
            if progress and (i % 100 == 0 or i == len(rows)):
                progress("import", i, len(rows))
        if mode == MODE_ALL and len(cases) < len(rows):
            # All or nothing: one refused row takes the others back with it.
            transaction.set_rollback(True)
            return []
    return cases


def hotline_import(
    *,
    file,
    actor,
    mode: str = MODE_ALL,
    dry_run: bool = True,
    crs: str = "wgs84",
    progress: Progress | None = None,
    request=None,
) -> HotlineReport:
    """Check a CSV or xlsx of 12345 orders row by row; unless `dry_run`, file every row as
    a case in one transaction — or, in mode "good", the good rows only (in mode "all" any
    bad row means nothing is written). `actor` (a dispatcher or administrator; None for the
    command without --user) limits the rows to points in their area. Coordinates are in
    `crs`. Writes one audit event with counts only when it was asked to write."""
    if not may_import(actor):
        raise DomainError("forbidden", _("Your role may not import 12345 orders."))
    if mode not in (MODE_ALL, MODE_GOOD):
        message = _("Choose how to import.")
        raise DomainError("invalid", message, {"mode": [message]})
    if crs not in CRS_CHOICES:
        message = _("Choose the coordinate system.")
        raise DomainError("invalid", message, {"crs": [message]})
    report = HotlineReport(mode=mode, dry_run=dry_run)
    try:
        table = _read(file)
    except _FileProblem as error:
        report.problems.append(error.problem)
        report.fatal = True
        return report
    report.ignored = table.ignored
    report.rows_total = len(table.rows)
    checker = _Checker(table, actor, crs, timezone.now())
    rows = [checker.check(number, values) for number, values in table.rows]
    if progress:
        progress("check", len(rows), len(rows))
    _check_orders(rows, checker)
    _check_places(rows, checker)
    good = [row for row in rows if not row.problems]
    report.rows_good = len(good)
    report.problems = [p for row in rows for p in row.problems]
    if dry_run:
        return report
    if good and not (mode == MODE_ALL and report.problems):
        cases = _write(good, checker, mode, progress)
        report.cases_created = len(cases)
        report.numbers = [case.number for case in cases]
        report.committed = bool(cases)
        # Rows refused while writing (a race with another import) join the report.
        report.rows_good = len([row for row in good if not row.problems])
        report.problems = [p for row in rows for p in row.problems]
    _audit(actor, report, request)
    return report


def _audit(actor, report: HotlineReport, request) -> None:
    # Counts only: callers' names and phones never go to the audit trail.
    audit_record(
        action="cases.hotline_import",
        actor=actor,
        actor_label="" if actor is not None else "manage.py import_hotline",
        request=request,
        success=report.committed,
        detail={
            "mode": report.mode,
            "rows_total": report.rows_total,
            "rows_good": report.rows_good,
            "problems": len(report.problems),
            "cases_created": report.cases_created,
        },
    )


# --- the template --------------------------------------------------------------------------

ORDERS_SHEET = "工单"
EXAMPLE_SHEET = "示例"
MATTERS_SHEET = "事项目录"
EXAMPLE = {
    "order_no": "GD202606010001",
    "reported_at": "2026-06-01 09:30",
    "contact_name": "王先生",
    "contact_phone": "13800138000",
    "matter_code": "11008",
    "matter_name": "楼道堆物",
    "description": "3号楼2单元楼道堆放杂物，影响通行。",
    "address": "济南路12号3号楼2单元",
    "lon": 118.605,
    "lat": 37.405,
    "urgency": "一般",
}


def _write_headers(sheet) -> None:
    bold = Font(bold=True)
    grey = Font(color="666666", italic=True)
    for position, column in enumerate(COLUMNS, start=1):
        head = sheet.cell(row=1, column=position, value=column.zh)
        head.font = bold
        if column.hint:
            head.comment = Comment(str(column.hint), "linli", width=260, height=90)
        sheet.cell(row=2, column=position, value=column.en).font = grey
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A3"


def hotline_template() -> bytes:
    """The xlsx to fill in: the columns in Chinese and English with a hint on each, a
    dropdown for the urgency and one for the matter code, an example row on a sheet of its
    own (so that it is never imported by mistake) and the active matters on a third."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = ORDERS_SHEET
    _write_headers(sheet)
    example = workbook.create_sheet(EXAMPLE_SHEET)
    _write_headers(example)
    for position, column in enumerate(COLUMNS, start=1):
        example.cell(row=3, column=position, value=EXAMPLE[column.key])
    matters = workbook.create_sheet(MATTERS_SHEET)
    for position, (zh, en) in enumerate([("事项编码", "code"), ("事项名称", "name")], start=1):
        matters.cell(row=1, column=position, value=zh).font = Font(bold=True)
        matters.cell(row=2, column=position, value=en).font = Font(color="666666", italic=True)
    active = Matter.objects.filter(is_active=True).order_by("code")
    count = 0
    for count, matter in enumerate(active, start=1):
        matters.cell(row=count + 2, column=1, value=matter.code)
        matters.cell(row=count + 2, column=2, value=matter.name)
    matters.column_dimensions["B"].width = 24
    positions = {c.key: get_column_letter(i) for i, c in enumerate(COLUMNS, start=1)}
    lists = {
        "urgency": ('"' + ",".join(URGENCY_ZH) + '"', True),
        "matter_code": (f"'{MATTERS_SHEET}'!$A$3:$A${max(3, count + 2)}", False),
    }
    for key, (formula, strict) in lists.items():
        validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        validation.error = _("Choose a value from the list.")
        validation.showErrorMessage = strict
        letter = positions[key]
        validation.add(f"{letter}3:{letter}{TEMPLATE_ROWS + 2}")
        sheet.add_data_validation(validation)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
