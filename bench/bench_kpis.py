"""B3 (performance spec §5): the dashboard KPIs of a city — N synthetic cases over five
years (bench/gen_cases.py; LINLI_BENCH_CASES, default 5,000,000) — for a month, a year and
five years, by department, grid and community. `kpi_sums` (the rollups) and `kpi_report`
(what the KPI page and API call) against the full scan that sums the same facts straight
from the cases (GROUP BY over a reported_on range with the same SQL expressions). The two
must be equal: the bench exits non-zero if they are not, and ends with `tally_check` over
every rollup row.

Before timing the reads it changes 20,000 random cases (closings, ratings, reopens,
exemptions, a new lead department) and times the incremental `tally_fold`."""

import os
import statistics
import sys
import time
from datetime import date

from bench.common import report
from bench.gen_cases import cases_wanted, city_cases

NEEDS_DEMO_DATABASE = False
SPANS = {
    "1 month": (date(2026, 10, 1), date(2026, 10, 31)),
    "1 year": (date(2025, 11, 26), date(2026, 11, 25)),
    "5 years": (date(2022, 1, 1), date(2026, 12, 31)),
}
# (label, dim, whose view): the city's departments and communities as a city leader sees
# them, one community's grids as its staff see them (the grid breakdown a person reads),
# and every grid of the city at once (50,000 rows: measured, no target).
VIEWS = (
    ("department", "department", "city"),
    ("community", "community", "city"),
    ("grid, one community", "grid", "community"),
    ("grid, whole city", "grid", "city"),
)
RUNS = 10
SCAN_RUNS = {"1 month": 3, "1 year": 2, "5 years": 2}
CHANGED = 20_000


class NotEqual(Exception):
    pass


