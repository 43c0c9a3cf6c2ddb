"""Case intake through the real HTTP endpoint, `POST /api/v1/cases` (token check, matter
and answers, point in China and in its grid, photo checks and re-encoding, the case, its
number and its first timeline entry), against a bare Django view on the same server that
parses the same body and inserts one row. Both are served by gunicorn (2 sync workers,
as many as cores) from a database of their own, on SQLite and, when it answers, on
PostgreSQL; a few client threads keep the workers busy over keep-alive connections.

The two take turns in rounds and each keeps its best: on a machine shared with other
work, that is the nearest to what the server does alone. Beside the rates, the CPU one
request costs (web workers, database server and clients together) does not depend on
the machine's other work at all. `LINLI_BENCH_PG_NAME` names the PostgreSQL database the
bench drops and creates (default linli_bench_intake)."""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

from bench.common import ROOT, gunicorn, report

NEEDS_DEMO_DATABASE = False
CLIENTS = 4
# Intake and the bare view take turns for ROUNDS rounds of ROUND_SECONDS each, and each
# keeps its best round: the one least disturbed by whatever else the machine runs (as
# common.best_of). Rounds of equal length give both the same chance of a quiet one.
ROUND_SECONDS = {"json": 1.0, "photo": 2.0}
ROUNDS = {"json": 5, "photo": 3}
# The PostgreSQL database the bench drops and creates; another name lets two checkouts
# bench on one server at once.
PG_NAME = os.environ.get("LINLI_BENCH_PG_NAME", "linli_bench_intake")
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{PG_NAME}"')
        return True
    except Exception as problem:  # noqa: BLE001 - any failure means: skip PostgreSQL
        print(f"   PostgreSQL skipped: {problem}", flush=True)
        return False


def _multipart(fields: dict, photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
            'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + photo
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _hammer(port: int, path: str, body: bytes, content_type: str, token: str, seconds: float):
    """POSTs from CLIENTS threads for `seconds`; returns (requests, seconds taken). Every
    answer must be 201."""
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
    failures: list[str] = []
    done = [0] * CLIENTS
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        connection = HTTPConnection("127.0.0.1", port, timeout=60)
        while time.perf_counter() < deadline:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 201:
                failures.append(f"{response.status} {answer[:300]!r}")
            done[i] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        total = sum(done)
        raise RuntimeError(f"{len(failures)} of {total} requests to {path} failed: {failures[0]}")
    return sum(done), elapsed


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes have used so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _workers(server: int) -> list[int]:
    """The gunicorn workers (children of the master), and the master."""
    children = [server]
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(entry.read_text().rsplit(")", 1)[1].split()[1]) == server:
                children.append(int(entry.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return children


def _backends() -> list[int]:
    """The PostgreSQL server processes serving the bench's database."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as c:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = %s"
        return [pid for (pid,) in c.execute(query, [PG_NAME])]


class Round:
    """Requests per second over alternating rounds, and the CPU one request costs: the
    web workers', the database server's and the clients' together, which does not depend
    on what else the machine runs."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.rate = 0.0
        self.cpu_ms = float("inf")

    def run(self, port: int, path: str, body: bytes, content_type: str, token: str, kind: str):
        used = _cpu_seconds(self.pids) + time.process_time()
        requests, seconds = _hammer(port, path, body, content_type, token, ROUND_SECONDS[kind])
        used = _cpu_seconds(self.pids) + time.process_time() - used
        self.rate = max(self.rate, requests / seconds)
        self.cpu_ms = min(self.cpu_ms, used / requests * 1000)


def _compare(port: int, body: bytes, content_type: str, token: str, kind: str, pids: list[int]):
    """(intake, bare): each's best rate and least CPU per request over alternating rounds."""
    intake, bare = Round(pids), Round(pids)
    for _ in range(ROUNDS[kind]):
        intake.run(port, "/api/v1/cases", body, content_type, token, kind)
        bare.run(port, "/bench/bare", body, content_type, token, kind)
    return intake, bare


def _report(name: str, reference: str, intake: Round, bare: Round) -> None:
    note = f"(CPU per request {intake.cpu_ms:.2f} ms, bare {bare.cpu_ms:.2f} ms)"
    report(name, intake.rate, "reports/s", reference, bare.rate, note=note)


def _run(vendor: str, env: dict) -> None:
    from bench.bench_photos import _phone_photo

    # Static files are not part of the bench; an empty directory keeps whitenoise quiet.
    (Path(env["LINLI_VAR_DIR"]) / "static").mkdir(exist_ok=True)

    setup = subprocess.run(
        [sys.executable, "-m", "bench.server.setup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(setup.stdout.strip().splitlines()[-1])
    with gunicorn(env) as (server, port):
        fields = {
            "matter": info["matter"],
            "description": "小区东门垃圾桶满了，垃圾堆在路边",
            "lon": info["lon"],
            "lat": info["lat"],
        }
        token = info["token"]
        as_json = json.dumps(fields).encode()
        # Warm both paths (imports, connections, the grid index) before timing.
        _hammer(port, "/api/v1/cases", as_json, "application/json", token, 0.3)
        _hammer(port, "/bench/bare", as_json, "application/json", token, 0.3)
        pids = _workers(server.pid) + (_backends() if "DATABASE_URL" in env else [])
        intake, bare = _compare(port, as_json, "application/json", token, "json", pids)
        _report(
            f"intake POST /api/v1/cases, JSON, {vendor}",
            "bare view inserting one row",
            intake,
            bare,
        )
        body, content_type = _multipart(fields, _phone_photo((1600, 1200)))
        size = len(body) / 1e6
        intake, bare = _compare(port, body, content_type, token, "photo", pids)
        _report(
            f"intake with a {size:.1f} MB photo, {vendor}", "bare view, same body", intake, bare
        )


def main() -> None:
    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.server.settings",
        "PYTHONPATH": str(ROOT),
    }
    base.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory(prefix="linli-bench-intake-") as var:
        _run("SQLite", {**base, "LINLI_VAR_DIR": var})
    if _pg_available():
        with tempfile.TemporaryDirectory(prefix="linli-bench-intake-") as var:
            _run("PostgreSQL", {**base, "LINLI_VAR_DIR": var, "DATABASE_URL": PG_URL})
