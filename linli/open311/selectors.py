"""Reads of the Open311 entrance. Anyone may read them without a key (open311.md G8), so
they show what the public side of a case shows to any resident (linli.cases.selectors,
level "public"; docs/cases.md "Who sees what") and less:

- no reporter, contact, answers, photos or timeline notes;
- the place as the grid (and its community) and a point rounded to LOCATION_DECIMALS, so
  that a report made at someone's door does not point at the door;
- cases the street refused (rejected: a malicious or mistaken report has no public
  life) and cases of matters not offered to the public (e.g. smoke alarms in the homes
  of old people living alone) are not served at all.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from linli.cases.models import Case, CaseEvent, Matter, MatterQuestion
from linli.cases.selectors import matter_choices_for
from linli.cases.workflow import Status
from linli.open311 import statuses
from linli.open311.models import Open311Request

# Three decimals of a degree: about 110 m north–south, the size of a block.
LOCATION_DECIMALS = 3
WINDOW = timedelta(days=90)
LIST_MAX = 1000
PAGE_SIZE = 50
PAGE_SIZE_MAX = 500
UPDATES_WINDOW = timedelta(hours=24)


def open311_services() -> list[tuple[Matter, bool]]:
    """Every active public matter, by class and code, and whether it asks questions (its
    service definition is worth fetching). Two queries."""
    asked = set(
        MatterQuestion.objects.filter(matter__is_active=True, matter__public=True)
        .values_list("matter_id", flat=True)
        .distinct()
    )
    return [
        (matter, matter.pk in asked)
        for group in matter_choices_for(public_only=True)
        for matter in group.matters
    ]


def open311_service(code: str) -> Matter | None:
    """An active public matter with its class, questions and options, or None."""
    return (
        Matter.objects.filter(code=code, is_active=True, public=True)
        .select_related("matter_class")
        .prefetch_related("questions__options")
        .first()
    )


def open311_cases() -> QuerySet[Case]:
    """The cases Open311 serves (see the module docstring), with what a row shows."""
    return (
        Case.objects.filter(matter__public=True)
        .exclude(status=Status.REJECTED)
        .select_related(
            "matter",
            "matter__matter_class",
            "grid",
            "grid__parent",
            "lead_department",
            "merged_into",
            "open311",
        )
    )


def open311_case(number: str) -> Case | None:
    return open311_cases().filter(number=number).first() if number else None


@dataclass(frozen=True)
class RequestQuery:
    """GET requests' filters, parsed by the view (open311.md R1–R2, X1, X3)."""

    ids: list[str]
    service_codes: list[str]
    statuses: list[str]
    start: datetime | None
    end: datetime | None
    updated_after: datetime | None
    updated_before: datetime | None
    page: int = 1
    page_size: int = PAGE_SIZE
    notes: bool = False


def open311_request_list(query: RequestQuery, *, now: datetime | None = None) -> list[Case]:
    """The page of requests: by id when given (overriding every other filter), else by
    service, status and dates, within the window of the last 90 days (or start_date and
    end_date) and its newest LIST_MAX cases; newest first. With `notes`, each case's
    public timeline is prefetched (`open311_events`)."""
    cases = open311_cases()
    if query.ids:
        cases = cases.filter(number__in=query.ids)
    else:
        now = now or timezone.now()
        start, end = query.start, query.end
        if start is None and end is None:
            start, end = now - WINDOW, now
        elif start is None:
            start = end - WINDOW
        elif end is None:
            end = start + WINDOW
        cases = cases.filter(reported_at__gte=start, reported_at__lte=end)
        if query.service_codes:
            cases = cases.filter(matter__code__in=query.service_codes)
        if set(query.statuses) == {"closed"}:
            cases = cases.filter(status__in=sorted(statuses.ENDED))
        elif set(query.statuses) == {"open"}:
            cases = cases.exclude(status__in=sorted(statuses.ENDED))
        if query.updated_after is not None:
            cases = cases.filter(updated_at__gt=query.updated_after)
        if query.updated_before is not None:
            cases = cases.filter(updated_at__lt=query.updated_before)
    cases = cases.order_by("-reported_at", "-id")
    first = (query.page - 1) * query.page_size
    last = first + query.page_size
    if not query.ids:
        # The window holds at most LIST_MAX cases, whatever the page.
        last = min(last, LIST_MAX)
        if first >= last:
            return []
    if query.notes:
        public = CaseEvent.objects.filter(public=True).select_related("actor", "actor__department")
        cases = cases.prefetch_related(
            Prefetch(
                "events", queryset=public.order_by("created_at", "id"), to_attr="open311_events"
            )
        )
    return list(cases[first:last])


def open311_token(token: str) -> Open311Request | None:
    """The request filed with `token`, if its case is still served."""
    served = open311_cases().filter(pk=OuterRef("case_id"))
    return (
        Open311Request.objects.select_related("case")
        .filter(token=token)
        .filter(Exists(served))
        .first()
    )


def open311_updates(*, start: datetime, end: datetime) -> list[CaseEvent]:
    """The public timeline entries of served cases made between `start` and `end`,
    oldest first, at most LIST_MAX."""
    served = open311_cases().filter(pk=OuterRef("case_id"))
    events = (
        CaseEvent.objects.filter(public=True, created_at__gte=start, created_at__lte=end)
        .filter(Exists(served))
        .select_related("case", "case__matter", "case__open311", "actor", "actor__department")
        .order_by("created_at", "id")
    )
    return list(events[:LIST_MAX])
