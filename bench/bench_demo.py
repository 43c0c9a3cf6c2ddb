"""bench: the time to build the full demo street (`make run` on a fresh machine).

Reference, measured in the same run and the same database: writing the same number of
rows (areas, buildings, departments, users) with bulk_create, with no layout, geometry,
names or password hash. The ratio is the build's cost over the floor of writing its rows:
Voronoi cells and their relaxation, geodesic areas, Faker names, one Argon2 hash, the
audit row. The build runs with the real Argon2 hasher, as `make run` does.

Each run is rolled back, so every run starts from the same empty database.
"""

import os
from pathlib import Path

from bench.common import best_of, report

NEEDS_DEMO_DATABASE = False
ARGON2 = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


class Rollback(Exception):
    pass


def rolled_back(fn):
    """`fn` inside a transaction that is then undone."""
    from django.db import transaction

    def run():
        try:
            with transaction.atomic():
                fn()
                raise Rollback
        except Rollback:
            pass

    return run


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


def measure() -> None:
    from django.test import override_settings

    from linli.demo.services import demo_build, demo_layout

    layout = demo_layout(size="full")
    rows = (
        len(layout.places),
        len(layout.buildings),
        len(layout.departments),
        len(layout.accounts),
    )
    reference = best_of(rolled_back(lambda: write_plain_rows(*rows)))
    with override_settings(PASSWORD_HASHERS=ARGON2):
        build = best_of(
            rolled_back(
                lambda: demo_build(size="full", progress=False, accounts_path=Path(os.devnull))
            )
        )
    layout_only = best_of(lambda: demo_layout(size="full"))
    label = f"{sum(rows):,} rows"
    report(
        "demo build, full street (s)",
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


def main() -> None:
    """Build into a fresh test database of its own (the demo must start from empty)."""
    from bench.common import in_fresh_database

    in_fresh_database(measure)


if __name__ == "__main__":
    from bench.common import setup_django

    setup_django()
    main()
