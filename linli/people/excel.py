"""Excel in and out for the register (issue 3 item 5): the template to fill, the import
with a dry run, and the masked export.

The import checks every row before it writes anything: each person through
services.resident_values (the same rules as the forms and the API), then what only a
file can get wrong — a grid or building outside the user's scope, the same ID number
twice in the file or already in the register, unknown tags, malformed cells. It then
writes every row or none ("all or nothing"), or only the good rows, in one transaction
of bulk inserts: per-row saves would take minutes for 50,000 rows, bulk inserts seconds.
"""

import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from linli.accounts.scopes import area_q
from linli.areas.models import Area, Building
from linli.core.audit import audit_record
from linli.core.crypto import decrypt
from linli.core.errors import DomainError
from linli.people import permissions, selectors, services
from linli.people.models import (
    ETHNICITIES,
    ID_NUMBER_CONTEXT,
    PHONE_CONTEXT,
    Household,
    Resident,
    ResidentTag,
    Tag,
)
from linli.people.validation import FieldProblem

MAX_FILE_BYTES = 20 * 1024 * 1024
# An xlsx is a zip: 20 MB can unpack to gigabytes. A real 100,000-row register unpacks to
# a small fraction of this.
MAX_UNPACKED_BYTES = 600 * 1024 * 1024
MAX_ROWS = 100_000
# Rows per INSERT and per IN (...) lookup: well under SQLite's variable limit.
BATCH = 500
PROGRESS_EVERY = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc)

MODE_ALL = "all"
MODE_GOOD = "good"
GRID_LEVELS = [Area.Level.GRID, Area.Level.MICROGRID]


@dataclass(frozen=True)
class Column:
    key: str
    zh: str  # row 1 of the template
    en: str  # row 2
    hint: object = ""  # the comment on the header cell
    width: int = 12
    # Formatted as text in the template, so that Excel keeps long digit strings whole.
    text: bool = False


