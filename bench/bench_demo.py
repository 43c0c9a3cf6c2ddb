"""Building the full demo street (with the real Argon2 hasher, as `make run` does) against
computing its layout alone: how much the database writes add to the geometry work."""

import os
import time
from pathlib import Path

from bench.common import report

NEEDS_DEMO_DATABASE = False


def main() -> None:
    from django.db import connection
    from django.test import override_settings
    from django.test.utils import setup_test_environment, teardown_test_environment

    from linli.demo.services import demo_build, demo_layout

    start = time.perf_counter()
    demo_layout(size="full")
    layout_seconds = time.perf_counter() - start

    argon2 = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=argon2):
        setup_test_environment()
        old_name = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            start = time.perf_counter()
            summary = demo_build(size="full", progress=False, accounts_path=Path(os.devnull))
            build_seconds = time.perf_counter() - start
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
            teardown_test_environment()
    report(
        "full demo build (seconds)",
        build_seconds,
        "s",
        "layout only",
        layout_seconds,
        higher_is_better=False,
        note=f"({summary.counts['grid']} grids, {summary.counts['buildings']} buildings, "
        f"{summary.counts['accounts']} accounts)",
    )