def _timed(fn, runs: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _scan(dim: str, start: date, end: date, communities: dict, keys=None) -> dict:
    """The same sums as kpi_sums, straight from the cases (grid keys: only those grids)."""
    from django.db.models import F, Sum, Value
    from django.db.models.functions import Coalesce

    from linli.cases.models import Case
    from linli.insights.facts import FACT_NAMES, fact_expressions

    key = Coalesce(F("lead_department_id"), Value(0)) if dim == "department" else F("grid_id")
    expressions = fact_expressions()
    rows = (
        Case.objects.order_by()
        .filter(reported_on__gte=start, reported_on__lte=end)
        .filter(**({"grid_id__in": sorted(keys)} if keys is not None else {}))
        .annotate(k=key)
        .values("k")
        .annotate(**{name: Sum(expressions[name]) for name in FACT_NAMES})
    )
    found: dict[int, dict] = {}
    for row in rows:
        k = communities.get(row["k"], 0) if dim == "community" else row["k"]
        total = found.setdefault(k, dict.fromkeys(FACT_NAMES, 0))
        for name in FACT_NAMES:
            total[name] += row[name] or 0
    return found


def _nonzero(sums: dict) -> dict:
    return {key: facts for key, facts in sums.items() if any(facts.values())}


def _change_cases() -> int:
    """Closings, ratings, reopens, exemptions and moves to another department on CHANGED
    random cases, written the way a bulk correction would: UPDATE … tally_dirty = true."""
    import random

    from django.db.models import F
    from django.utils import timezone

    from linli.accounts.models import Department
    from linli.cases.models import Case

    rng = random.Random(7)
    last = Case.objects.order_by("-pk").values_list("pk", flat=True).first()
    ids = rng.sample(range(1, last + 1), CHANGED)
    now = timezone.now()
    groups = [ids[i::5] for i in range(5)]
    with_dirty = {"tally_dirty": True, "updated_at": now}
    base = Case.objects.order_by()
    base.filter(pk__in=groups[0], status="replied").update(
        status="closed", closed_at=now, verified_at=now, **with_dirty
    )
    base.filter(pk__in=groups[0]).exclude(status="closed").update(was_overdue=True, **with_dirty)
    base.filter(pk__in=groups[1], status__in=["rated", "archived"]).update(
        satisfaction="unsatisfied", resolved=False, **with_dirty
    )
    base.filter(pk__in=groups[1]).exclude(status__in=["rated", "archived"]).update(
        rework_count=F("rework_count") + 1, **with_dirty
    )
    base.filter(pk__in=groups[2]).update(
        reopen_count=F("reopen_count") + 1,
        reply_count=F("reply_count") + 1,
        sign_on_time_count=F("sign_on_time_count") + 1,
        **with_dirty,
    )
    base.filter(pk__in=groups[3]).exclude(status="merged").update(
        exempt_reason="outside", **with_dirty
    )
    departments = list(Department.objects.values_list("pk", flat=True))
    for i in range(10):
        base.filter(pk__in=groups[4][i::10], lead_department__isnull=False).update(
            lead_department_id=rng.choice(departments), **with_dirty
        )
    return Case.objects.filter(tally_dirty=True).count()


def main() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from linli.cases.models import Case
    from linli.insights.selectors import kpi_report, kpi_scope, kpi_sums
    from linli.insights.services import community_map, tally_check, tally_fold

    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[connection.vendor]
    n = cases_wanted()
    timings = city_cases(n, "kpis")
    print(f"   {n:,} cases in {timings['where']}", flush=True)
    if "generate" in timings:
        print(
            f"   generated {n:,} cases in {timings['generate']:.0f} s "
            f"({n / timings['generate']:,.0f} cases/s, city and indexes included)",
            flush=True,
        )
        rebuild_rate = n / timings["rebuild"]
        print(
            f"   tally_rebuild_sql: {timings['rebuild']:.1f} s for {n:,} cases "
            f"({rebuild_rate:,.0f} cases/s), {timings['rebuild_rows']:,} rollup rows",
            flush=True,
        )
    else:
        rebuild_rate = None

    dirty = _change_cases()
    started = time.perf_counter()
    folded = tally_fold()
    seconds = time.perf_counter() - started
    fold_rate = folded.cases / seconds
    note = f"{folded.cases:,} cases in {seconds:.1f} s, {folded.rows:,} row updates"
    if rebuild_rate:
        report(
            f"tally_fold of {dirty:,} changed cases, {vendor}",
            fold_rate,
            "cases/s",
            "tally_rebuild_sql, same run",
            rebuild_rate,
            note=note,
        )
    else:
        print(f"   tally_fold: {fold_rate:,.0f} cases/s ({note})", flush=True)

    admin, _ = get_user_model().objects.get_or_create(
        username="bench-kpis-admin", defaults={"role": "admin", "is_staff": True}
    )
    communities = community_map()
    community = min(pk for pk in communities.values() if pk)
    staff, _ = get_user_model().objects.update_or_create(
        username="bench-kpis-community",
        defaults={"role": "dispatcher", "area_id": community},
    )
    viewers = {"city": (admin, None), "community": (staff, kpi_scope(staff).keys("grid"))}
    failures = []
    for span, (start, end) in SPANS.items():
        for label, dim, whose in VIEWS:
            viewer, keys = viewers[whose]
            runs = RUNS if whose == "community" or dim != "grid" else 3
            scan_times, scanned = _timed(
                lambda d=dim, s=start, e=end, k=keys: _scan(d, s, e, communities, k),
                SCAN_RUNS[span],
            )
            sums_times, summed = _timed(
                lambda d=dim, s=start, e=end, k=keys: kpi_sums(d, s, e, k), runs
            )
            equal = _nonzero(summed) == _nonzero(scanned)
            if not equal:
                failures.append(f"{label} {span}")
            scan_ms = statistics.median(scan_times)
            p50 = statistics.median(sums_times)
            report(
                f"kpi_sums by {label}, {span}, {vendor}",
                p50,
                "ms p50",
                "full scan of the cases",
                scan_ms,
                higher_is_better=False,
                note=f"p95 {_p95(sums_times):.1f} ms · speed-up ×{scan_ms / p50:,.0f} · "
                f"{len(summed):,} keys · {'EQUAL' if equal else 'DIFFERENT'}",
            )
            try:
                report_times, answer = _timed(
                    lambda d=dim, s=start, e=end, v=viewer: kpi_report(v, dim=d, start=s, end=e),
                    runs,
                )
                shown = {row.key: row.facts for row in answer.rows}
                same = _nonzero(shown) == _nonzero(scanned)
                if not same:
                    failures.append(f"kpi_report {label} {span}")
                report(
                    f"kpi_report by {label}, {span}, {vendor}",
                    statistics.median(report_times),
                    "ms p50",
                    "full scan of the cases",
                    scan_ms,
                    higher_is_better=False,
                    note=f"p95 {_p95(report_times):.1f} ms · {'EQUAL' if same else 'DIFFERENT'}",
                )
            except Exception as problem:  # noqa: BLE001 - reported, and the bench fails
                failures.append(f"kpi_report {label} {span}: {problem}")
                print(f"   kpi_report by {label}, {span}: FAILED {problem!r}", flush=True)

    if os.environ.get("LINLI_BENCH_KPIS_CHECK", "1") == "0":
        print("   tally_check skipped (LINLI_BENCH_KPIS_CHECK=0)", flush=True)
        if failures:
            print(f"   NOT EQUAL: {failures}", file=sys.stderr, flush=True)
            sys.exit(1)
        return
    started = time.perf_counter()
    check = tally_check()
    print(
        f"   tally_check: {check.rows:,} rollup rows against a full scan of "
        f"{Case.objects.count():,} cases in {time.perf_counter() - started:.1f} s — "
        f"{'all equal' if check.ok else f'{len(check.differences)} DIFFERENCES'}",
        flush=True,
    )
    if not check.ok:
        failures.append(f"tally_check: {check.differences[:3]}")
    if failures:
        print(f"   NOT EQUAL: {failures}", file=sys.stderr, flush=True)
        sys.exit(1)
