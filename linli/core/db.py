"""Small database helpers shared by the apps."""

from django.db import connection


def planner_statistics_refresh() -> None:
    """ANALYZE every table, after a bulk load (the demo build, a large import).

    Fresh from a bulk load the query planner has no statistics: SQLite then joins the
    register's tables in the wrong order and a grid worker's page takes three times as long
    (docs/performance.md). PostgreSQL's autovacuum would catch up within minutes; SQLite
    has no such thing. Allowed inside a transaction on both."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
