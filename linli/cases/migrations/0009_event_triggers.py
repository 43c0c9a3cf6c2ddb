"""The case timeline cannot be rewritten, not even by raw SQL: database triggers refuse
every UPDATE and DELETE of a cases_caseevent row, on SQLite and PostgreSQL (docs/audit.md).
CaseEvent is already an AppendOnlyModel (the ORM refuses) and CaseEvent.case is PROTECT
(a case with a timeline cannot be deleted), so nothing in linli changes or removes an
event; the triggers close the raw-SQL path too.

On SQLite a migration that rebuilds cases_caseevent (an AlterField on it) drops the
triggers with the old table: such a migration must create them again (call `create`
below); linli/cases/tests/test_audit.py fails when they are missing.
"""

from django.db import migrations

SQLITE_CREATE = [
    """
    CREATE TRIGGER IF NOT EXISTS cases_caseevent_no_update
    BEFORE UPDATE ON cases_caseevent
    BEGIN
        SELECT RAISE(ABORT, 'case events are append-only: UPDATE refused');
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS cases_caseevent_no_delete
    BEFORE DELETE ON cases_caseevent
    BEGIN
        SELECT RAISE(ABORT, 'case events are append-only: DELETE refused');
    END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cases_caseevent_no_update",
    "DROP TRIGGER IF EXISTS cases_caseevent_no_delete",
]
POSTGRESQL_CREATE = [
    """
    CREATE OR REPLACE FUNCTION cases_caseevent_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'case events are append-only: ' || TG_OP || ' refused',
            ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS cases_caseevent_append_only ON cases_caseevent",
    """
    CREATE TRIGGER cases_caseevent_append_only
    BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_append_only()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS cases_caseevent_append_only ON cases_caseevent",
    "DROP FUNCTION IF EXISTS cases_caseevent_append_only()",
]
STATEMENTS = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
    "postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP),
}


def _run(schema_editor, which: int) -> None:
    found = STATEMENTS.get(schema_editor.connection.vendor)
    if found is None:
        return  # another backend: the ORM's refusal (AppendOnlyModel) still holds
    for statement in found[which]:
        schema_editor.execute(statement)


def create(apps, schema_editor):
    _run(schema_editor, 0)


def drop(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_reported_on_required")]

    operations = [migrations.RunPython(create, drop)]
