"""A synthetic city for the city-scale benchmarks (bench_kpis, bench_sweep, bench_list):
50,000 grids under 1,000 communities under 4 streets, 300 departments, 200 matters with
limits, and N cases over five years (2022–2026) with statuses and KPI columns drawn to
realistic shares. No timeline events: the benchmarks read the case rows and the rollups.

Cases are drawn with numpy and written in big batches — `executemany` on SQLite with the
secondary indexes dropped meanwhile and rebuilt after, psycopg 3 `COPY` on PostgreSQL —
then the rollups are built set-based by `tally_rebuild_sql`.

    python -m bench.gen_cases 1000000        # into the bench's own database "kpis"

Each bench keeps its data in a database of its own (`database_use`): a SQLite file under
var/bench/ (never committed), or the PostgreSQL database `linli_bench_<name>` when
DATABASE_URL is set. A database already holding the same city and N cases is reused.
"""

import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
STREETS = 4
COMMUNITIES = 1000
GRIDS_PER_COMMUNITY = 50
DEPARTMENTS = 300
MATTER_CLASSES = 10
MATTERS_PER_CLASS = 20
FIRST_DAY = date(2022, 1, 1)
LAST_DAY = date(2026, 12, 31)
# Cases reported in the last RECENT days of the span are often still open.
RECENT = 30
SOURCE_SHARES = {
    "resident": 45,
    "grid_worker": 30,
    "hotline": 18,
    "sensor": 2,
    "import": 3,
    "open311": 2,
}
BATCH = 100_000
LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai, no daylight saving


def cases_wanted(default: int = 5_000_000) -> int:
    return int(os.environ.get("LINLI_BENCH_CASES", default))


# --- the bench's own database ---------------------------------------------------------------------


