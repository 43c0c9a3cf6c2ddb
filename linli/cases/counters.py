"""The rules behind the KPI counters a case carries (Case.dispatch_count and the rest;
docs/kpis.md), in one place: the move services apply them as a case moves, and
`counters_from_timeline` recounts them from the case's timeline, for cases written before
the counters existed (`manage.py kpi_rebuild --recount`) and for the deep check
(`manage.py kpi_check --deep`), which proves the two agree.
"""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings

from linli.cases.workflow import Action, Note, Status
from linli.core import workcal

COUNTERS = (
    "dispatch_count",
    "dispatch_on_time_count",
    "sign_on_time_count",
    "reply_count",
    "was_overdue",
)


def dispatch_in_time(queued_at: datetime | None, at: datetime) -> bool:
    """A dispatch is timely (及时派遣) within LINLI_KPI_DISPATCH_HOURS working hours of
    the case entering the centre's queue (accepted, sent back or resumed)."""
    if queued_at is None:
        return False
    return workcal.working_hours_between(queued_at, at) <= settings.LINLI_KPI_DISPATCH_HOURS


def sign_in_time(round_start: datetime | None, at: datetime, urgency: str) -> bool:
    """A sign-for is a timely response (响应) within the working hours set per urgency in
    LINLI_KPI_SIGN_HOURS, counted from the dispatch or the reopen that started the round."""
    if round_start is None:
        return False
    limit = settings.LINLI_KPI_SIGN_HOURS.get(urgency, settings.LINLI_KPI_SIGN_HOURS["normal"])
    return workcal.working_hours_between(round_start, at) <= limit


def queued_since(events: Iterable) -> datetime | None:
    """When the case last entered the centre's queue (moved into ACCEPTED)."""
    queued = None
    for event in events:
        if event.to_status == Status.ACCEPTED and event.from_status != Status.ACCEPTED:
            queued = event.created_at
    return queued


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def counters_from_timeline(case, events: Iterable, *, supervised: bool) -> dict:
    """The counters as the timeline tells them. `events` in time order; `supervised`:
    whether the SLA sweep ever sent the case an overdue notice (督办)."""
    counters = dict.fromkeys(COUNTERS, 0)
    counters["was_overdue"] = bool(supervised)
    queued = round_start = deadline = None
    urgency = case.urgency
    for event in events:
        action, data = event.action, event.data or {}
        if event.to_status == Status.ACCEPTED and event.from_status != Status.ACCEPTED:
            queued = event.created_at
        if action == Action.DISPATCH:
            counters["dispatch_count"] += 1
            counters["dispatch_on_time_count"] += dispatch_in_time(queued, event.created_at)
            round_start, deadline = event.created_at, _when(data.get("deadline"))
            urgency = data.get("urgency", urgency)
        elif action == Action.REOPEN:
            round_start, deadline = event.created_at, _when(data.get("deadline"))
        elif action == Action.SIGN:
            counters["sign_on_time_count"] += sign_in_time(round_start, event.created_at, urgency)
        elif action == Action.REPLY:
            counters["reply_count"] += 1
            if deadline is not None and event.created_at > deadline:
                counters["was_overdue"] = True
        elif action == Note.EXTENSION_APPROVE and data.get("deadline"):
            deadline = _when(data["deadline"])
        elif action in (Action.PARK, Action.SEND_BACK, Action.RESUME):
            deadline = None
    return counters
