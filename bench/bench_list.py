"""B8 (performance spec §5): the case list API's read path, `GET /api/v1/cases` filtered by
grid and status and paginated, on the city of bench_kpis (LINLI_BENCH_CASES cases), against
a JSON ping view on the same server (`bench/server/urls.py`). Both are served by gunicorn
(2 sync workers, one per core) and called from a few client threads over keep-alive
connections, as in bench_intake; figures are the per-request latency p50/p95 and the
throughput."""

import json
import os
import statistics
import threading
import time
from http.client import HTTPConnection

from bench.common import ROOT, gunicorn, report
from bench.gen_cases import cases_wanted, city_cases

NEEDS_DEMO_DATABASE = False
CLIENTS = 4
REQUESTS = int(os.environ.get("LINLI_BENCH_LIST_REQUESTS", 2000))


def _prepare() -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count

    from linli.accounts.services import api_token_issue
    from linli.areas.models import Area
    from linli.cases.models import Case

    city_cases(cases_wanted(), "kpis")
    admin, _ = get_user_model().objects.get_or_create(
        username="bench-list-admin", defaults={"role": "admin", "is_staff": True}
    )
    _token, raw = api_token_issue(user=admin, name="bench-list", days=1)
    busiest = (
        Case.objects.order_by()
        .filter(status="rated")
        .values("grid_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    grid = Area.objects.get(pk=busiest["grid_id"])
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings['NAME']}"
    else:
        url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    return {"token": raw, "grid": grid.code, "rows": busiest["n"], "url": url}


def _hammer(port: int, path: str, token: str, total: int) -> tuple[list[float], float]:
    """`total` GETs from CLIENTS threads: each request's milliseconds, and requests/s."""
    headers = {"Authorization": f"Bearer {token}"}
    times: list[float] = []
    failures: list[str] = []
    share = [total // CLIENTS + (1 if i < total % CLIENTS else 0) for i in range(CLIENTS)]

    def client(n: int) -> None:
        connection = HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(n):
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            times.append((time.perf_counter() - started) * 1000)
            if response.status != 200:
                failures.append(f"{response.status} {answer[:300]!r}")
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in share]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} of {total} requests to {path} failed: {failures[0]}")
    return times, total / elapsed


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    from django.db import connection

    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[connection.vendor]
    info = _prepare()
    var = ROOT / "var" / "bench" / "list-server"
    (var / "static").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.server.settings",
        "PYTHONPATH": str(ROOT),
        "LINLI_VAR_DIR": str(var),
        "DATABASE_URL": info["url"],
    }
    with gunicorn(env) as (server, port):
        path = f"/api/v1/cases?grid={info['grid']}&status=rated&limit=20"
        token = info["token"]
        # A page must come back, with rows.
        probe = HTTPConnection("127.0.0.1", port, timeout=60)
        probe.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        page = json.loads(probe.getresponse().read())
        probe.close()
        assert len(page["items"]) == 20, page
        _hammer(port, path, token, CLIENTS * 10)
        _hammer(port, "/bench/ping", token, CLIENTS * 10)
        listed, listed_rate = _hammer(port, path, token, REQUESTS)
        pinged, ping_rate = _hammer(port, "/bench/ping", token, REQUESTS)
        p95 = _p95(listed)
        report(
            f"GET /api/v1/cases grid+status p95, {vendor}",
            p95,
            "ms",
            "JSON ping p95",
            _p95(pinged),
            higher_is_better=False,
            note=f"p50 {statistics.median(listed):.1f} ms vs {statistics.median(pinged):.1f} · "
            f"grid {info['grid']} ({info['rows']} rated cases)",
        )
        report(
            f"GET /api/v1/cases grid+status throughput, {vendor}",
            listed_rate,
            "req/s",
            "JSON ping",
            ping_rate,
            note=f"{CLIENTS} clients, {os.cpu_count()} workers",
        )