def database_use(name: str, *, fresh: bool = False) -> str:
    """Point the default connection at this bench's own database (created if missing,
    emptied first when `fresh`) and migrate it. Returns a description."""
    from django.core.management import call_command
    from django.db import connection

    connection.close()
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        path = BENCH_DIR / f"{name}.sqlite3"
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        settings["NAME"] = str(path)
        where = str(path)
    else:
        import psycopg

        database = f"linli_bench_{name}"
        admin = psycopg.connect(
            host=settings["HOST"] or None,
            port=settings["PORT"] or None,
            user=settings["USER"] or None,
            password=settings["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        )
        with admin:
            if fresh:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [database]
            ).fetchone()
            if not exists:
                admin.execute(f'CREATE DATABASE "{database}"')
        settings["NAME"] = database
        where = f"PostgreSQL database {database}"
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    return where


def database_forget(name: str) -> None:
    """Drop a bench database (PostgreSQL) or delete its file (SQLite)."""
    from django.db import connection

    connection.close()
    if connection.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{BENCH_DIR / name}.sqlite3{suffix}").unlink(missing_ok=True)


# --- the city -------------------------------------------------------------------------------------


def city_build() -> dict:
    """Areas, departments and matters; returns their ids. Reuses a city already built."""
    import numpy as np
    from django.db import transaction

    from linli.accounts.models import Department
    from linli.areas.models import Area
    from linli.cases.models import Matter, MatterClass, MatterLimit

    if not Area.objects.filter(code="110199").exists():
        with transaction.atomic():
            district = Area(level="district", code="110199", name="Bench district")
            district.path = "/110199/"
            district.save()
            streets = Area.objects.bulk_create(
                [
                    Area(
                        level="street",
                        code=f"110199{s:03d}",
                        name=f"Street {s}",
                        parent=district,
                        path=f"/110199/110199{s:03d}/",
                    )
                    for s in range(1, STREETS + 1)
                ]
            )
            communities = Area.objects.bulk_create(
                [
                    Area(
                        level="community",
                        code=f"{streets[c % STREETS].code}{c // STREETS + 1:03d}",
                        name=f"Community {c + 1}",
                        parent=streets[c % STREETS],
                        path=f"{streets[c % STREETS].path}"
                        f"{streets[c % STREETS].code}{c // STREETS + 1:03d}/",
                    )
                    for c in range(COMMUNITIES)
                ]
            )
            # Plain 500 m squares on a 250 × 200 lattice around Beijing.
            grids = []
            for c, community in enumerate(communities):
                for g in range(GRIDS_PER_COMMUNITY):
                    n = c * GRIDS_PER_COMMUNITY + g
                    lon = 116.0 + (n % 250) * 0.006
                    lat = 39.6 + (n // 250) * 0.0045
                    grids.append(
                        Area(
                            level="grid",
                            code=f"{community.code}{g + 1:03d}",
                            name=f"Grid {n + 1}",
                            parent=community,
                            path=f"{community.path}{community.code}{g + 1:03d}/",
                            centroid_lon=lon,
                            centroid_lat=lat,
                            area_m2=250_000.0,
                        )
                    )
            Area.objects.bulk_create(grids, batch_size=5000)
            Department.objects.bulk_create(
                [
                    Department(code=f"B{d:03d}", name=f"Department {d}")
                    for d in range(1, DEPARTMENTS + 1)
                ]
            )
            departments = list(
                Department.objects.filter(code__startswith="B").values_list("pk", flat=True)
            )
            rng = np.random.default_rng(1)
            classes = MatterClass.objects.bulk_create(
                [
                    MatterClass(
                        code=f"{80 + k:02d}",
                        name=f"Class {k}",
                        kind="component" if k <= 5 else "event",
                        sort=k,
                    )
                    for k in range(1, MATTER_CLASSES + 1)
                ]
            )
            matters = Matter.objects.bulk_create(
                [
                    Matter(
                        code=f"{klass.code}{m:03d}",
                        name=f"Matter {klass.code}{m:03d}",
                        matter_class=klass,
                        lead_department_id=int(rng.choice(departments)),
                    )
                    for klass in classes
                    for m in range(1, MATTERS_PER_CLASS + 1)
                ]
            )
            MatterLimit.objects.bulk_create(
                [
                    MatterLimit(matter=m, urgency=u, amount=a, unit=unit)
                    for m in matters
                    for u, a, unit in (
                        ("normal", int(rng.integers(2, 11)), "days"),
                        ("urgent", 24, "hours"),
                        ("critical", 4, "hours"),
                    )
                ]
            )
    grids = Area.objects.filter(level="grid", path__startswith="/110199/")
    return {
        "grids": np.array(sorted(grids.values_list("pk", flat=True)), dtype=np.int64),
        "departments": np.array(
            sorted(Department.objects.filter(code__startswith="B").values_list("pk", flat=True)),
            dtype=np.int64,
        ),
        "matters": dict(
            Matter.objects.filter(matter_class__code__gte="81")
            .order_by("pk")
            .values_list("pk", "lead_department_id")
        ),
    }


# --- the cases ------------------------------------------------------------------------------------

COLUMNS = [
    "id",
    "number",
    "source",
    "matter_id",
    "urgency",
    "description",
    "lon",
    "lat",
    "address",
    "grid_id",
    "anonymous",
    "status",
    "lead_department_id",
    "deadline",
    "reported_at",
    "accepted_at",
    "dispatched_at",
    "signed_at",
    "replied_at",
    "verified_at",
    "closed_at",
    "archived_at",
    "rework_count",
    "sendback_count",
    "reopen_count",
    "satisfaction",
    "resolved",
    "answers",
    "external_ref",
    "contact_name",
    "contact_phone_encrypted",
    "contact_phone_index",
    "contact_phone_masked",
    "merged_into_id",
    "reported_on",
    "dispatch_count",
    "dispatch_on_time_count",
    "sign_on_time_count",
    "reply_count",
    "was_overdue",
    "exempt_reason",
    "tally_dirty",
    "created_at",
    "updated_at",
]


def _stamps(seconds, mask=None, *, postgres: bool):
    """Epoch seconds (UTC) → the text the database takes, None where `mask` is False."""
    import numpy as np

    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    text = np.char.add(np.char.replace(text, "T", " "), "+00" if postgres else "")
    out = text.astype(object)
    if mask is not None:
        out[~mask] = None
    return out


def _draw(rng, start_id: int, n: int, city: dict, *, running: dict | None = None) -> dict:
    """n cases with ids start_id…; `running` ({now, overdue}) draws only cases departments
    are working on, `overdue` of them past their deadline at `now` (epoch seconds)."""
    import numpy as np

    ids = np.arange(start_id, start_id + n, dtype=np.int64)
    grid_weights = city["grid_weights"]
    grids = city["grids"][rng.choice(len(city["grids"]), size=n, p=grid_weights)]
    matter_ids = np.array(list(city["matters"]), dtype=np.int64)
    matter_leads = np.array([city["matters"][m] for m in matter_ids], dtype=np.int64)
    pick = rng.choice(len(matter_ids), size=n, p=city["matter_weights"])
    matters, leads = matter_ids[pick], matter_leads[pick]
    # 10 % of cases go to another department than the matter's lead.
    other = rng.random(n) < 0.10
    leads = np.where(other, rng.choice(city["departments"], size=n), leads)
    sources = np.array(list(SOURCE_SHARES), dtype=object)
    shares = np.array(list(SOURCE_SHARES.values()), dtype=float)
    source = sources[rng.choice(len(sources), size=n, p=shares / shares.sum())]
    urgency = np.array(["normal", "urgent", "critical"], dtype=object)[
        rng.choice(3, size=n, p=[0.85, 0.12, 0.03])
    ]

    first = int(datetime(FIRST_DAY.year, 1, 1, tzinfo=UTC).timestamp())
    last = int(datetime(LAST_DAY.year, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
    # Local report times, mostly in the day: days uniform, hours 7:00–22:00.
    days = rng.integers(0, (last - first) // 86400 + 1, size=n)
    local = first + days * 86400 + rng.integers(7 * 3600, 22 * 3600, size=n)
    if running:
        now = running["now"]
        local = now + 8 * 3600 - rng.integers(3600, 20 * 86400, size=n)
    local.sort()  # ids follow report time, as they do in life
    reported = local - 8 * 3600
    reported_on = np.datetime_as_string((local // 86400).astype("datetime64[D]"), unit="D").astype(
        object
    )
    age_end = (last if not running else running["now"]) - reported

    u = rng.random(n)
    merged = u < 0.02
    rejected = (u >= 0.02) & (u < 0.06)
    parked = (u >= 0.06) & (u < 0.07)
    filed = ~(merged | rejected)
    # Open stages for recent cases: the younger, the more likely still open.
    open_chance = np.clip(1 - age_end / (RECENT * 86400), 0, 1) ** 0.7
    still_open = filed & ~parked & (rng.random(n) < open_chance)
    stage = rng.choice(6, size=n, p=[0.05, 0.1, 0.25, 0.2, 0.3, 0.1])
    if running:
        merged[:] = rejected[:] = parked[:] = False
        filed[:] = still_open[:] = True
        stage = rng.choice([2, 3, 4], size=n, p=[0.3, 0.3, 0.4])
    # stage of an open case: 0 reported, 1 accepted, 2 dispatched, 3 signed, 4 handling,
    # 5 replied.
    accepted = filed & ~(still_open & (stage == 0))
    dispatched = accepted & ~(still_open & (stage == 1)) & ~parked
    signed = dispatched & ~(still_open & (stage == 2))
    replied = signed & ~(still_open & (stage <= 4))
    closed = filed & ~still_open & ~parked

    t_accept = reported + rng.integers(60, 4 * 3600, size=n)
    sendbacks = np.where(dispatched & (rng.random(n) < 0.05), 1, 0)
    t_dispatch = t_accept + rng.integers(60, 3 * 3600, size=n) + sendbacks * 7200
    t_sign = t_dispatch + rng.integers(60, 6 * 3600, size=n)
    handling = rng.gamma(2.0, 2.5 * 86400, size=n).astype(np.int64) + 3600
    t_reply = t_sign + handling
    t_close = t_reply + rng.integers(1800, 2 * 86400, size=n)
    limit = np.where(urgency == "normal", 5 * 86400, np.where(urgency == "urgent", 86400, 14400))
    deadline = t_dispatch + limit
    if running:
        now = running["now"]
        deadline = np.where(
            rng.permutation(n) < running["overdue"],
            now - rng.integers(600, 3 * 86400, size=n),  # overdue, not yet escalated
            now + rng.integers(11 * 86400, 40 * 86400, size=n),  # not due within 10 days
        )
    late = np.where(replied, t_reply > deadline, False) | (
        dispatched & ~replied & (rng.random(n) < 0.1)
    )
    reworks = np.where(replied & (rng.random(n) < 0.06), 1, 0)
    reopens = np.where(closed & (rng.random(n) < 0.03), 1, 0)
    rated = closed & (rng.random(n) < 0.85)
    satisfaction = np.array(["satisfied", "basic", "unsatisfied"], dtype=object)[
        rng.choice(3, size=n, p=[0.80, 0.12, 0.08])
    ]
    satisfaction = np.where(rated, satisfaction, None)
    resolved = np.where(rated, rng.random(n) < 0.9, None)
    archived = rated & (age_end > 365 * 86400) & (rng.random(n) < 0.7)

    status = np.full(n, "reported", dtype=object)
    status[accepted] = "accepted"
    status[dispatched] = "dispatched"
    status[signed] = "signed"
    status[signed & (stage == 4) | (signed & ~still_open)] = "handling"
    status[replied] = "replied"
    status[closed] = "closed"
    status[rated] = "rated"
    status[archived] = "archived"
    status[parked] = "parked"
    status[rejected] = "rejected"
    status[merged] = "merged"
    if running:
        status = np.array(["dispatched", "signed", "handling"], dtype=object)[stage - 2]
    merged_into = np.where(merged, np.maximum(ids - 1 - rng.integers(0, 50, size=n), 0), 0)
    merged_into = np.where(merged & (merged_into < 1), ids + 1, merged_into)
    exempt = np.where(
        ~merged & (rng.random(n) < 0.003),
        np.array(["malicious", "unreasonable", "outside", "force_majeure"], dtype=object)[
            rng.integers(0, 4, size=n)
        ],
        "",
    )
    dispatches = np.where(dispatched, 1 + sendbacks + reopens, 0)
    postgres = city["postgres"]
    updated = np.maximum.reduce(
        [reported, np.where(closed, t_close, reported), np.where(dispatched, t_dispatch, 0)]
    )
    return {
        "id": ids,
        "number": np.char.add("B", ids.astype(str)).astype(object),
        "source": source,
        "matter_id": matters,
        "urgency": urgency,
        "lon": 116.0 + rng.random(n) * 1.5,
        "lat": 39.6 + rng.random(n) * 0.9,
        "grid_id": grids,
        "status": status,
        "lead_department_id": np.where(dispatched, leads, None),
        "deadline": _stamps(deadline, dispatched, postgres=postgres),
        "reported_at": _stamps(reported, postgres=postgres),
        "accepted_at": _stamps(t_accept, accepted, postgres=postgres),
        "dispatched_at": _stamps(t_dispatch, dispatched, postgres=postgres),
        "signed_at": _stamps(t_sign, signed, postgres=postgres),
        "replied_at": _stamps(t_reply, replied, postgres=postgres),
        "verified_at": _stamps(t_close, closed, postgres=postgres),
        "closed_at": _stamps(t_close, closed, postgres=postgres),
        "archived_at": _stamps(t_close + 30 * 86400, archived, postgres=postgres),
        "rework_count": reworks,
        "sendback_count": sendbacks,
        "reopen_count": reopens,
        "satisfaction": satisfaction,
        "resolved": resolved,
        "merged_into_id": np.where(merged, merged_into, None),
        "reported_on": reported_on,
        "dispatch_count": dispatches,
        "dispatch_on_time_count": np.where(
            dispatched, np.minimum(dispatches, (rng.random(n) < 0.95) + sendbacks + reopens), 0
        ),
        "sign_on_time_count": np.where(
            signed, np.minimum(dispatches, (rng.random(n) < 0.92) + reopens), 0
        ),
        "reply_count": np.where(replied, 1 + reworks + reopens, 0),
        "was_overdue": late & ~np.array(running is not None),
        "exempt_reason": exempt,
        "created_at": _stamps(reported, postgres=postgres),
        "updated_at": _stamps(updated, postgres=postgres),
    }


def _rows(columns: dict, n: int):
    constants = {
        "description": "Synthetic case for the benchmarks",
        "address": "",
        "anonymous": False,
        "answers": "{}",
        "external_ref": "",
        "contact_name": "",
        "contact_phone_encrypted": "",
        "contact_phone_index": "",
        "contact_phone_masked": "",
        "tally_dirty": False,
    }
    lists = []
    for name in COLUMNS:
        if name in constants:
            lists.append([constants[name]] * n)
        else:
            value = columns[name]
            lists.append(value.tolist())
    return zip(*lists, strict=True)


def _secondary_indexes(cursor, vendor: str) -> list[tuple[str, str]]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name = 'cases_case' AND sql IS NOT NULL"
        )
        return [(name, sql) for name, sql in cursor.fetchall() if "UNIQUE" not in sql.upper()]
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'cases_case' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint "
        "WHERE conrelid = 'cases_case'::regclass) AND indexdef NOT LIKE 'CREATE UNIQUE%%'"
    )
    return cursor.fetchall()


def cases_generate(n: int, *, seed: int = 5, running: dict | None = None, quiet=False) -> float:
    """Write n synthetic cases (after any already there); returns seconds taken."""
    import numpy as np
    from django.db import connection, transaction

    from linli.cases.models import Case

    started = time.perf_counter()
    city = city_build()
    rng = np.random.default_rng(seed)
    # Busy and quiet grids and matters: gamma weights.
    city["grid_weights"] = rng.gamma(1.5, 1.0, size=len(city["grids"]))
    city["grid_weights"] /= city["grid_weights"].sum()
    city["matter_weights"] = rng.gamma(0.8, 1.0, size=len(city["matters"]))
    city["matter_weights"] /= city["matter_weights"].sum()
    city["postgres"] = connection.vendor == "postgresql"
    start_id = (Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    quoted = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor, connection.vendor)
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("PRAGMA cache_size = -500000")
    done = 0
    while done < n:
        size = min(BATCH, n - done)
        share = running
        if running:
            # The overdue cases spread over the batches, OVERDUE in all.
            total = running["overdue"]
            share = {**running, "overdue": total * (done + size) // n - total * done // n}
        columns = _draw(rng, start_id + done, size, city, running=share)
        rows = _rows(columns, size)
        with transaction.atomic(), connection.cursor() as cursor:
            if city["postgres"]:
                # Rows are consistent by construction: skip the per-row FK triggers.
                cursor.execute("SET LOCAL session_replication_role = replica")
                raw = cursor.cursor
                with raw.copy(f"COPY cases_case ({quoted}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["?"] * len(COLUMNS))
                cursor.cursor.executemany(
                    f"INSERT INTO cases_case ({quoted}) VALUES ({marks})",  # noqa: S608
                    rows,
                )
        done += size
        if not quiet:
            rate = done / (time.perf_counter() - started)
            print(f"   … {done:,} cases ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    with connection.cursor() as cursor:
        for _name, sql in indexes:
            cursor.execute(sql)
        if city["postgres"]:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), "
                "(SELECT MAX(id) FROM cases_case))"
            )
            cursor.execute("ANALYZE")
        else:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def city_cases(n: int, name: str = "kpis") -> dict:
    """The bench database `name` holding the city and exactly n cases with their rollups
    built, generated if needed. Returns the timings of what had to be done."""
    from linli.cases.models import Case
    from linli.insights.models import Tally
    from linli.insights.services import tally_rebuild_sql

    where = database_use(name)
    timings = {"where": where}
    if Case.objects.count() != n or not Tally.objects.exists():
        where = database_use(name, fresh=True)
        timings["generate"] = cases_generate(n)
        started = time.perf_counter()
        result = tally_rebuild_sql()
        timings["rebuild"] = time.perf_counter() - started
        timings["rebuild_rows"] = result.rows
    return timings


def main(argv: list[str]) -> int:
    from bench.common import setup_django

    setup_django()
    n = int(argv[0]) if argv else cases_wanted()
    timings = city_cases(n)
    print(timings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
