"""Writes of the cases app. So far: loading the catalogue of matters (派单目录).

The catalogue ships as data (catalogue/matters.json) and is loaded by `catalogue_load`
rather than a data migration, because administrators edit it afterwards: a migration
would either overwrite their edits or never see a later file. Loading only adds, and with
`update=True` refreshes what the file names; it never deletes or renumbers.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from linli.accounts.models import Department
from linli.cases.models import (
    LIST_DATATYPES,
    Datatype,
    LimitUnit,
    Matter,
    MatterClass,
    MatterLimit,
    MatterQuestion,
    MatterQuestionOption,
    Urgency,
)
from linli.core.errors import DomainError

CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue" / "matters.json"

CLASS_CODE = re.compile(r"\d{2}")
MATTER_CODE = re.compile(r"\d{5}")
SLUG = re.compile(r"[-a-zA-Z0-9_]+")
TOP_KEYS = {"title", "source", "classes", "matters"}
CLASS_KEYS = {"code", "name", "kind", "sort"}
MATTER_KEYS = {
    "code",
    "name",
    "class",
    "department",
    "description",
    "filing_condition",
    "closing_condition",
    "needs_check_photo",
    "allows_anonymous",
    "public",
    "keywords",
    "limits",
    "questions",
}
QUESTION_KEYS = {"code", "prompt", "datatype", "required", "order", "help_text", "options"}
# The catalogue's defaults for a matter that leaves a flag out.
MATTER_FLAGS = {"needs_check_photo": False, "allows_anonymous": True, "public": True}


@dataclass
class CatalogueReport:
    """What `catalogue_load` did. `departments_missing` maps a matter's code to the
    department code the file names but the database lacks (the matter has no lead
    department until one with that code exists and the catalogue is loaded again)."""

    classes_created: int = 0
    classes_updated: int = 0
    matters_created: int = 0
    matters_updated: int = 0
    matters_unchanged: int = 0
    departments_linked: int = 0
    limits_written: int = 0
    questions_written: int = 0
    options_written: int = 0
    departments_missing: dict[str, str] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return self.classes_created + self.matters_created


def catalogue_read(path: Path | str | None = None) -> Any:
    """The parsed catalogue file (the shipped one by default); DomainError when the file
    is missing or not JSON."""
    path = Path(path) if path else CATALOGUE_PATH
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DomainError(
            "catalogue_unreadable",
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror},
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DomainError(
            "catalogue_not_json",
            _("%(path)s is not valid JSON: %(error)s") % {"path": path, "error": exc},
        ) from exc


# --- validation -----------------------------------------------------------------------------


class _Problems:
    """Messages per entry, keyed by a label that names the entry ("matters[3] 01001 供水井盖")."""

    def __init__(self) -> None:
        self.by_entry: dict[str, list[str]] = {}

    def add(self, label: str, message: str) -> None:
        self.by_entry.setdefault(label, []).append(message)


def _label(kind: str, index: int, entry: Any) -> str:
    if isinstance(entry, dict):
        code, name = entry.get("code"), entry.get("name")
        parts = [str(p) for p in (code, name) if isinstance(p, str | int) and p != ""]
        if parts:
            return f"{kind}[{index}] {' '.join(parts)}"
    return f"{kind}[{index}]"


def _text(entry: dict, key: str, limit: int, problems: _Problems, label: str, *, required: bool):
    value = entry.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.add(label, _("%(key)s must be text.") % {"key": key})
        return ""
    value = value.strip()
    if required and not value:
        problems.add(label, _("%(key)s is missing.") % {"key": key})
    elif limit and len(value) > limit:
        problems.add(
            label, _("%(key)s is longer than %(n)d characters.") % {"key": key, "n": limit}
        )
    return value


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _unknown_keys(entry: dict, allowed: set[str], problems: _Problems, label: str) -> None:
    for key in sorted(set(entry) - allowed):
        problems.add(label, _("Unknown field %(key)s.") % {"key": key})


def _check_classes(rows: Any, problems: _Problems) -> dict[str, dict]:
    classes: dict[str, dict] = {}
    if not isinstance(rows, list):
        problems.add("classes", _("classes must be a list."))
        return classes
    for i, entry in enumerate(rows):
        label = _label("classes", i, entry)
        if not isinstance(entry, dict):
            problems.add(label, _("Each class must be an object."))
            continue
        _unknown_keys(entry, CLASS_KEYS, problems, label)
        code = entry.get("code")
        if not isinstance(code, str) or not CLASS_CODE.fullmatch(code):
            problems.add(label, _('A class code is two digits, as a string (e.g. "06").'))
            code = None
        elif code in classes:
            problems.add(label, _("Class code %(code)s appears twice.") % {"code": code})
        name = _text(entry, "name", 50, problems, label, required=True)
        kind = entry.get("kind")
        if kind not in MatterClass.Kind.values:
            problems.add(
                label,
                _("Unknown kind %(kind)r; use one of %(kinds)s.")
                % {"kind": kind, "kinds": ", ".join(MatterClass.Kind.values)},
            )
        sort = entry.get("sort", 100)
        if not (isinstance(sort, int) and not isinstance(sort, bool) and 0 <= sort <= 32767):
            problems.add(label, _("sort must be a whole number from 0."))
        if code and code not in classes:
            classes[code] = {"code": code, "name": name, "kind": kind, "sort": sort}
    return classes


def _check_limits(rows: Any, problems: _Problems, label: str) -> list[dict]:
    limits: list[dict] = []
    if not isinstance(rows, list) or not rows:
        problems.add(label, _("limits must be a non-empty list."))
        return limits
    seen: set[str] = set()
    for j, row in enumerate(rows):
        where = _("limit %(n)d") % {"n": j + 1}
        if not isinstance(row, dict):
            problems.add(label, _("%(where)s must be an object.") % {"where": where})
            continue
        urgency, amount, unit = row.get("urgency"), row.get("amount"), row.get("unit")
        bad = len(problems.by_entry.get(label, []))
        for key in sorted(set(row) - {"urgency", "amount", "unit"}):
            problems.add(
                label, _("%(where)s: unknown field %(key)s.") % {"where": where, "key": key}
            )
        if urgency not in Urgency.values:
            problems.add(
                label,
                _("%(where)s: unknown urgency %(value)r; use one of %(choices)s.")
                % {"where": where, "value": urgency, "choices": ", ".join(Urgency.values)},
            )
        elif urgency in seen:
            problems.add(
                label,
                _("%(where)s: urgency %(value)s appears twice.")
                % {"where": where, "value": urgency},
            )
        if not _positive_int(amount):
            problems.add(
                label,
                _("%(where)s: the amount must be a whole number of at least 1, not %(value)r.")
                % {"where": where, "value": amount},
            )
        if unit not in LimitUnit.values:
            problems.add(
                label,
                _("%(where)s: unknown unit %(value)r; use one of %(choices)s.")
                % {"where": where, "value": unit, "choices": ", ".join(LimitUnit.values)},
            )
        if len(problems.by_entry.get(label, [])) == bad:
            seen.add(urgency)
            limits.append({"urgency": urgency, "amount": amount, "unit": unit})
    if limits and Urgency.NORMAL not in seen:
        problems.add(label, _("Every matter needs a limit for the normal urgency."))
    return limits


def _check_options(rows: Any, problems: _Problems, label: str, where: str) -> list[dict]:
    options: list[dict] = []
    if not isinstance(rows, list):
        problems.add(label, _("%(where)s: options must be a list.") % {"where": where})
        return options
    keys: set[str] = set()
    for k, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.add(label, _("%(where)s: each option must be an object.") % {"where": where})
            continue
        key, name = row.get("key"), row.get("name")
        if not isinstance(key, str) or not SLUG.fullmatch(key) or len(key) > 40:
            problems.add(
                label,
                _("%(where)s: option key %(key)r must be letters, digits, - or _.")
                % {"where": where, "key": key},
            )
        elif key in keys:
            problems.add(
                label,
                _("%(where)s: option key %(key)s appears twice.") % {"where": where, "key": key},
            )
        if not isinstance(name, str) or not name.strip() or len(name) > 60:
            problems.add(
                label,
                _("%(where)s: option %(key)s needs a name of at most 60 characters.")
                % {"where": where, "key": key},
            )
        if isinstance(key, str) and key not in keys and isinstance(name, str):
            keys.add(key)
            options.append({"key": key, "name": name.strip(), "order": k + 1})
    return options


def _check_questions(rows: Any, problems: _Problems, label: str) -> list[dict]:
    questions: list[dict] = []
    if rows is None:
        return questions
    if not isinstance(rows, list):
        problems.add(label, _("questions must be a list."))
        return questions
    codes: set[str] = set()
    for j, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.add(label, _("Each question must be an object."))
            continue
        code = row.get("code")
        where = _("question %(code)s") % {"code": code if isinstance(code, str) else j + 1}
        for key in sorted(set(row) - QUESTION_KEYS):
            problems.add(
                label, _("%(where)s: unknown field %(key)s.") % {"where": where, "key": key}
            )
        if not isinstance(code, str) or not SLUG.fullmatch(code) or len(code) > 40:
            problems.add(
                label,
                _("%(where)s: the code must be letters, digits, - or _.") % {"where": where},
            )
        elif code in codes:
            problems.add(label, _("%(where)s appears twice.") % {"where": where})
        prompt = row.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > 100:
            problems.add(
                label,
                _("%(where)s needs a prompt of at most 100 characters.") % {"where": where},
            )
        datatype = row.get("datatype")
        if datatype not in Datatype.values:
            problems.add(
                label,
                _("%(where)s: unknown datatype %(value)r; use one of %(choices)s.")
                % {"where": where, "value": datatype, "choices": ", ".join(Datatype.values)},
            )
        required = row.get("required", False)
        if not isinstance(required, bool):
            problems.add(label, _("%(where)s: required must be true or false.") % {"where": where})
        order = row.get("order", j + 1)
        if not _positive_int(order):
            problems.add(
                label, _("%(where)s: order must be a whole number from 1.") % {"where": where}
            )
        help_text = row.get("help_text", "")
        if not isinstance(help_text, str) or len(help_text) > 200:
            problems.add(
                label,
                _("%(where)s: help_text must be text of at most 200 characters.")
                % {"where": where},
            )
        options: list[dict] = []
        if datatype in LIST_DATATYPES:
            options = _check_options(row.get("options", []), problems, label, where)
            if not options:
                problems.add(
                    label,
                    _("%(where)s is a %(datatype)s question without options.")
                    % {"where": where, "datatype": datatype},
                )
        elif row.get("options"):
            problems.add(
                label,
                _("%(where)s: only list questions have options, not %(datatype)s ones.")
                % {"where": where, "datatype": datatype},
            )
        if isinstance(code, str) and code not in codes:
            codes.add(code)
            questions.append(
                {
                    "code": code,
                    "prompt": prompt.strip() if isinstance(prompt, str) else "",
                    "datatype": datatype,
                    "required": required,
                    "order": order,
                    "help_text": help_text if isinstance(help_text, str) else "",
                    "options": options,
                }
            )
    return questions


def _check_matters(rows: Any, class_codes: set[str], problems: _Problems) -> list[dict]:
    matters: list[dict] = []
    if not isinstance(rows, list):
        problems.add("matters", _("matters must be a list."))
        return matters
    firsts: dict[str, str] = {}
    for i, entry in enumerate(rows):
        label = _label("matters", i, entry)
        if not isinstance(entry, dict):
            problems.add(label, _("Each matter must be an object."))
            continue
        _unknown_keys(entry, MATTER_KEYS, problems, label)
        code = entry.get("code")
        if not isinstance(code, str) or not MATTER_CODE.fullmatch(code):
            problems.add(
                label,
                _(
                    "A matter code is five digits as a string: its class's two and three more "
                    '(e.g. "06010"), not %(code)r.'
                )
                % {"code": code},
            )
            code = None
        elif code in firsts:
            problems.add(
                label,
                _("Matter code %(code)s appears twice (also %(other)s).")
                % {"code": code, "other": firsts[code]},
            )
            problems.add(
                firsts[code],
                _("Matter code %(code)s appears twice (also %(other)s).")
                % {"code": code, "other": label},
            )
        else:
            firsts[code] = label
        class_code = entry.get("class")
        if class_code not in class_codes:
            problems.add(
                label,
                _("Unknown class %(code)r: it is neither in the file nor in the database.")
                % {"code": class_code},
            )
        elif code and not code.startswith(class_code):
            problems.add(
                label,
                _("Code %(code)s does not start with its class %(class)s.")
                % {"code": code, "class": class_code},
            )
        values = {
            "name": _text(entry, "name", 60, problems, label, required=True),
            "description": _text(entry, "description", 0, problems, label, required=False),
            "filing_condition": _text(
                entry, "filing_condition", 0, problems, label, required=False
            ),
            "closing_condition": _text(
                entry, "closing_condition", 0, problems, label, required=False
            ),
            "keywords": _text(entry, "keywords", 200, problems, label, required=False),
        }
        for flag, default in MATTER_FLAGS.items():
            value = entry.get(flag, default)
            if not isinstance(value, bool):
                problems.add(label, _("%(key)s must be true or false.") % {"key": flag})
            values[flag] = value
        department = entry.get("department") or ""
        if not isinstance(department, str) or len(department) > 32:
            problems.add(label, _("department must be a department code (text)."))
            department = ""
        limits = _check_limits(entry.get("limits"), problems, label)
        questions = _check_questions(entry.get("questions"), problems, label)
        matters.append(
            {
                "code": code,
                "class": class_code,
                "department": department,
                "values": values,
                "limits": limits,
                "questions": questions,
            }
        )
    return matters


def catalogue_check(data: Any) -> tuple[list[dict], list[dict]]:
    """The classes and matters of a catalogue, checked entry by entry; DomainError naming
    every bad entry (its fields: label → messages) when any is bad."""
    problems = _Problems()
    if not isinstance(data, dict):
        raise DomainError("catalogue_invalid", _("The catalogue must be a JSON object."))
    for key in sorted(set(data) - TOP_KEYS):
        problems.add("catalogue", _("Unknown field %(key)s.") % {"key": key})
    classes = _check_classes(data.get("classes", []), problems)
    known = set(classes) | set(MatterClass.objects.values_list("code", flat=True))
    matters = _check_matters(data.get("matters", []), known, problems)
    if problems.by_entry:
        raise DomainError(
            "catalogue_invalid",
            _("%(n)d entries of the catalogue are wrong; nothing was loaded.")
            % {"n": len(problems.by_entry)},
            fields=problems.by_entry,
        )
    return list(classes.values()), matters


# --- loading ------------------------------------------------------------------------------


def _changed(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


QUESTION_FIELDS = ("code", "prompt", "datatype", "required", "order", "help_text")


def _questions_new(pairs: list[tuple[Matter, dict]], report: CatalogueReport) -> None:
    """Insert questions (matter, checked entry) and their options."""
    made = MatterQuestion.objects.bulk_create(
        MatterQuestion(matter=matter, **{k: q[k] for k in QUESTION_FIELDS}) for matter, q in pairs
    )
    options = [
        MatterQuestionOption(question=question, **option)
        for question, (_matter, q) in zip(made, pairs, strict=True)
        for option in q["options"]
    ]
    MatterQuestionOption.objects.bulk_create(options)
    report.questions_written += len(made)
    report.options_written += len(options)


def _matter_refresh(matter: Matter, entry: dict, report: CatalogueReport) -> bool:
    """Bring a shipped matter's limits, questions and options to the file's values, adding
    what is missing. Rows the file does not name stay: an administrator may have added
    them."""
    changed = False
    limits = {limit.urgency: limit for limit in matter.limits.all()}
    for row in entry["limits"]:
        limit = limits.get(row["urgency"])
        if limit is None:
            MatterLimit.objects.create(matter=matter, **row)
        elif _changed(limit, {"amount": row["amount"], "unit": row["unit"]}):
            limit.save(update_fields=["amount", "unit"])
        else:
            continue
        report.limits_written += 1
        changed = True
    questions = {q.code: q for q in matter.questions.prefetch_related("options")}
    fresh = []
    for entry_q in entry["questions"]:
        question = questions.get(entry_q["code"])
        if question is None:
            fresh.append(entry_q)
            continue
        fields = ("prompt", "datatype", "required", "order", "help_text")
        if _changed(question, {k: entry_q[k] for k in fields}):
            question.save(update_fields=list(fields))
            report.questions_written += 1
            changed = True
        options = {o.key: o for o in question.options.all()}
        for row in entry_q["options"]:
            option = options.get(row["key"])
            if option is None:
                MatterQuestionOption.objects.create(question=question, **row)
            elif _changed(option, {"name": row["name"], "order": row["order"]}):
                option.save(update_fields=["name", "order"])
            else:
                continue
            report.options_written += 1
            changed = True
    if fresh:
        _questions_new([(matter, q) for q in fresh], report)
        changed = True
    return changed


@transaction.atomic
def catalogue_load(*, data: Any = None, update: bool = False) -> CatalogueReport:
    """Check the catalogue (the shipped file unless `data` is given) and add the classes
    and matters the database lacks, with their limits and questions. A matter already
    present is left as the administrator keeps it, except that it gains its lead department
    once that department exists; with `update`, the file's names, texts, flags, limits and
    questions overwrite those of the codes it names. Nothing is ever deleted, and a bad
    entry anywhere loads nothing (DomainError naming each one)."""
    if data is None:
        data = catalogue_read()
    class_entries, matter_entries = catalogue_check(data)
    report = CatalogueReport()

    # No row locks: two loads at once collide on the unique codes and one rolls back.
    classes = {c.code: c for c in MatterClass.objects.all()}
    for entry in class_entries:
        current = classes.get(entry["code"])
        values = {k: entry[k] for k in ("name", "kind", "sort")}
        if current is None:
            classes[entry["code"]] = MatterClass.objects.create(code=entry["code"], **values)
            report.classes_created += 1
        elif update and _changed(current, values):
            current.save(update_fields=list(values))
            report.classes_updated += 1

    wanted = {m["department"] for m in matter_entries if m["department"]}
    departments = {d.code: d for d in Department.objects.filter(code__in=wanted)}
    existing = {m.code: m for m in Matter.objects.all()}
    new_matters, new_entries = [], []
    for entry in matter_entries:
        department = departments.get(entry["department"])
        if entry["department"] and department is None:
            report.departments_missing[entry["code"]] = entry["department"]
        matter = existing.get(entry["code"])
        if matter is None:
            new_matters.append(
                Matter(
                    code=entry["code"],
                    matter_class=classes[entry["class"]],
                    lead_department=department,
                    **entry["values"],
                )
            )
            new_entries.append(entry)
            continue
        values = dict(entry["values"])
        if update:
            values["matter_class_id"] = classes[entry["class"]].pk
            if department is not None:
                values["lead_department_id"] = department.pk
            changed = _changed(matter, values)
            if changed:
                matter.save(update_fields=[k.removesuffix("_id") for k in values])
            if _matter_refresh(matter, entry, report) or changed:
                report.matters_updated += 1
            else:
                report.matters_unchanged += 1
        elif matter.lead_department_id is None and department is not None:
            # The catalogue was loaded before the department existed (e.g. before the
            # demo street was built): link it now, as the file says.
            matter.lead_department = department
            matter.save(update_fields=["lead_department"])
            report.departments_linked += 1
        else:
            report.matters_unchanged += 1

    made = Matter.objects.bulk_create(new_matters)
    report.matters_created = len(made)
    limits = [
        MatterLimit(matter=matter, **row)
        for matter, entry in zip(made, new_entries, strict=True)
        for row in entry["limits"]
    ]
    MatterLimit.objects.bulk_create(limits)
    report.limits_written += len(limits)
    _questions_new(
        [(m, q) for m, entry in zip(made, new_entries, strict=True) for q in entry["questions"]],
        report,
    )
    return report
