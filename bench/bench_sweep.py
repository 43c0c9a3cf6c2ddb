"""B5 (performance spec §5): the SLA sweep over a city's running cases — 1,000,000 cases
departments are working on (LINLI_BENCH_SWEEP_CASES), 10,000 of them past their deadline
and none due within ten days — against a bare indexed SELECT of the overdue ids plus one
batched insert of 10,000 alert rows. Each department has a handler, who is told of each
overdue case. A second sweep must add nothing."""

import os
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from bench.common import report
from bench.gen_cases import DEPARTMENTS, cases_generate, database_use

NEEDS_DEMO_DATABASE = False
OVERDUE = 10_000
AT = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _prepare(n: int) -> None:
    from django.contrib.auth import get_user_model

    from linli.accounts.models import Department
    from linli.cases.models import Case, CaseAlert, CaseEvent
    from linli.notifications.models import Notification

    database_use("sweep")
    if Case.objects.count() != n:
        database_use("sweep", fresh=True)
        cases_generate(n, running={"now": int(AT.timestamp()), "overdue": OVERDUE}, quiet=True)
    User = get_user_model()  # noqa: N806
    if not User.objects.filter(role="handler", username__startswith="bench-h").exists():
        User.objects.bulk_create(
            User(username=f"bench-h{d.code}", role="handler", department=d, password="!")
            for d in Department.objects.filter(code__startswith="B")[:DEPARTMENTS]
        )
    # The sweeps run in a transaction that is rolled back (timeline entries cannot be
    # deleted), so every run starts from no alerts.
    assert not CaseAlert.objects.exists() and not CaseEvent.objects.exists()
    assert not Notification.objects.exists()


def _bare(now) -> float:
    """The overdue ids by one indexed SELECT, and 10,000 alert rows in one batch."""
    from django.db import connection, transaction

    from linli.cases.workflow import RUNNING_STATUSES

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        statuses = sorted(RUNNING_STATUSES)
        marks = ", ".join(["%s"] * len(statuses))
        cursor.execute(
            "SELECT c.id, c.deadline FROM cases_case c "  # noqa: S608
            f"WHERE c.status IN ({marks}) AND c.deadline <= %s AND NOT EXISTS ("
            "SELECT 1 FROM cases_casealert a WHERE a.case_id = c.id "
            "AND a.kind = 'supervise' AND a.deadline = c.deadline) ORDER BY c.deadline, c.id",
            [*statuses, now],
        )
        found = cursor.fetchall()
        cursor.executemany(
            "INSERT INTO cases_casealert (case_id, kind, deadline, created_at) "
            "VALUES (%s, 'supervise', %s, %s)",
            [(pk, deadline, now) for pk, deadline in found],
        )
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    assert len(found) == OVERDUE, len(found)
    return elapsed


def main() -> None:
    from django.db import connection, transaction

    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[connection.vendor]
    n = int(os.environ.get("LINLI_BENCH_SWEEP_CASES", 1_000_000))
    _prepare(n)
    bare = min(_bare(AT) for _ in range(3))
    with transaction.atomic():
        _sweeps(n, vendor, bare)
        transaction.set_rollback(True)


def _sweeps(n: int, vendor: str, bare: float) -> None:
    from linli.cases.case_services import sla_sweep
    from linli.cases.models import CaseAlert, CaseEvent
    from linli.notifications.models import Notification

    started = time.perf_counter()
    taken = sla_sweep(at=AT)
    first = time.perf_counter() - started
    assert taken == {"remind": 0, "supervise": OVERDUE, "escalate": 0}, taken
    report(
        f"sla_sweep, {n:,} running cases, {OVERDUE:,} overdue, {vendor}",
        first,
        "s",
        "bare SELECT + one batched insert",
        bare,
        higher_is_better=False,
        note=f"{taken} · {CaseEvent.objects.count():,} timeline entries, "
        f"{Notification.objects.count():,} notices",
    )
    started = time.perf_counter()
    again = sla_sweep(at=AT)
    second = time.perf_counter() - started
    assert again == {"remind": 0, "supervise": 0, "escalate": 0}, again
    print(
        f"   second sweep: {again} in {second:.2f} s; "
        f"{CaseAlert.objects.count():,} alerts in all (no duplicates)",
        flush=True,
    )
