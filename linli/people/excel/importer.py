"""The import: read, check, then write every row or none, or the good rows only."""

from collections import defaultdict
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.audit import audit_record
from linli.core.db import planner_statistics_refresh
from linli.core.errors import DomainError
from linli.people import permissions, services
from linli.people.excel.checks import _assemble_households, _check_duplicates, _Checker, _Row
from linli.people.excel.columns import BATCH, PROGRESS_EVERY, Progress
from linli.people.excel.reader import _file_bytes, _sheet_read
from linli.people.excel.report import MODE_ALL, MODE_GOOD, ImportReport, Problem, _FileProblem
from linli.people.models import Household, Resident, ResidentTag, Tag

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


# A load this large changes the tables' shape enough to refresh the planner's statistics.
ANALYZE_AFTER_ROWS = 5_000


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
        if residents >= ANALYZE_AFTER_ROWS:
            planner_statistics_refresh()
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