COLUMNS = [
    Column(
        "household_number",
        "户编号",
        "household number",
        gettext_lazy(
            "Optional. Rows with the same number are one household; the number of an "
            "existing household adds people to it. Blank: one household per address and room."
        ),
        22,
        True,
    ),
    Column(
        "grid",
        "网格编码",
        "grid code",
        gettext_lazy("Required. The 15-digit unit grid code, or a micro-grid code."),
        18,
        True,
    ),
    Column("building", "楼栋编码", "building code", gettext_lazy("Optional."), 22, True),
    Column(
        "address", "地址", "address", gettext_lazy("Street and building, e.g. 济南路12号1号楼"), 28
    ),
    Column("unit", "单元", "unit", gettext_lazy("Optional, e.g. 2单元"), 8),
    Column("room", "室", "room", gettext_lazy("Optional, e.g. 301室"), 8, True),
    Column("tenure", "住房性质", "tenure", gettext_lazy("自有, 租住 or 集体"), 10),
    Column("registration", "户籍类型", "registration", gettext_lazy("户籍 or 流动"), 10),
    Column("name", "姓名", "name", gettext_lazy("Required."), 10),
    Column(
        "id_number",
        "身份证号",
        "ID number",
        gettext_lazy("18 characters, typed as text. Without it, gender and birth date are needed."),
        22,
        True,
    ),
    Column("gender", "性别", "gender", gettext_lazy("男 or 女; optional with an ID number."), 6),
    Column(
        "birth_date",
        "出生日期",
        "birth date",
        gettext_lazy("e.g. 1950-03-01; optional with an ID number."),
        12,
    ),
    Column(
        "relation",
        "与户主关系",
        "relation",
        gettext_lazy(
            "Required: 户主, 配偶, 子女, 父母, 孙子女, 祖父母, 兄弟姐妹, 其他亲属 or 非亲属"
        ),
        12,
    ),
    Column("ethnicity", "民族", "ethnicity", gettext_lazy("Optional; blank means 汉族."), 10),
    Column("phone", "手机", "mobile", gettext_lazy("Optional; 11 digits."), 14, True),
    Column(
        "moved_in_on", "迁入日期", "moved-in date", gettext_lazy("Optional, e.g. 2020-05-01"), 12
    ),
    Column(
        "tags",
        "标签",
        "tags",
        gettext_lazy(
            "Optional: tag names separated by 、 — a grade in brackets, e.g. 残疾人(二级)"
        ),
        24,
    ),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# Columns whose header must be in the file; the household columns may be blank in a row
# that joins an existing household.
REQUIRED_HEADERS = ("grid", "address", "tenure", "registration", "name", "relation")
HOUSEHOLD_KEYS = ("address", "tenure", "registration")
PERSON_KEYS = (
    "name",
    "id_number",
    "gender",
    "birth_date",
    "relation",
    "ethnicity",
    "phone",
    "moved_in_on",
)

TENURE = {"自有": "owned", "自有住房": "owned", "租住": "rented", "租赁": "rented"}
TENURE |= {"集体": "collective", "集体宿舍": "collective"}
TENURE |= {v: v for v in Household.Tenure.values}
TENURE_ZH = {"owned": "自有", "rented": "租住", "collective": "集体"}
REGISTRATION = {"户籍": "registered", "户籍人口": "registered", "流动": "migrant"}
REGISTRATION |= {"流动人口": "migrant", "registered": "registered", "migrant": "migrant"}
REGISTRATION_ZH = {"registered": "户籍", "migrant": "流动"}
GENDER = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
GENDER_ZH = {"M": "男", "F": "女"}
RELATION_ZH = {
    "head": "户主",
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "grandchild": "孙子女",
    "grandparent": "祖父母",
    "sibling": "兄弟姐妹",
    "relative": "其他亲属",
    "none": "非亲属",
}
RELATION = {zh: code for code, zh in RELATION_ZH.items()} | {v: v for v in RELATION_ZH}
RELATION |= {"本人": "head", "妻子": "spouse", "丈夫": "spouse", "儿子": "child", "女儿": "child"}
RELATION |= {"父亲": "parent", "母亲": "parent", "孙子": "grandchild", "孙女": "grandchild"}
RELATION |= {"外孙子女": "grandchild", "外祖父母": "grandparent", "兄弟": "sibling"}
RELATION |= {"姐妹": "sibling", "其他": "relative"}
TAG_SEPARATORS = re.compile(r"[、,，;；]+")
TAG_GRADE = re.compile(r"^(.+?)\s*[(（]\s*(.*?)\s*[)）]$")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
MAX_LENGTHS = {"household_number": 40, "address": 200, "unit": 20, "room": 20, "building": 40}

Progress = Callable[[str, int, int | None], None]


def header_for(column: Column) -> str:
    """The header the user reads: the Chinese one in Chinese, else the English one."""
    return column.zh if (get_language() or "").startswith("zh") else column.en


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int | None  # as Excel numbers it; None for the file as a whole
    column: str  # the header, in the user's language
    message: str
    letter: str = ""  # the column letter (A, B, …)

    def __iter__(self):
        return iter((self.row, self.column, self.message))


@dataclass
class ImportReport:
    mode: str = MODE_ALL
    dry_run: bool = False
    rows_total: int = 0
    rows_good: int = 0
    problems: list[Problem] = field(default_factory=list)
    # A problem with the file itself (not xlsx, too big, headers): nothing can be imported.
    fatal: bool = False
    households_created: int = 0
    households_joined: int = 0
    residents_created: int = 0
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_bad(self) -> int:
        return self.rows_total - self.rows_good

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "committed": self.committed,
            "mode": self.mode,
            "dry_run": self.dry_run,
            "rows_total": self.rows_total,
            "rows_good": self.rows_good,
            "households_created": self.households_created,
            "households_joined": self.households_joined,
            "residents_created": self.residents_created,
            "problems": [
                {"row": p.row, "column": p.column, "message": p.message} for p in self.problems
            ],
        }


class _FileProblem(Exception):
    def __init__(self, message: str, row: int | None = None, column: str = ""):
        super().__init__(message)
        self.problem = Problem(row, column, message)


class _CellError(ValueError):
    pass


# --- reading the file ----------------------------------------------------------------------


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


def _norm_header(value) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().lower() if value is not None else ""


HEADER_KEYS = {c.zh: c.key for c in COLUMNS} | {c.en.lower(): c.key for c in COLUMNS}


def _header_matches(row: tuple) -> int:
    return sum(1 for value in row if _norm_header(value) in HEADER_KEYS)


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


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


