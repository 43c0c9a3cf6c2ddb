"""Case intake through the real HTTP endpoint, `POST /api/v1/cases` (token check, matter
and answers, point in China and in its grid, photo checks and re-encoding, the case, its
number and its first timeline entry), against a bare Django view on the same server that
parses the same body and inserts one row. Both are served by gunicorn (2 sync workers,
as many as cores) from a database of their own, on SQLite and, when it answers, on
PostgreSQL; a few client threads keep the workers busy over keep-alive connections."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

from bench.common import report

NEEDS_DEMO_DATABASE = False
ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 4
REQUESTS = {"json": 400, "photo": 60}
PG_URL = "postgres://postgres@127.0.0.1:5432/linli_bench_intake"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute("DROP DATABASE IF EXISTS linli_bench_intake WITH (FORCE)")
            c.execute("CREATE DATABASE linli_bench_intake")
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


def _hammer(port: int, path: str, body: bytes, content_type: str, token: str, total: int):
    """`total` POSTs from CLIENTS threads; returns requests per second. Every answer must
    be 201."""
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
    failures: list[str] = []
    share = [total // CLIENTS + (1 if i < total % CLIENTS else 0) for i in range(CLIENTS)]

    def client(n: int) -> None:
        connection = HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(n):
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 201:
                failures.append(f"{response.status} {answer[:300]!r}")
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in share]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} of {total} requests to {path} failed: {failures[0]}")
    return total / elapsed


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
    port = _free_port()
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
        fields = {
            "matter": info["matter"],
            "description": "小区东门垃圾桶满了，垃圾堆在路边",
            "lon": info["lon"],
            "lat": info["lat"],
        }
        token = info["token"]
        as_json = json.dumps(fields).encode()
        # Warm both paths (imports, connections, the grid index) before timing.
        _hammer(port, "/api/v1/cases", as_json, "application/json", token, CLIENTS * 2)
        _hammer(port, "/bench/bare", as_json, "application/json", token, CLIENTS * 2)
        intake = _hammer(
            port, "/api/v1/cases", as_json, "application/json", token, REQUESTS["json"]
        )
        bare = _hammer(port, "/bench/bare", as_json, "application/json", token, REQUESTS["json"])
        report(
            f"intake POST /api/v1/cases, JSON, {vendor}",
            intake,
            "reports/s",
            "bare view inserting one row",
            bare,
        )
        body, content_type = _multipart(fields, _phone_photo((1600, 1200)))
        size = len(body) / 1e6
        intake = _hammer(port, "/api/v1/cases", body, content_type, token, REQUESTS["photo"])
        bare = _hammer(port, "/bench/bare", body, content_type, token, REQUESTS["photo"])
        report(
            f"intake with a {size:.1f} MB photo, {vendor}",
            intake,
            "reports/s",
            "bare view, same body",
            bare,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


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
