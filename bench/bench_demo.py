"""bench: the time to build the full demo street (`make run` on a fresh machine).

Reference, measured in the same run and the same database: writing the same number of
rows (areas, buildings, departments, users) with bulk_create, with no layout, geometry,
names or password hash. The ratio is the build's cost over the floor of writing its rows:
Voronoi cells and their relaxation, geodesic areas, Faker names, one Argon2 hash, the
audit row. The build runs with the real Argon2 hasher, as `make run` does.

The register (people's demo step: 70,000 households, ~200,000 residents, their tags and
visits) is measured once on its own, against a bare bulk_create of the same number of
household, resident, tag-link and visit rows with constant values (no names, no ID
numbers, no encryption, no drawing).

Each run is rolled back, so every run starts from the same empty database.
"""

import os
from pathlib import Path

from bench.common import best_of, report, rolled_back

NEEDS_DEMO_DATABASE = False
ARGON2 = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def write_plain_rows(n_areas: int, n_buildings: int, n_departments: int, n_users: int) -> None:
    from linli.accounts.models import Department, User
    from linli.areas.models import Area, Building

    areas = Area.objects.bulk_create(
        Area(level="district", code=f"R{i:06d}", name=f"R{i}", path=f"/R{i:06d}/")
        for i in range(n_areas)
    )
    Building.objects.bulk_create(
        (Building(code=f"R{i:06d}", name=f"R{i}", grid=areas[-1]) for i in range(n_buildings)),
        batch_size=1000,
    )
    Department.objects.bulk_create(
        Department(code=f"R{i:03d}", name=f"R{i}") for i in range(n_departments)
    )
    User.objects.bulk_create(
        (User(username=f"r{i:06d}", password="!") for i in range(n_users)), batch_size=500
    )


def write_plain_register(counts: dict, grid_id: int, user_id: int) -> None:
    from datetime import date

    from django.utils import timezone

    from linli.people.models import Household, Resident, ResidentTag, Tag, Visit

    homes = Household.objects.bulk_create(
        (
            Household(number=f"R{i:07d}", grid_id=grid_id, address="x", tenure="owned",
                      registration="registered")
            for i in range(counts["households"])
        ),
        batch_size=2000,
    )  # fmt: skip
    people = Resident.objects.bulk_create(
        (
            Resident(household=homes[i % len(homes)], name="x", gender="M",
                     birth_date=date(1980, 1, 1), relation="head")
            for i in range(counts["residents"])
        ),
        batch_size=2000,
    )  # fmt: skip
    tag = Tag.objects.first()
    ResidentTag.objects.bulk_create(
        (ResidentTag(resident=people[i], tag=tag) for i in range(counts["tagged"])),
        batch_size=2000,
    )
    now = timezone.now()
    Visit.objects.bulk_create(
        (
            Visit(resident=people[i % len(people)], visitor_id=user_id, visited_at=now,
                  method="home", findings="x")
            for i in range(counts["visits"])
        ),
        batch_size=2000,
    )  # fmt: skip


def measure_register() -> None:
    """One full build (street and register), then the register step's share of it."""
    import time

    from linli.areas.models import Area
    from linli.demo import services

    timings: dict[str, float] = {}
    original = list(services.DEMO_STEPS)

    def timed(step):
        def run(ctx):
            started = time.perf_counter()
            step(ctx)
            timings[step.__name__] = timings.get(step.__name__, 0) + time.perf_counter() - started

        run.__name__ = step.__name__
        return run

    counts: dict = {}

    def build():
        summary = services.demo_build(size="full", progress=False, accounts_path=Path(os.devnull))
        counts.update(summary.counts)

    services.DEMO_STEPS[:] = [timed(step) for step in original]
    try:
        whole = best_of(rolled_back(build), repeat=1)
    finally:
        services.DEMO_STEPS[:] = original
    register = sum(timings.values())

    def reference():
        from linli.accounts.models import User

        district = Area.objects.create(level="district", code="999999", name="R")
        user = User.objects.create(username="r-bench")
        write_plain_register(counts, district.pk, user.pk)

    bare = best_of(rolled_back(reference), repeat=1)
    rows = counts["households"] + counts["residents"] + counts["tagged"] + counts["visits"]
    report(
        "demo register step, full street (s)",
        register,
        "s",
        f"bulk_create of the same {rows:,} plain rows",
        bare,
        higher_is_better=False,
        note=(
            f"{counts['households']:,} households, {counts['residents']:,} residents, "
            f"{counts['visits']:,} visits; whole build {whole:.1f} s"
        ),
    )


def measure() -> None:
    from unittest import mock

    from django.test import override_settings

    from linli.demo import services
    from linli.demo.services import demo_build, demo_layout

    layout = demo_layout(size="full")
    rows = (
        len(layout.places),
        len(layout.buildings),
        len(layout.departments),
        len(layout.accounts),
    )
    reference = best_of(rolled_back(lambda: write_plain_rows(*rows)))
    # The street alone: places, departments and accounts, without the registered steps.
    with override_settings(PASSWORD_HASHERS=ARGON2), mock.patch.object(services, "DEMO_STEPS", []):
        build = best_of(
            rolled_back(
                lambda: demo_build(size="full", progress=False, accounts_path=Path(os.devnull))
            )
        )
    layout_only = best_of(lambda: demo_layout(size="full"))
    label = f"{sum(rows):,} rows"
    report(
        "demo build, the street's places and accounts (s)",
        build,
        "s",
        f"bulk_create of the same {label}",
        reference,
        higher_is_better=False,
        note=f"{rows[0]} areas, {rows[1]} buildings, {rows[3]} users; Argon2",
    )
    report(
        "demo layout alone, full street (s)",
        layout_only,
        "s",
        f"bulk_create of the same {label}",
        reference,
        higher_is_better=False,
        note="Voronoi, relaxation, names; no database",
    )
    measure_register()


def main() -> None:
    """Build into a fresh test database of its own (the demo must start from empty)."""
    from bench.common import in_fresh_database

    in_fresh_database(measure)


if __name__ == "__main__":
    from bench.common import setup_django

    setup_django()
    main()
