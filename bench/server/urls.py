"""linli's URLs and `POST /bench/bare`: the least a Django view can do to take a report —
parse the body and insert one row in its own transaction — as the reference for intake."""

import json

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from linli.urls import urlpatterns as linli_urlpatterns

TABLE = "bench_bare_report"


def table_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} "  # noqa: S608 - a constant name
            "(id INTEGER PRIMARY KEY, description TEXT, lon REAL, lat REAL, created_at TEXT)"
            if connection.vendor == "sqlite"
            else f"CREATE TABLE IF NOT EXISTS {TABLE} "
            "(id BIGSERIAL PRIMARY KEY, description TEXT, lon DOUBLE PRECISION, "
            "lat DOUBLE PRECISION, created_at TIMESTAMPTZ)"
        )


@csrf_exempt
def bare(request):
    if request.content_type == "application/json":
        body = json.loads(request.body)
    else:
        body = request.POST
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (description, lon, lat, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s)",
            [body["description"], float(body["lon"]), float(body["lat"]), timezone.now()],
        )
    return JsonResponse({"ok": True}, status=201)


def ping(request):
    """The least a JSON GET can cost: the reference of the list API (bench_list)."""
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/bare", bare), path("bench/ping", ping), *linli_urlpatterns]