# --- cell values ---------------------------------------------------------------------------


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        raise _CellError(_("Expected text, found TRUE or FALSE."))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date | time):
        raise _CellError(_("Expected text, found a date."))
    return str(value).strip()


def _as_date(value) -> date | None:
    if _empty(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 10_000_000 <= value <= 99_991_231:
        value = str(value)  # 19500301 typed as a number
    if isinstance(value, str):
        text = value.strip()
        for pattern in DATE_FORMATS:
            try:
                return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar date
            except ValueError:
                continue
        raise _CellError(_("Not a date; write it as 1950-03-01."))
    raise _CellError(_("Expected a date such as 1950-03-01, found a number or other value."))


@dataclass
class _Row:
    number: int
    problems: list[Problem] = field(default_factory=list)
    household_number: str = ""
    grid: Area | None = None
    building: Building | None = None
    place: dict = field(default_factory=dict)  # address, unit, room, tenure, registration
    values: dict | None = None  # the Resident's model values
    tags: list[tuple[Tag, str]] = field(default_factory=list)
    household: Household | None = None
    bad_keys: set[str] = field(default_factory=set)

    def problem(self, key: str, message: str, positions: dict[str, int]) -> None:
        self.bad_keys.add(key)
        column = COLUMN_BY_KEY[key]
        position = positions.get(key)
        letter = get_column_letter(position + 1) if position is not None else ""
        self.problems.append(Problem(self.number, header_for(column), str(message), letter))


class _Checker:
    """Per-row and cross-row checks against what the actor may see."""

    def __init__(self, actor, sheet: _Sheet):
        self.actor = actor
        self.positions = sheet.positions
        self.may_see_sensitive = permissions.may_see_sensitive(actor)
        grids = Area.objects.filter(level__in=GRID_LEVELS)
        in_scope = selectors.grid_ids_for(actor)
        if in_scope is not None:
            grids = grids.filter(id__in=in_scope)
        self.grids = {g.code: g for g in grids}
        self.grid_ids = {g.pk for g in self.grids.values()}
        self.tags: dict[str, Tag] = {}
        for tag in Tag.objects.all():
            self.tags[tag.name] = tag
            self.tags[tag.code] = tag
        self.buildings = self._load(
            Building.objects.select_related("grid"), "code", self._column_texts(sheet, "building")
        )
        self.households = self._load(
            Household.objects.all(), "number", self._column_texts(sheet, "household_number")
        )

    def _column_texts(self, sheet: _Sheet, key: str) -> set[str]:
        position = self.positions.get(key)
        if position is None:
            return set()
        texts = set()
        for _number, values in sheet.rows:
            if position < len(values):
                try:
                    text = _as_text(values[position])
                except _CellError:
                    continue
                if text:
                    texts.add(text)
        return texts

    @staticmethod
    def _load(queryset, column: str, keys: set[str]) -> dict:
        found = {}
        keys = sorted(keys)
        for start in range(0, len(keys), BATCH):
            for obj in queryset.filter(**{f"{column}__in": keys[start : start + BATCH]}):
                found[getattr(obj, column)] = obj
        return found

    def cell(self, values: tuple, key: str):
        position = self.positions.get(key)
        if position is None or position >= len(values):
            return None
        return values[position]

    def check(self, number: int, values: tuple) -> _Row:
        row = _Row(number=number)
        texts: dict[str, str] = {}
        dates: dict[str, date | None] = {}
        for key in COLUMN_BY_KEY:
            raw = self.cell(values, key)
            try:
                if key in ("birth_date", "moved_in_on"):
                    dates[key] = _as_date(raw)
                elif key == "id_number" and isinstance(raw, float):
                    raise _CellError(
                        _(
                            "Excel stored this ID number as a number and may have rounded it: "
                            "format the column as text and type the number again."
                        )
                    )
                else:
                    texts[key] = _as_text(raw)
            except _CellError as error:
                row.problem(key, str(error), self.positions)
                continue
            limit = MAX_LENGTHS.get(key)
            if limit and len(texts[key]) > limit:
                row.problem(key, _("At most %(n)d characters.") % {"n": limit}, self.positions)
        for key in ("grid", "name", "relation"):
            if key in texts and not texts[key]:
                row.problem(key, _("This cell must not be empty."), self.positions)
        self._check_place(row, texts)
        self._check_person(row, texts, dates)
        self._check_tags(row, texts.get("tags", ""))
        return row

    def _check_place(self, row: _Row, texts: dict[str, str]) -> None:
        code = texts.get("grid", "")
        if code:
            row.grid = self.grids.get(code)
            if row.grid is None:
                # The same words whether the grid does not exist or is someone else's.
                row.problem("grid", _("Unknown grid code."), self.positions)
        building_code = texts.get("building", "")
        if building_code and row.grid is not None:
            building = self.buildings.get(building_code)
            if building is None or not _building_fits(row.grid, building):
                row.problem(
                    "building",
                    _("Unknown building code, or the building is not in this grid."),
                    self.positions,
                )
            else:
                row.building = building
        row.household_number = texts.get("household_number", "")
        existing = self.households.get(row.household_number) if row.household_number else None
        if existing is not None:
            if existing.grid_id not in self.grid_ids:
                row.problem(
                    "household_number",
                    _("This household number is already in use; leave it blank for a new one."),
                    self.positions,
                )
            elif not existing.is_active:
                row.problem(
                    "household_number",
                    _("This household is marked as no longer living here."),
                    self.positions,
                )
            elif row.grid is not None and row.grid.pk != existing.grid_id:
                row.problem(
                    "grid",
                    _("Household %(number)s is in another grid of yours.")
                    % {"number": existing.number},
                    self.positions,
                )
            else:
                row.household = existing
            return
        for key in HOUSEHOLD_KEYS:
            if key in texts and not texts[key]:
                row.problem(key, _("This cell must not be empty."), self.positions)
        tenure = texts.get("tenure", "")
        if tenure and _lookup(TENURE, tenure) is None:
            row.problem("tenure", _("Write 自有, 租住 or 集体."), self.positions)
        registration = texts.get("registration", "")
        if registration and _lookup(REGISTRATION, registration) is None:
            row.problem("registration", _("Write 户籍 or 流动."), self.positions)
        row.place = {
            "address": texts.get("address", ""),
            "unit": texts.get("unit", ""),
            "room": texts.get("room", ""),
            "tenure": _lookup(TENURE, tenure) or "",
            "registration": _lookup(REGISTRATION, registration) or "",
        }

    def _check_person(self, row: _Row, texts: dict[str, str], dates: dict) -> None:
        gender = ""
        if texts.get("gender"):
            gender = _lookup(GENDER, texts["gender"]) or ""
            if not gender:
                row.problem("gender", _("Write 男 or 女."), self.positions)
        relation = ""
        if texts.get("relation"):
            relation = _lookup(RELATION, texts["relation"]) or ""
            if not relation:
                row.problem(
                    "relation",
                    _(
                        "Write one of 户主, 配偶, 子女, 父母, 孙子女, 祖父母, 兄弟姐妹, "
                        "其他亲属, 非亲属."
                    ),
                    self.positions,
                )
        if any(
            p.column in {header_for(COLUMN_BY_KEY[k]) for k in PERSON_KEYS} for p in row.problems
        ):
            return
        try:
            row.values = services.resident_values(
                name=texts.get("name", ""),
                id_number=texts.get("id_number", ""),
                birth_date=dates.get("birth_date"),
                gender=gender,
                phone=texts.get("phone", ""),
                ethnicity=texts.get("ethnicity", ""),
                relation=relation,
                moved_in_on=dates.get("moved_in_on"),
            )
        except FieldProblem as problem:
            key = problem.field if problem.field in COLUMN_BY_KEY else "name"
            row.problem(key, problem.message, self.positions)

    def _check_tags(self, row: _Row, text: str) -> None:
        seen = set()
        for part in TAG_SEPARATORS.split(text):
            part = part.strip()
            if not part:
                continue
            match = TAG_GRADE.match(part)
            name, grade = (match.group(1).strip(), match.group(2)) if match else (part, "")
            tag = self.tags.get(name)
            if tag is None:
                row.problem(
                    "tags", _("Unknown tag “%(tag)s”.") % {"tag": name[:30]}, self.positions
                )
            elif tag.is_sensitive and not self.may_see_sensitive:
                row.problem(
                    "tags", _("Only designated users may set a sensitive tag."), self.positions
                )
            elif not tag.is_active:
                row.problem("tags", _("This tag is no longer in use."), self.positions)
            elif tag.has_grade and not grade:
                row.problem(
                    "tags",
                    _("The tag “%(tag)s” needs a grade, e.g. %(tag)s(二级).") % {"tag": tag.name},
                    self.positions,
                )
            elif len(grade) > 20:
                row.problem("tags", _("A grade has at most 20 characters."), self.positions)
            elif tag.pk not in seen:
                seen.add(tag.pk)
                row.tags.append((tag, grade if tag.has_grade else ""))


def _lookup(mapping: dict[str, str], text: str) -> str | None:
    return mapping.get(text) or mapping.get(text.lower())


def _building_fits(grid: Area, building: Building) -> bool:
    # As services._check_place: a building belongs to the grid, to one of its micro-grids,
    # or (for a household put in a micro-grid) to the micro-grid's grid.
    return grid.pk in (building.grid_id, building.grid.parent_id) or (
        building.grid_id == grid.parent_id
    )


# --- cross-row checks ----------------------------------------------------------------------


def _check_duplicates(rows: list[_Row], positions: dict[str, int]) -> None:
    by_index: dict[str, list[_Row]] = defaultdict(list)
    for row in rows:
        if row.values and row.values.get("id_number_index"):
            by_index[row.values["id_number_index"]].append(row)
    for same in by_index.values():
        if len(same) > 1:
            numbers = ", ".join(str(r.number) for r in same)
            for row in same:
                row.problem(
                    "id_number",
                    _("The same ID number is in rows %(rows)s.") % {"rows": numbers},
                    positions,
                )
    indexes = sorted(by_index)
    taken: set[str] = set()
    for start in range(0, len(indexes), BATCH):
        taken.update(
            Resident.objects.filter(id_number_index__in=indexes[start : start + BATCH]).values_list(
                "id_number_index", flat=True
            )
        )
    for index in taken:
        for row in by_index[index]:
            # Says only that the number is taken, not where: it may be outside the scope.
            row.problem("id_number", _("This ID number is already in the register."), positions)


PLACE_COMPARED = ("address", "unit", "room", "tenure", "registration")


def _assemble_households(rows: list[_Row], positions: dict[str, int]) -> list[Household]:
    """Group the good rows into households: existing ones named by number, new ones by
    number or, without one, by grid, address, unit and room. The first good row of a new
    household defines it; a later row that says otherwise is a problem."""
    first: dict[tuple, _Row] = {}
    new: dict[tuple, Household] = {}
    for row in rows:
        if row.problems or row.household is not None:
            continue
        place = row.place
        key = (
            ("number", row.household_number)
            if row.household_number
            else ("place", row.grid.pk, place["address"], place["unit"], place["room"])
        )
        defining = first.get(key)
        if defining is None:
            first[key] = row
            new[key] = Household(
                number=row.household_number,
                grid=row.grid,
                building=row.building,
                **place,
            )
            row.household = new[key]
            continue
        differs = [k for k in PLACE_COMPARED if place[k] != defining.place[k]]
        if row.grid.pk != defining.grid.pk:
            differs.insert(0, "grid")
        if row.building != defining.building:
            differs.append("building")
        for k in differs:
            row.problem(
                k,
                _("Differs from row %(row)d for the same household.") % {"row": defining.number},
                positions,
            )
        if not differs:
            row.household = new[key]
    return list(new.values())


# --- writing -------------------------------------------------------------------------------


def _number_households(households: list[Household], taken: set[str]) -> None:
    """Give each household without a number a fresh one, unused in the file and in the
    register (numbers are random, so a few may clash at this scale)."""
    pending = [h for h in households if not h.number]
    while pending:
        for household in pending:
            number = services.household_number_new(household.grid)
            while number in taken:
                number = services.household_number_new(household.grid)
            household.number = number
            taken.add(number)
        numbers = [h.number for h in pending]
        clash: set[str] = set()
        for start in range(0, len(numbers), BATCH):
            clash.update(
                Household.objects.filter(number__in=numbers[start : start + BATCH]).values_list(
                    "number", flat=True
                )
            )
        for household in pending:
            if household.number in clash:
                household.number = ""
        pending = [h for h in pending if not h.number]


def _next_visit_due(tags: list[tuple[Tag, str]], today: date) -> date | None:
    # services.visit_due_compute for a new person: every tag starts today, no visits yet.
    intervals = [t.visit_interval_days for t, _grade in tags if t.visit_interval_days is not None]
    return today + timedelta(days=min(intervals)) if intervals else None


def _batched_create(model, objects: list, stage: str, progress: Progress | None) -> None:
    for start in range(0, len(objects), BATCH):
        model.objects.bulk_create(objects[start : start + BATCH])
        if progress:
            progress(stage, min(start + BATCH, len(objects)), len(objects))


def _write(
    *, rows: list[_Row], households: list[Household], actor, progress: Progress | None
) -> tuple[int, int, int]:
    today = timezone.localdate()
    taken = {h.number for h in households if h.number}
    _number_households(households, taken)
    _batched_create(Household, households, "households", progress)
    residents = []
    for row in rows:
        residents.append(
            Resident(
                household=row.household,
                next_visit_due=_next_visit_due(row.tags, today),
                **row.values,
            )
        )
    _batched_create(Resident, residents, "residents", progress)
    links = [
        ResidentTag(resident=resident, tag=tag, grade=grade, since=today, added_by=actor)
        for row, resident in zip(rows, residents, strict=True)
        for tag, grade in row.tags
    ]
    _batched_create(ResidentTag, links, "tags", progress)
    joined = {row.household.pk for row in rows} - {h.pk for h in households}
    return len(households), len(joined), len(residents)


def residents_import(
    *,
    file,
    actor,
    mode: str = MODE_ALL,
    dry_run: bool = False,
    progress: Progress | None = None,
    request=None,
) -> ImportReport:
    """Check an xlsx of residents (the template's columns) row by row, then, unless
    `dry_run`, write all rows in one transaction — or, in mode "good", the good rows
    only; in mode "all" any bad row means nothing is written. `file` is an upload, an
    open binary file, bytes or a path. `progress(stage, done, total)` is called now and
    then. Writes one audit event with counts only."""
    if not permissions.may_use_register(actor):
        raise DomainError("forbidden", _("Your role may not work with the register."))
    if mode not in (MODE_ALL, MODE_GOOD):
        raise DomainError(
            "invalid", _("Choose how to import."), {"mode": [_("Choose how to import.")]}
        )
    report = ImportReport(mode=mode, dry_run=dry_run)
    try:
        sheet = _sheet_read(_file_bytes(file), report, progress)
    except _FileProblem as error:
        report.problems.append(error.problem)
        report.fatal = True
        return report
    checker = _Checker(actor, sheet)
    report.rows_total = len(sheet.rows)
    rows: list[_Row] = []
    extra = defaultdict(list)
    for problem in report.problems:
        extra[problem.row].append(problem)
    for i, (number, values) in enumerate(sheet.rows, start=1):
        row = checker.check(number, values)
        row.problems[:0] = extra.get(number, [])
        rows.append(row)
        if progress and i % PROGRESS_EVERY == 0:
            progress("check", i, report.rows_total)
    if progress:
        progress("check", report.rows_total, report.rows_total)
    _check_duplicates(rows, sheet.positions)
    households = _assemble_households(rows, sheet.positions)
    good = [row for row in rows if not row.problems]
    report.rows_good = len(good)
    report.problems = [p for row in rows for p in row.problems]
    if dry_run or not good or (mode == MODE_ALL and report.problems):
        if not dry_run:
            _audit(actor, report, request)
        return report
    # Households of rows that turned out bad (a later duplicate) are not written.
    used = {id(row.household) for row in good}
    households = [h for h in households if id(h) in used]
    try:
        with transaction.atomic():
            created, joined, residents = _write(
                rows=good, households=households, actor=actor, progress=progress
            )
            report.households_created = created
            report.households_joined = joined
            report.residents_created = residents
            report.committed = True
            _audit(actor, report, request)
    except IntegrityError:
        # Someone registered one of these people (or took a household number) between the
        # check and the write: the unique indexes decide, and nothing is written.
        report.committed = False
        report.households_created = report.households_joined = report.residents_created = 0
        report.problems.append(
            Problem(
                None,
                "",
                _(
                    "Someone added some of these people while the import ran; nothing was "
                    "written. Check the file again."
                ),
            )
        )
        report.fatal = True
        _audit(actor, report, request)
    return report


def _audit(actor, report: ImportReport, request) -> None:
    # Counts only: an import's audit event never holds personal data.
    audit_record(
        action="people.residents_import",
        actor=actor,
        request=request,
        success=report.committed,
        detail={
            "mode": report.mode,
            "rows_total": report.rows_total,
            "rows_good": report.rows_good,
            "problems": len(report.problems),
            "households_created": report.households_created,
            "households_joined": report.households_joined,
            "residents_created": report.residents_created,
        },
    )


# --- the template --------------------------------------------------------------------------

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


# --- the export ----------------------------------------------------------------------------


def export_areas_for(*, viewer) -> list[Area]:
    """The communities and grids a viewer may filter an export by (their scope only)."""
    if not permissions.may_use_register(viewer):
        return []
    return list(
        Area.objects.filter(area_q(viewer), level__in=[Area.Level.COMMUNITY, Area.Level.GRID])
        .order_by("code")
        .only("code", "name", "level", "path")
    )


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    rows: int
    filename: str
    full: bool


def _tag_text(resident: Resident) -> str:
    return "、".join(
        f"{link.tag.name}({link.grade})" if link.grade else link.tag.name
        for link in resident.visible_tag_links
    )


def _export_row(resident: Resident, *, full: bool) -> list:
    household = resident.household
    if full:
        id_number = (
            decrypt(resident.id_number_encrypted, context=ID_NUMBER_CONTEXT)
            if resident.id_number_encrypted
            else ""
        )
        phone = (
            decrypt(resident.phone_encrypted, context=PHONE_CONTEXT)
            if resident.phone_encrypted
            else ""
        )
        phone = phone[3:] if phone.startswith("+86") else phone
        room = household.room
        birth = resident.birth_date
    else:
        id_number, phone, room = resident.id_number_masked, resident.phone_masked, ""
        # The full date would give back the digits the masked ID number hides.
        birth = str(resident.birth_date.year)
    return [
        household.number,
        household.grid.code,
        household.building.code if household.building_id else "",
        household.address,
        household.unit,
        room,
        TENURE_ZH.get(household.tenure, household.tenure),
        REGISTRATION_ZH.get(household.registration, household.registration),
        resident.name,
        id_number,
        GENDER_ZH.get(resident.gender, resident.gender),
        birth,
        RELATION_ZH.get(resident.relation, resident.relation),
        resident.ethnicity,
        phone,
        resident.moved_in_on,
        _tag_text(resident),
    ]


def residents_export(
    *,
    viewer,
    area: Area | None = None,
    tag: str | None = None,
    full: bool = False,
    reason: str = "",
    request=None,
) -> ExportFile:
    """The people of the viewer's scope (optionally one community or grid, one tag) as an
    xlsx in the template's columns: masked unless `full`, which needs the right and a
    reason. The export is logged (rows, filters) before the file is built."""
    if not permissions.may_use_register(viewer):
        raise DomainError("forbidden", _("Your role may not work with the register."))
    if area is not None and area not in export_areas_for(viewer=viewer):
        raise DomainError("not_found", _("Unknown area."), {"area": [_("Unknown area.")]})
    residents = selectors.resident_list_for(viewer=viewer, grid=area, tag=tag or None)
    residents = residents.select_related("household__building")
    rows = residents.count()
    services.export_logged(
        viewer=viewer,
        full=full,
        rows=rows,
        reason=reason,
        filters={"area": area.code if area else "", "tag": tag or "", "full": full},
        request=request,
    )
    now = timezone.localtime()
    workbook = Workbook(write_only=True)
    workbook.properties.creator = viewer.get_username()
    sheet = workbook.create_sheet("居民")
    for position, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(position)].width = column.width
    sheet.append(
        [
            _("Exported by %(user)s · %(time)s · for official use only")
            % {"user": viewer.get_username(), "time": f"{now:%Y-%m-%d %H:%M}"}
        ]
    )
    sheet.append([c.zh for c in COLUMNS])
    sheet.append([c.en for c in COLUMNS])
    for resident in residents.iterator(chunk_size=2000):
        sheet.append(_export_row(resident, full=full))
    out = io.BytesIO()
    workbook.save(out)
    scope = area.code if area else "all"
    kind = "full" if full else "masked"
    return ExportFile(
        content=out.getvalue(),
        rows=rows,
        filename=f"residents-{scope}-{kind}-{now:%Y%m%d-%H%M}.xlsx",
        full=full,
    )
