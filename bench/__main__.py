"""`make bench`: every benchmark, each printed as a ratio to a reference measured in the
same run. Figures are written to bench/results/latest.json; docs/performance.md records
them with the machine they came from.

    python -m bench                 # all
    python -m bench locate login    # some
"""

import importlib
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench import common

BENCHES = [
    "locate",
    "login",
    "demo",
    "import",
    "register",
    "photos",
    "intake",
    "kpis",
    "sweep",
    "list",
    "suggest",
]


def with_demo_database(fn) -> None:
    """Run `fn` against a fresh test database holding the full demo street."""
    from linli.demo.services import demo_build

    def build_then_run():
        from django.test import override_settings

        # The full build trains the matter suggester: into a directory of its own, never
        # over the model in var/.
        with (
            tempfile.TemporaryDirectory() as models,
            override_settings(LINLI_SUGGESTER_PATH=Path(models) / "matter_suggester.joblib"),
        ):
            demo_build(size="full", progress=False, accounts_path=Path(os.devnull))
            fn()

    common.in_fresh_database(build_then_run)


def main(argv: list[str]) -> int:
    common.setup_django()
    from django.db import connection

    chosen = argv or BENCHES
    print(
        f"linli benchmarks · {platform.python_implementation()} {platform.python_version()} · "
        f"{os.cpu_count()} cores · database {connection.vendor}",
        flush=True,
    )
    for name in chosen:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        if getattr(module, "NEEDS_DEMO_DATABASE", False):
            with_demo_database(module.main)
        else:
            module.main()
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    common.dump(str(out / f"latest-{connection.vendor}.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
