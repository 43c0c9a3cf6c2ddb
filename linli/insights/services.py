"""Keeping the KPI rollups in step with the cases (docs/kpis.md).

Every save of a case sets `Case.tally_dirty` (linli.cases.models.Case.save). `tally_fold`
takes the dirty cases in batches, computes their facts with the SQL expressions of
linli.insights.facts, subtracts what each case last contributed (CaseTallied) and adds
what it contributes now, to every period (day, month, year) and key (community, grid,
department, matter) — in one transaction per batch that also clears the flags. It is
idempotent: a case folded twice contributes once. Selectors fold what is pending before they
read, `manage.py kpi_fold` runs it from cron, and `manage.py kpi_check` compares every
rollup row with a full scan of the cases.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import TruncMonth, TruncYear

from linli.areas.models import Area
from linli.cases.models import Case, CaseAlert, CaseEvent
from linli.insights.facts import FACT_NAMES, fact_expressions
from linli.insights.models import CaseTallied, Dim, Grain, Tally

FOLD_BATCH = 2000
DIMS = tuple(Dim.values)


# --- where a case is counted ----------------------------------------------------------------------


def community_map() -> dict[int, int]:
    """grid id → the id of the community it lies in (0 when none)."""
    communities = dict(Area.objects.filter(level=Area.Level.COMMUNITY).values_list("code", "pk"))
    found = {}
    for pk, path in Area.objects.filter(
        level__in=[Area.Level.GRID, Area.Level.MICROGRID]
    ).values_list("pk", "path"):
        codes = [code for code in path.strip("/").split("/") if code]
        found[pk] = next((communities[c] for c in reversed(codes) if c in communities), 0)
    return found


def _period(grain: str, day: date) -> date:
    if grain == Grain.YEAR:
        return day.replace(month=1, day=1)
    if grain == Grain.MONTH:
        return day.replace(day=1)
    return day


def _keys(day: date, dims: dict) -> list[tuple]:
    return [(dim, grain, _period(grain, day), dims[dim]) for dim in DIMS for grain in Grain.values]


def _facts_of(case_ids) -> list[dict]:
    """The facts of these cases now, by the one set of SQL expressions."""
    return list(
        Case.objects.filter(pk__in=case_ids)
        .annotate(**{f"f_{name}": expr for name, expr in fact_expressions().items()})
        .values(
            "pk",
            "reported_on",
            "grid_id",
            "lead_department_id",
            "matter_id",
            *(f"f_{name}" for name in FACT_NAMES),
        )
    )


# --- applying differences -----------------------------------------------------------------------


_COLUMNS = ("dim", "grain", "period", "key", *FACT_NAMES)
# Rows per statement: one multi-row upsert is far cheaper than one statement a row, and
# stays under both engines' limits on parameters (SQLite 32,766; PostgreSQL 65,535).
UPSERT_ROWS = 250


def _upsert_sql(rows: int) -> str:
    quote = connection.ops.quote_name
    table = quote(Tally._meta.db_table)
    updates = ", ".join(
        f"{quote(c)} = {table}.{quote(c)} + excluded.{quote(c)}" for c in FACT_NAMES
    )
    one = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    # Only our own table and column names, quoted; the values are parameters.
    insert = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in _COLUMNS)}) "  # noqa: S608
        f"VALUES {', '.join([one] * rows)} "
    )
    return insert + f'ON CONFLICT ("dim", "grain", "period", "key") DO UPDATE SET {updates}'


def _apply(deltas: dict[tuple, list[int]]) -> int:
    """Add the differences to the rollup rows, creating rows as needed; in key order, so
    that two folds never wait on each other in a cycle."""
    rows = [(*key, *vector) for key, vector in sorted(deltas.items()) if any(vector)]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            cursor.execute(_upsert_sql(len(chunk)), [value for row in chunk for value in row])
    return len(rows)


@dataclass
class FoldResult:
    cases: int = 0
    rows: int = 0


def tally_fold(*, limit: int | None = None) -> FoldResult:
    """Fold every dirty case (at most `limit`) into the rollups; returns how many."""
    result = FoldResult()
    communities = None
    while limit is None or result.cases < limit:
        batch = FOLD_BATCH if limit is None else min(FOLD_BATCH, limit - result.cases)
        with transaction.atomic():
            dirty = Case.objects.filter(tally_dirty=True).order_by("pk")
            if connection.features.has_select_for_update_skip_locked:
                dirty = dirty.select_for_update(skip_locked=True)
            ids = list(dirty.values_list("pk", flat=True)[:batch])
            if not ids:
                break
            if communities is None:
                communities = community_map()
            result.rows += _fold(ids, communities)
            Case.objects.filter(pk__in=ids).update(tally_dirty=False)
        result.cases += len(ids)
        if len(ids) < batch:
            break
    return result


def _fold(ids: list[int], communities: dict[int, int]) -> int:
    before = CaseTallied.objects.in_bulk(ids)
    deltas: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(FACT_NAMES))
    records = []
    for row in _facts_of(ids):
        vector = [row[f"f_{name}"] for name in FACT_NAMES]
        dims = {
            Dim.COMMUNITY: communities.get(row["grid_id"], 0),
            Dim.GRID: row["grid_id"],
            Dim.DEPARTMENT: row["lead_department_id"] or 0,
            Dim.MATTER: row["matter_id"],
        }
        old = before.get(row["pk"])
        if old is not None:
            old_dims = {
                Dim.COMMUNITY: old.community,
                Dim.GRID: old.grid,
                Dim.DEPARTMENT: old.department,
                Dim.MATTER: old.matter,
            }
            old_vector = [old.facts.get(name, 0) for name in FACT_NAMES]
            if old_dims == dims and old.day == row["reported_on"] and old_vector == vector:
                continue
            for key in _keys(old.day, old_dims):
                total = deltas[key]
                for i, value in enumerate(old_vector):
                    total[i] -= value
        for key in _keys(row["reported_on"], dims):
            total = deltas[key]
            for i, value in enumerate(vector):
                total[i] += value
        records.append(
            CaseTallied(
                case_id=row["pk"],
                day=row["reported_on"],
                community=dims[Dim.COMMUNITY],
                grid=dims[Dim.GRID],
                department=dims[Dim.DEPARTMENT],
                matter=dims[Dim.MATTER],
                facts={n: v for n, v in zip(FACT_NAMES, vector, strict=True) if v},
            )
        )
    if records:
        CaseTallied.objects.bulk_create(
            records,
            update_conflicts=True,
            unique_fields=["case"],
            update_fields=["day", "community", "grid", "department", "matter", "facts"],
        )
    return _apply(deltas)


def tally_pending() -> bool:
    return Case.objects.filter(tally_dirty=True).exists()


# --- rebuilding and checking ---------------------------------------------------------------------


def tally_analyze() -> None:
    """Refresh the planner's statistics of the rollups after a rebuild: with stale ones
    PostgreSQL reads a whole breakdown for a community's grids (1.8 s instead of 7 ms on
    5 M cases, docs/performance.md)."""
    with connection.cursor() as cursor:
        for model in (Tally, CaseTallied):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def tally_rebuild() -> FoldResult:
    """Empty the rollups and fold every case again (after a restore, or a change of the
    area tree that moves grids between communities)."""
    with transaction.atomic():
        Tally.objects.all().delete()
        CaseTallied.objects.all().delete()
        Case.objects.filter(tally_dirty=False).update(tally_dirty=True)
    result = tally_fold()
    tally_analyze()
    return result


COMMUNITY_MAP_TABLE = "linli_rebuild_community_map"


def tally_rebuild_sql() -> FoldResult:
    """`tally_rebuild` set-based, for millions of cases: the same rows in a few INSERT …
    SELECT … GROUP BY statements instead of a fold case by case. The day rows of the grid,
    department and matter breakdowns sum the facts' SQL expressions over the cases; the
    month and year rows sum the day rows; the community rows sum the grid rows through
    `community_map`. CaseTallied gets every case's keys and non-zero facts; the dirty flags
    are cleared. One transaction, which keeps writers to the cases out meanwhile."""
    from django.db.models import Value
    from django.db.models.functions import Coalesce

    quote = connection.ops.quote_name
    tally = quote(Tally._meta.db_table)
    tallied = quote(CaseTallied._meta.db_table)
    cases = quote(Case._meta.db_table)
    facts = [quote(name) for name in FACT_NAMES]
    columns = ", ".join([quote("dim"), quote("grain"), quote("period"), quote("key"), *facts])
    sums = ", ".join(f"SUM(t.{f})" for f in facts)
    day_keys = {
        Dim.GRID: F("grid_id"),
        Dim.DEPARTMENT: Coalesce(F("lead_department_id"), Value(0)),
        Dim.MATTER: F("matter_id"),
    }
    expressions = fact_expressions()
    result = FoldResult()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {cases} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {tally}")  # noqa: S608 - our own table names only
        cursor.execute(f"DELETE FROM {tallied}")  # noqa: S608
        cursor.execute(f"DROP TABLE IF EXISTS {COMMUNITY_MAP_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {COMMUNITY_MAP_TABLE} "
            "(grid BIGINT PRIMARY KEY, community BIGINT NOT NULL)"
        )
        cursor.executemany(
            f"INSERT INTO {COMMUNITY_MAP_TABLE} (grid, community) VALUES (%s, %s)",  # noqa: S608
            sorted(community_map().items()),
        )
        for dim, key in day_keys.items():
            scan = (
                Case.objects.order_by()
                .annotate(p=F("reported_on"), k=key)
                .values("p", "k")
                .annotate(**{name: Sum(expressions[name]) for name in FACT_NAMES})
            )
            sql, params = scan.query.sql_with_params()
            cursor.execute(
                f"INSERT INTO {tally} ({columns}) "  # noqa: S608
                f"SELECT %s, %s, t.p, t.k, {', '.join(f't.{f}' for f in facts)} FROM ({sql}) t",
                [dim, Grain.DAY, *params],
            )
            for grain, trunc in ((Grain.MONTH, TruncMonth), (Grain.YEAR, TruncYear)):
                rollup = (
                    Tally.objects.filter(dim=dim, grain=Grain.DAY)
                    .order_by()
                    .annotate(p=trunc("period"))
                    .values("p", "key")
                    .annotate(**{f"s_{name}": Sum(name) for name in FACT_NAMES})
                )
                sql, params = rollup.query.sql_with_params()
                picked = ", ".join(f"t.{quote('s_' + name)}" for name in FACT_NAMES)
                cursor.execute(
                    f"INSERT INTO {tally} ({columns}) "  # noqa: S608
                    f"SELECT %s, %s, t.p, t.{quote('key')}, {picked} FROM ({sql}) t",
                    [dim, grain, *params],
                )
        cursor.execute(
            f"INSERT INTO {tally} ({columns}) "  # noqa: S608
            f"SELECT %s, t.{quote('grain')}, t.{quote('period')}, COALESCE(m.community, 0), "
            f"{sums} FROM {tally} t LEFT JOIN {COMMUNITY_MAP_TABLE} m ON m.grid = t.{quote('key')} "
            f"WHERE t.{quote('dim')} = %s "
            f"GROUP BY t.{quote('grain')}, t.{quote('period')}, COALESCE(m.community, 0)",
            [Dim.COMMUNITY, Dim.GRID],
        )
        cursor.execute(f"SELECT COUNT(*) FROM {tally}")  # noqa: S608
        result.rows = cursor.fetchone()[0]
        # Each case's keys and non-zero facts, as tally_fold records them.
        per_case = (
            Case.objects.order_by()
            .annotate(**{f"f_{name}": expressions[name] for name in FACT_NAMES})
            .values(
                "id",
                "reported_on",
                "grid_id",
                "lead_department_id",
                "matter_id",
                *(f"f_{name}" for name in FACT_NAMES),
            )
        )
        sql, params = per_case.query.sql_with_params()
        pairs = " || ".join(
            f"CASE WHEN c.{quote('f_' + name)} <> 0 "
            f"THEN ', \"{name}\": ' || c.{quote('f_' + name)} ELSE '' END"
            for name in FACT_NAMES
        )
        json = f"'{{' || SUBSTR({pairs}, 3) || '}}'"
        if connection.vendor == "postgresql":
            json = f"({json})::jsonb"
        cursor.execute(
            f"INSERT INTO {tallied} "  # noqa: S608
            "(case_id, day, community, grid, department, matter, facts) "
            f"SELECT c.id, c.reported_on, COALESCE(m.community, 0), c.grid_id, "
            f"COALESCE(c.lead_department_id, 0), c.matter_id, {json} "
            f"FROM ({sql}) c LEFT JOIN {COMMUNITY_MAP_TABLE} m ON m.grid = c.grid_id",
            params,
        )
        result.cases = cursor.rowcount
        cursor.execute(f"DROP TABLE {COMMUNITY_MAP_TABLE}")
        Case.objects.filter(tally_dirty=True).update(tally_dirty=False)
    tally_analyze()
    return result


# Only the timeline entries the counters read (linli.cases.counters.counters_from_timeline).
_COUNTED_ACTIONS = ("dispatch", "reopen", "sign", "reply", "park", "send_back", "resume")


def _timelines(chunk: list[int], *, lock: bool = False):
    """(case, counters as the timeline tells them) for the cases `chunk`, read as plain
    rows: a whole demo or city recount would spend most of its time building models."""
    from linli.cases.counters import COUNTERS, counters_from_timeline
    from linli.cases.workflow import Note, Status

    cases = Case.objects.filter(pk__in=chunk).order_by("pk")
    if lock:
        cases = cases.select_for_update()
    events = defaultdict(list)
    read = (
        CaseEvent.objects.filter(case_id__in=chunk)
        .filter(
            Q(action__in=[*_COUNTED_ACTIONS, Note.EXTENSION_APPROVE]) | Q(to_status=Status.ACCEPTED)
        )
        .order_by("created_at", "pk")
        .values_list(
            "case_id", "action", "from_status", "to_status", "created_at", "data", named=True
        )
    )
    for event in read:
        events[event.case_id].append(event)
    supervised = set(
        CaseAlert.objects.filter(case_id__in=chunk, kind="supervise").values_list(
            "case_id", flat=True
        )
    )
    for case in cases.values_list("pk", "number", "urgency", *COUNTERS, named=True):
        told = counters_from_timeline(case, events[case.pk], supervised=case.pk in supervised)
        yield case, told


def counters_recount(*, batch: int = 2000) -> int:
    """Recount every case's KPI counters from its timeline (linli.cases.counters), e.g. for
    cases written before the counters existed; marks changed cases for the rollups.
    Returns how many cases changed."""
    from linli.cases.counters import COUNTERS

    table = connection.ops.quote_name(Case._meta.db_table)
    columns = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in COUNTERS)
    update = f"UPDATE {table} SET {columns}, tally_dirty = %s WHERE id = %s"  # noqa: S608
    changed = 0
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with transaction.atomic():
            rows = [
                (*(told[name] for name in COUNTERS), True, case.pk)
                for case, told in _timelines(chunk, lock=True)
                if any(getattr(case, name) != told[name] for name in COUNTERS)
            ]
            if rows:
                with connection.cursor() as cursor:
                    cursor.executemany(update, rows)
            changed += len(rows)
    return changed


def counters_differences(*, limit: int = 20) -> list[dict]:
    """Cases whose counters differ from what their timeline tells (the deep check)."""
    from linli.cases.counters import COUNTERS

    found = []
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        for case, told in _timelines(ids[start : start + 2000]):
            stored = {name: getattr(case, name) for name in COUNTERS}
            if stored != told:
                found.append({"case": case.number, "stored": stored, "timeline": told})
                if len(found) >= limit:
                    return found
    return found


@dataclass
class CheckResult:
    rows: int = 0
    differences: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def _scan(dim: str, grain: str, communities: dict[int, int]) -> dict[tuple, list[int]]:
    """The rollup rows of one dim and grain, recomputed from the cases by full scan."""
    period = {
        Grain.DAY: F("reported_on"),
        Grain.MONTH: TruncMonth("reported_on"),
        Grain.YEAR: TruncYear("reported_on"),
    }[grain]
    key = {
        Dim.COMMUNITY: F("grid_id"),
        Dim.GRID: F("grid_id"),
        Dim.DEPARTMENT: F("lead_department_id"),
        Dim.MATTER: F("matter_id"),
    }[dim]
    expressions = fact_expressions()
    rows = (
        Case.objects.order_by()
        .annotate(p=period, k=key)
        .values("p", "k")
        .annotate(**{name: Sum(expressions[name]) for name in FACT_NAMES})
    )
    found: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(FACT_NAMES))
    for row in rows.iterator(chunk_size=5000):
        k = row["k"] or 0
        if dim == Dim.COMMUNITY:
            k = communities.get(k, 0)
        p = row["p"]
        if hasattr(p, "date"):
            p = p.date()
        total = found[(p, k)]
        for i, name in enumerate(FACT_NAMES):
            total[i] += row[name] or 0
    return found


def tally_check(*, limit: int = 20) -> CheckResult:
    """Compare every rollup row with the same sums computed from the cases; folds what is
    pending first. Reports up to `limit` differences."""
    tally_fold()
    communities = community_map()
    result = CheckResult()
    for dim in DIMS:
        for grain in Grain.values:
            expected = _scan(dim, grain, communities)
            stored = {
                (row[0], row[1]): list(row[2:])
                for row in Tally.objects.filter(dim=dim, grain=grain).values_list(
                    "period", "key", *FACT_NAMES
                )
            }
            result.rows += len(stored)
            for where in sorted(set(expected) | set(stored)):
                want = expected.get(where, [0] * len(FACT_NAMES))
                have = stored.get(where, [0] * len(FACT_NAMES))
                if want != have:
                    wrong = {
                        name: {"rollup": h, "cases": w}
                        for name, h, w in zip(FACT_NAMES, have, want, strict=True)
                        if h != w
                    }
                    result.differences.append(
                        {
                            "dim": dim,
                            "grain": grain,
                            "period": where[0],
                            "key": where[1],
                            "facts": wrong,
                        }
                    )
                    if len(result.differences) >= limit:
                        return result
    return result
