"""The register's columns, shared by the template, the import and the export: what each
column holds, the words a cell may use, and reading headers and cell values."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from linli.people.models import Household

# Rows per INSERT and per IN (...) lookup: well under SQLite's variable limit.
BATCH = 500
PROGRESS_EVERY = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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


def _norm_header(value) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().lower() if value is not None else ""


HEADER_KEYS = {c.zh: c.key for c in COLUMNS} | {c.en.lower(): c.key for c in COLUMNS}


def _header_matches(row: tuple) -> int:
    return sum(1 for value in row if _norm_header(value) in HEADER_KEYS)


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- cell values ---------------------------------------------------------------------------


class _CellError(ValueError):
    pass


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


def _lookup(mapping: dict[str, str], text: str) -> str | None:
    return mapping.get(text) or mapping.get(text.lower())
