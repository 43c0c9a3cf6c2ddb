"""Checking each row against the register's rules and what the actor may see, then the
checks across rows: the same ID number twice, the rows of one household."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from linli.areas.models import Area, Building
from linli.people import permissions, selectors, services
from linli.people.excel.columns import (
    BATCH,
    COLUMN_BY_KEY,
    GENDER,
    HOUSEHOLD_KEYS,
    MAX_LENGTHS,
    PERSON_KEYS,
    REGISTRATION,
    RELATION,
    TAG_GRADE,
    TAG_SEPARATORS,
    TENURE,
    _as_date,
    _as_text,
    _CellError,
    _lookup,
    header_for,
)
from linli.people.excel.reader import _Sheet
from linli.people.excel.report import Problem
from linli.people.models import Household, Resident, Tag
from linli.people.validation import FieldProblem

GRID_LEVELS = [Area.Level.GRID, Area.Level.MICROGRID]


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
            if building is None or not services.building_fits(row.grid, building):
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
