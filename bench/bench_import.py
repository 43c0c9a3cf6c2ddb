"""bench: importing 50,000 residents from Excel (issue 3: "50,000 rows import in under a
minute"), as a street dispatcher, all or nothing, into an empty register.

References, measured in the same run on the same file and database:
- openpyxl alone reading the same workbook (read-only, values only): the floor of
  getting the cells out of the file at all;
- bulk_create of the same number of Resident rows with plain values (no parsing, no ID
  check, no encryption, no households or tags): the floor of writing the rows.
The ratios say what the checks, the encryption and the households cost on top.

Each import is rolled back, so every run starts from the same empty register.
"""

import io
import random
import time
from datetime import date, timedelta

from bench.common import best_of, report, rolled_back

NEEDS_DEMO_DATABASE = False
ROWS = 50_000
GRIDS = 10


def small_street():
    """A street of one community and ten grids, and a dispatcher scoped to the street."""
    from linli.accounts.models import User
    from linli.areas.models import Area

    district = Area.objects.create(level="district", code="370502", name="东营区")
    street = Area.objects.create(level="street", code="370502003", name="胜利街道", parent=district)
    community = Area.objects.create(
        level="community", code="370502003001", name="胜园社区", parent=street
    )
    grids = [
        Area.objects.create(
            level="grid", code=f"370502003001{i:03d}", name=f"第{i}网格", parent=community
        )
        for i in range(1, GRIDS + 1)
    ]
    user = User.objects.create(username="bench-dispatcher", role="dispatcher", area=street)
    return user, grids


def workbook(rows: int, grids) -> bytes:
    """`rows` people in households of one to four at distinct rooms, ~1 in 8 with a tag,
    ~7 in 10 with a mobile number; valid ID numbers throughout."""
    from openpyxl import Workbook

    from linli.people.excel import COLUMNS
    from linli.people.validation import id_number_make

    rng = random.Random(2026)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("居民")
    sheet.append([c.zh for c in COLUMNS])
    sheet.append([c.en for c in COLUMNS])
    relations = ["户主", "配偶", "子女", "子女"]
    tags = ["独居老人", "空巢老人", "党员", "志愿者", "高龄老人"]
    written = household = 0
    while written < rows:
        household += 1
        grid = grids[household % len(grids)].code
        size = min(rng.randint(1, 4), rows - written)
        for member in range(size):
            i = written
            born = date(1935, 1, 1) + timedelta(days=(i * 7919) % 30_000)
            id_number = id_number_make("370502", born, i // 30_000 * 2 + (i % 2))
            sheet.append(
                [
                    "",
                    grid,
                    "",
                    f"济南路{household // 200 + 1}号{household % 40 + 1}号楼",
                    f"{household % 4 + 1}单元",
                    f"{household}室",
                    "自有" if household % 3 else "租住",
                    "户籍" if household % 5 else "流动",
                    f"居民{i}",
                    id_number,
                    "",
                    "",
                    relations[member],
                    "汉族",
                    f"139{i:08d}" if rng.random() < 0.7 else "",
                    "",
                    rng.choice(tags) if rng.random() < 0.125 else "",
                ]
            )
            written += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_only(data: bytes) -> int:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    n = sum(1 for _row in book.worksheets[0].iter_rows(values_only=True))
    book.close()
    return n


def bare_bulk_create(rows: int, grid) -> None:
    from linli.people.models import Household, Resident

    home = Household.objects.create(
        number="BENCH-REF", grid=grid, address="x", tenure="owned", registration="registered"
    )
    Resident.objects.bulk_create(
        (
            Resident(
                household=home,
                name=f"R{i}",
                gender="M",
                birth_date=date(1950, 1, 1),
                relation="head",
                id_number_index=f"{i:064d}",
            )
            for i in range(rows)
        ),
        batch_size=500,
    )


def measure() -> None:
    from linli.people import excel

    user, grids = small_street()
    data = workbook(ROWS, grids)
    size_mb = len(data) / 2**20
    reading = best_of(lambda: read_only(data))
    writing = best_of(rolled_back(lambda: bare_bulk_create(ROWS, grids[0])))

    outcome = {}

    def do_import(dry_run: bool):
        outcome["report"] = excel.residents_import(
            file=io.BytesIO(data), actor=user, dry_run=dry_run
        )

    start = time.perf_counter()
    do_import(True)
    checking = time.perf_counter() - start
    assert outcome["report"].ok, outcome["report"].problems[:5]

    start = time.perf_counter()
    rolled_back(lambda: do_import(False))()
    importing = time.perf_counter() - start
    result = outcome["report"]
    assert result.committed and result.residents_created == ROWS, result.problems[:5]

    note = f"{ROWS:,} rows, {result.households_created:,} households, {size_mb:.1f} MB"
    report(
        "Excel import, 50,000 rows, committed (rows/s)",
        ROWS / importing,
        "rows/s",
        "openpyxl reading the same file",
        ROWS / reading,
        note=f"{note}; {importing:.1f} s",
    )
    report(
        "Excel import, 50,000 rows, committed (rows/s)",
        ROWS / importing,
        "rows/s",
        "bare bulk_create of 50,000 Resident rows",
        ROWS / writing,
        note=f"{importing:.1f} s vs {writing:.1f} s",
    )
    report(
        "Excel import, 50,000 rows, check only (rows/s)",
        ROWS / checking,
        "rows/s",
        "openpyxl reading the same file",
        ROWS / reading,
        note=f"{checking:.1f} s",
    )


def main() -> None:
    """Into a fresh test database of its own (the import must start from empty)."""
    from bench.common import in_fresh_database

    in_fresh_database(measure)


if __name__ == "__main__":
    from bench.common import setup_django

    setup_django()
    main()
