"""What every benchmark shares: a timer and one way to print a figure beside the reference
measured in the same run, so results compare across machines as ratios."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

RESULTS: list[dict] = []


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.test_settings")
    import django

    django.setup()


def in_fresh_database(fn: Callable[[], object]) -> None:
    """Run `fn` in a test database of its own, created empty and destroyed afterwards."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        fn()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


class _Rollback(Exception):
    pass


def rolled_back(fn: Callable[[], object]) -> Callable[[], None]:
    """`fn` inside a transaction that is then undone, so every run starts from the same
    database."""

    def run() -> None:
        from django.db import transaction

        try:
            with transaction.atomic():
                fn()
                raise _Rollback
        except _Rollback:
            pass

    return run


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of `repeat` runs, in seconds: the least disturbed by the other core."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def report(
    name: str,
    value: float,
    unit: str,
    reference_name: str,
    reference_value: float,
    *,
    higher_is_better: bool = True,
    note: str = "",
) -> dict:
    """Print one line: the figure, the reference and their ratio (figure ÷ reference)."""
    ratio = value / reference_value if reference_value else float("nan")
    row = {
        "name": name,
        "value": value,
        "unit": unit,
        "reference": reference_name,
        "reference_value": reference_value,
        "ratio": ratio,
        "higher_is_better": higher_is_better,
        "note": note,
    }
    RESULTS.append(row)
    print(
        f"{name:<48} {value:>14,.1f} {unit:<10} ref {reference_name}: "
        f"{reference_value:,.1f} → ratio {ratio:.3f}{'  ' + note if note else ''}",
        flush=True,
    )
    return row


def dump(path: str | None = None) -> None:
    if path:
        with open(path, "w") as out:
            json.dump(RESULTS, out, indent=2, ensure_ascii=False)
    print(f"{len(RESULTS)} figures", file=sys.stderr)


ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict) -> Iterator[tuple[subprocess.Popen, int]]:
    """The bench server (bench.server: linli's URLs plus the bare references) under
    gunicorn, one sync worker per core, on a free port; yields (process, port) once it
    accepts connections, and stops it afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.server.wsgi:application",
            "--workers",
            str(os.cpu_count() or 2),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield server, port
    finally:
        server.terminate()
        server.wait(timeout=30)
