"""The case timeline cannot be rewritten: the ORM refuses (AppendOnlyModel) and database
triggers refuse raw SQL UPDATE and DELETE of an event (migration 0009; docs/audit.md), on
SQLite and PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from linli.cases.case_services import case_report
from linli.cases.models import CaseEvent
from linli.core.models import AppendOnlyError


@pytest.fixture
def event(matter, personas):
    case = case_report(
        matter=matter,
        description="路边有一堆垃圾，气味很大",
        lon=118.605,
        lat=37.405,
        source="resident",
        reporter=personas["resident"],
    )
    return case.events.get()


def raw(sql: str, params) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_raw_sql_cannot_change_an_event(event):
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE cases_caseevent SET note = %s WHERE id = %s", ["改过了", event.pk])
    with pytest.raises(DatabaseError, match="append-only"):
        raw("UPDATE cases_caseevent SET actor_id = NULL WHERE case_id = %s", [event.case_id])
    event.refresh_from_db()
    assert event.note == "" and event.actor_id is not None


def test_raw_sql_cannot_delete_an_event(event):
    with pytest.raises(DatabaseError, match="append-only"):
        raw("DELETE FROM cases_caseevent WHERE id = %s", [event.pk])
    assert CaseEvent.objects.filter(pk=event.pk).exists()


def test_the_orm_refuses_too_and_new_events_are_still_written(event):
    event.note = "改过了"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(note="改过了")
    CaseEvent.objects.create(case=event.case, action="comment", to_status=event.to_status)
    assert event.case.events.count() == 2
