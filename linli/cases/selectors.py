"""Reads of the cases app.

The catalogue of matters is not personal: every signed-in user may read it, so those
selectors take no viewer; `public_only` is what residents and Open311 clients get.

Cases are read through a viewer (STYLE.md 5, 13). There are three ways to see one:
- "staff": the whole case. The centre, leaders and grid workers see the cases of the grids
  in their area scope; a department handler sees only the cases dispatched to their
  department (lead or co-handler) or to which it was summoned by a whistle.
- "reporter": the reporter and the residents following it (me too, merged duplicates) see
  their case with its public timeline and its photos, but no staff names or internal notes.
- "public": any other resident sees the public timeline of a case and nothing personal:
  no reporter, contact, photos or staff names.
Staff outside the scope see nothing: an out-of-scope id is a 404, like a missing one.
"""

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case as CaseWhen
from django.db.models import Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scopes import area_q, can_see_area
from linli.areas.models import Area
from linli.cases.models import (
    Case,
    CaseAssignment,
    CaseEvent,
    CasePhoto,
    CaseSupport,
    Extension,
    Matter,
    MatterClass,
    MatterLimit,
    MatterQuestion,
    MatterQuestionOption,
    Source,
    Urgency,
    WhistleCall,
)
from linli.cases.workflow import OPEN_STATUSES, RUNNING_STATUSES, Status

SEARCH_LIMIT = 20


@dataclass(frozen=True)
class MatterGroup:
    matter_class: MatterClass
    matters: list[Matter]


def _active_matters(*, public_only: bool) -> QuerySet[Matter]:
    matters = Matter.objects.filter(is_active=True).select_related("matter_class")
    if public_only:
        matters = matters.filter(public=True)
    return matters


def matter_choices_for(*, public_only: bool) -> list[MatterGroup]:
    """Active matters grouped by class, classes in their sort order, matters by code: the
    list the report page filters as the user types. Classes without such matters are left
    out. One query."""
    groups: dict[int, MatterGroup] = {}
    matters = _active_matters(public_only=public_only).order_by(
        "matter_class__sort", "matter_class__code", "code"
    )
    for matter in matters:
        group = groups.get(matter.matter_class_id)
        if group is None:
            group = groups[matter.matter_class_id] = MatterGroup(matter.matter_class, [])
        group.matters.append(matter)
    return list(groups.values())


def matter_search(q: str, *, public_only: bool = False, limit: int = SEARCH_LIMIT) -> list[Matter]:
    """Active matters whose code starts with `q` (digits), or whose name or keywords
    contain it; exact names first, then names starting with it, then by code."""
    q = q.strip()
    if not q:
        return []
    if q.isdigit():
        found = Q(code__startswith=q)
    else:
        found = Q(name__icontains=q) | Q(keywords__icontains=q)
    rank = CaseWhen(
        When(Q(code=q) | Q(name=q), then=Value(0)),
        When(name__startswith=q, then=Value(1)),
        When(name__icontains=q, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    matters = (
        _active_matters(public_only=public_only)
        .filter(found)
        .annotate(rank=rank)
        .order_by("rank", "code")
    )
    return list(matters[:limit])


# --- the catalogue as filing reads it, kept in each process -------------------------------------

# code -> (time loaded, the matter with its class, questions and options). Filing a case
# otherwise spends three queries on the matter; the catalogue changes a few times a year.
_filing_matters: dict[str, tuple[float, Matter]] = {}


def _filing_ttl() -> float:
    return settings.LINLI_CATALOGUE_TTL_SECONDS


def matter_for_filing(code: str, *, public_only: bool) -> Matter | None:
    """The matter `code` as the report page's matter_visible finds it (residents: the
    public ones; a retired one is found, so that case_report says it is not in use), with
    its class, questions and options loaded. Kept in this process: an edit saved here is
    seen at once (the signals below); one saved by another process, or by a queryset
    update, within LINLI_CATALOGUE_TTL_SECONDS (LINLI_GRID_INDEX_TTL_SECONDS unless set;
    0 reads the catalogue on every call). The matter is shared between requests: read it
    only."""
    if not code:
        return None
    now = time.monotonic()
    ttl = _filing_ttl()
    held = _filing_matters.get(code)
    if held is not None and ttl and now - held[0] < ttl:
        matter = held[1]
    else:
        matter = (
            Matter.objects.select_related("matter_class")
            .prefetch_related("questions__options")
            .filter(code=code)
            .first()
        )
        # Unknown codes are not kept: anyone may post any code.
        if matter is not None and ttl:
            _filing_matters[code] = (now, matter)
    if matter is None or (public_only and not matter.public):
        return None
    return matter


def _filing_matters_forget(*, using=None, **kwargs) -> None:
    _filing_matters.clear()
    # Again once the edit is visible to every connection, in case a request of this
    # process read the catalogue in between.
    transaction.on_commit(_filing_matters.clear, using=using, robust=True)


for _sender in (MatterClass, Matter, MatterQuestion, MatterQuestionOption):
    _uid = f"matter_for_filing_{_sender.__name__}"
    post_save.connect(_filing_matters_forget, _sender, dispatch_uid=f"{_uid}_saved")
    post_delete.connect(_filing_matters_forget, _sender, dispatch_uid=f"{_uid}_deleted")


def matter_limit(matter: Matter, urgency: str) -> MatterLimit | None:
    """The handling limit of `matter` at `urgency`, or its normal limit when the matter has
    no row for that tier (every shipped matter has a normal one); None only for a matter
    without any limit. Uses prefetched `limits` when present."""
    limits = {limit.urgency: limit for limit in matter.limits.all()}
    return limits.get(urgency) or limits.get(Urgency.NORMAL)


# --- cases -------------------------------------------------------------------------------------

AREA_STAFF = {"grid_worker", "dispatcher", "leader", "admin"}
STAFF, REPORTER, PUBLIC = "staff", "reporter", "public"


def _signed_in(viewer) -> bool:
    return bool(viewer is not None and viewer.is_authenticated and viewer.is_active)


def _department_q(department_id: int) -> Q:
    assigned = CaseAssignment.objects.filter(case=OuterRef("pk"), department_id=department_id)
    summoned = WhistleCall.objects.filter(whistle__case=OuterRef("pk"), department_id=department_id)
    return Q(Exists(assigned)) | Q(Exists(summoned))


def _following_q(viewer) -> Q:
    supports = CaseSupport.objects.filter(case=OuterRef("pk"), user=viewer)
    return Q(reporter=viewer) | Q(Exists(supports))


def cases_for(viewer) -> QuerySet[Case]:
    """The cases `viewer` sees whole ("staff"), or for a resident the ones they reported or
    follow ("reporter")."""
    cases = Case.objects.select_related("matter", "grid", "lead_department")
    if not _signed_in(viewer):
        return cases.none()
    if viewer.role in AREA_STAFF:
        return cases.filter(area_q(viewer, "grid"))
    if viewer.role == "handler":
        if viewer.department_id is None:
            return cases.none()
        return cases.filter(_department_q(viewer.department_id))
    return cases.filter(_following_q(viewer))


@dataclass(frozen=True)
class CaseView:
    case: Case
    level: str  # STAFF, REPORTER or PUBLIC

    @property
    def is_staff(self) -> bool:
        return self.level == STAFF

    @property
    def is_public(self) -> bool:
        return self.level == PUBLIC


def case_view_for(viewer, pk) -> CaseView | None:
    """The case `pk` and how much of it `viewer` may see, or None (show a 404)."""
    if not _signed_in(viewer):
        return None
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    case = cases_for(viewer).filter(pk=pk).first()
    if case is not None:
        return CaseView(case, STAFF if viewer.role != "resident" else REPORTER)
    if viewer.role != "resident":
        return None
    case = Case.objects.select_related("matter", "grid").filter(pk=pk).first()
    return CaseView(case, PUBLIC) if case is not None else None


def case_view_filed(viewer, case: Case) -> CaseView:
    """How the user who has just filed `case` sees it, without reading it back: as
    case_view_for would for a case without followers, assignments or summons yet — staff
    whose area scope holds its grid see it whole, a resident as its reporter — and at the
    reporter's level when it lies beyond the filer's scope (a grid worker's patrol report
    from beyond their grid, a call the centre took for another street)."""
    if viewer.role in AREA_STAFF and can_see_area(viewer, case.grid):
        return CaseView(case, STAFF)
    if viewer.role == "resident" and case.reporter_id != viewer.pk:
        return CaseView(case, PUBLIC)
    return CaseView(case, REPORTER)


def case_for(viewer, pk) -> Case | None:
    """The case `pk` if `viewer` sees it whole (staff in scope), else None."""
    view = case_view_for(viewer, pk)
    return view.case if view is not None and view.is_staff else None


def case_timeline(case: Case, *, level: str) -> list[CaseEvent]:
    """The case's timeline, oldest first: every entry for staff, the public ones for the
    reporter and others (whose pages show no staff names)."""
    events = case.events.select_related("actor", "actor__department").prefetch_related("photos")
    if level != STAFF:
        events = events.filter(public=True)
    return list(events.order_by("created_at", "id"))


def event_public_actor(event: CaseEvent, case: Case) -> str:
    """Who took a step as residents read it on the case page and in the API: a department
    or a role, never a staff member's name."""
    actor = event.actor
    if actor is None:
        if event.action == "report":
            return str(Source(case.source).label)
        return _("the system")
    if actor.role == "handler":
        return actor.department.name if actor.department_id else _("the department")
    if actor.role == "grid_worker":
        return _("grid worker")
    if actor.role in ("dispatcher", "admin", "leader"):
        return _("dispatch centre")
    if actor.pk == case.reporter_id:
        return _("the reporter")
    return _("a resident")


def case_photos(case: Case, *, level: str) -> list[CasePhoto]:
    """Photos the viewer may see: all for staff and for the case's own reporter and
    followers, none on the public view (a photo may show a person or a home)."""
    if level == PUBLIC:
        return []
    return list(case.photos.order_by("created_at", "id"))


def photo_for(viewer, pk) -> CasePhoto | None:
    """A photo for the scoped photo view: only of a case the viewer sees whole or follows."""
    photo = CasePhoto.objects.filter(pk=pk).select_related("case").first()
    if photo is None:
        return None
    view = case_view_for(viewer, photo.case_id)
    if view is None or view.is_public:
        return None
    return photo


def extension_for(viewer, pk) -> Extension | None:
    """An extension request of a case `viewer` sees whole (staff in scope), else None."""
    if not _signed_in(viewer) or viewer.role == "resident":
        return None
    in_scope = cases_for(viewer).order_by().values("pk")
    return Extension.objects.select_related("case").filter(pk=pk, case__in=in_scope).first()


def whistle_call_for(viewer, pk) -> WhistleCall | None:
    """A department summoned by a whistle on a case `viewer` sees whole, else None."""
    if not _signed_in(viewer) or viewer.role == "resident":
        return None
    in_scope = cases_for(viewer).order_by().values("pk")
    return (
        WhistleCall.objects.select_related("whistle", "department")
        .filter(pk=pk, whistle__case__in=in_scope)
        .first()
    )


# --- lists -------------------------------------------------------------------------------------

SORTS = {
    # Cases without a deadline (not yet dispatched) last, on every database.
    "deadline": (F("deadline").asc(nulls_last=True), "reported_at", "id"),
    "-reported": ("-reported_at", "-id"),
    "reported": ("reported_at", "id"),
}


def case_filter(
    cases: QuerySet[Case],
    *,
    status: str | list[str] | None = None,
    matter: str | None = None,
    grid: str | None = None,
    source: str | None = None,
    department: str | None = None,
    overdue: bool | None = None,
    q: str | None = None,
    sort: str | None = None,
    at: datetime | None = None,
) -> QuerySet[Case]:
    """Narrow a list of cases (the queue, the inbox, the API list) by the filters the
    pages and the API share. `grid` is an area code: the grid or any area above it.
    `overdue` means still being worked on and past the deadline. Unknown sorts fall back
    to newest first."""
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        cases = cases.filter(status__in=statuses)
    if matter:
        cases = cases.filter(matter__code__startswith=matter)
    if grid:
        # The area's grids by id, so that the (grid, status) index serves the filter.
        area = Area.objects.filter(code=grid).values_list("path", flat=True).first()
        if area is None:
            return cases.none()
        cases = cases.filter(grid_id__in=Area.objects.filter(path__startswith=area).values("pk"))
    if source:
        cases = cases.filter(source=source)
    if department:
        cases = cases.filter(lead_department__code=department)
    if overdue is not None:
        late = Q(status__in=sorted(RUNNING_STATUSES), deadline__lt=at or timezone.now())
        cases = cases.filter(late) if overdue else cases.exclude(late)
    if q:
        q = q.strip()
        cases = cases.filter(Q(number=q) | Q(description__icontains=q) | Q(address__icontains=q))
    return cases.order_by(*SORTS.get(sort or "-reported", SORTS["-reported"]))


def case_queue(viewer) -> QuerySet[Case]:
    """The centre's queue: cases in scope waiting for the centre (reported, accepted,
    replied for checking), soonest deadline first."""
    waiting = [Status.REPORTED, Status.ACCEPTED, Status.REPLIED]
    return cases_for(viewer).filter(status__in=waiting).order_by("deadline", "reported_at", "id")


def department_inbox(viewer) -> QuerySet[Case]:
    """A department's open cases (lead or co-handler, or summoned), soonest deadline first."""
    if not _signed_in(viewer) or viewer.role != "handler":
        return Case.objects.none()
    return (
        cases_for(viewer)
        .filter(status__in=sorted(OPEN_STATUSES))
        .order_by("deadline", "reported_at", "id")
    )


def cases_to_verify(viewer) -> QuerySet[Case]:
    """Replied cases in the grid worker's (or centre's) scope waiting for the on-site check,
    oldest reply first."""
    if not _signed_in(viewer) or viewer.role not in {"grid_worker", "dispatcher", "admin"}:
        return Case.objects.none()
    return cases_for(viewer).filter(status=Status.REPLIED).order_by("replied_at", "id")


def my_reports(viewer) -> QuerySet[Case]:
    """The cases a user reported or follows, newest first."""
    if not _signed_in(viewer):
        return Case.objects.none()
    return (
        Case.objects.select_related("matter", "grid")
        .filter(_following_q(viewer))
        .order_by("-reported_at", "-id")
    )


def extensions_pending_for(viewer) -> QuerySet[Extension]:
    """Extension requests waiting for the centre, oldest first."""
    if not _signed_in(viewer) or viewer.role not in {"dispatcher", "admin"}:
        return Extension.objects.none()
    return (
        Extension.objects.filter(status=Extension.Status.PENDING, case__in=cases_for(viewer))
        .select_related("case", "case__matter", "department", "requested_by")
        .order_by("created_at", "id")
    )


# --- duplicates --------------------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; ample for a few hundred metres)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text.lower() if c.isalnum()]
    if len(chars) < 2:
        return set(chars)
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def text_similarity(a: str, b: str) -> float:
    """Dice coefficient of the character bigrams, 0–1: fits Chinese, which has no spaces
    between words, and short English alike."""
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


@dataclass(frozen=True)
class Duplicate:
    case: Case
    distance_m: float
    similarity: float


def _duplicate_box(matter_id: int, lon: float, lat: float, at: datetime) -> Q:
    """Cases of the matter reported in the window before `at`, inside the
    bounding box of the radius around the point: what the (matter, reported_at) index
    narrows before the exact rule in _ranked_duplicates."""
    radius = settings.LINLI_DUPLICATE_RADIUS_M
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(0.01, math.cos(math.radians(lat))))
    return Q(
        matter_id=matter_id,
        reported_at__gte=at - timedelta(days=settings.LINLI_DUPLICATE_DAYS),
        reported_at__lte=at,
        lat__range=(lat - dlat, lat + dlat),
        lon__range=(lon - dlon, lon + dlon),
    )


def _ranked_duplicates(lon: float, lat: float, description: str, candidates, limit: int):
    """The candidates within the radius whose text is alike enough, most similar first."""
    radius = settings.LINLI_DUPLICATE_RADIUS_M
    threshold = settings.LINLI_DUPLICATE_SIMILARITY / 100
    found = []
    for case in candidates:
        far = distance_m(lon, lat, case.lon, case.lat)
        if far > radius:
            continue
        alike = text_similarity(description, case.description)
        if alike >= threshold:
            found.append(Duplicate(case, far, alike))
    found.sort(key=lambda d: (-d.similarity, d.distance_m, d.case.pk))
    return found[:limit]


def case_duplicates(
    *,
    matter: Matter,
    lon: float,
    lat: float,
    description: str,
    at: datetime | None = None,
    exclude: int | None = None,
    limit: int = 5,
) -> list[Duplicate]:
    """Open cases of the same matter within LINLI_DUPLICATE_RADIUS_M of the point, reported
    in the last LINLI_DUPLICATE_DAYS days, whose text is at least
    LINLI_DUPLICATE_SIMILARITY % similar: the candidates a new report may repeat, most
    similar first. A bounding box on the indexed (matter, reported_at) rows, then the exact
    distance in Python."""
    box = _duplicate_box(matter.pk, lon, lat, at or timezone.now())
    candidates = Case.objects.select_related("matter", "grid").filter(
        box, status__in=sorted(OPEN_STATUSES)
    )
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude)
    return _ranked_duplicates(lon, lat, description, candidates[:500], limit)


def case_duplicates_of(cases, *, limit: int = 3) -> dict[int, list[Duplicate]]:
    """For each of a page of cases (the queue's reported rows), what case_duplicates would
    have offered when it was reported (at=its reported_at): earlier open cases of its
    matter nearby with similar text. One query for the whole page, an OR of one bounding
    box per case on the (matter, reported_at) index, so the queue's cost does not grow
    with its rows."""
    cases = list(cases)
    if not cases:
        return {}
    window = timedelta(days=settings.LINLI_DUPLICATE_DAYS)
    boxes = Q(pk__in=[])
    for case in cases:
        boxes |= _duplicate_box(case.matter_id, case.lon, case.lat, case.reported_at)
    candidates = list(
        Case.objects.select_related("matter", "grid").filter(
            boxes, status__in=sorted(OPEN_STATUSES)
        )[: 100 * len(cases)]
    )
    found: dict[int, list[Duplicate]] = {}
    for case in cases:
        # The pooled candidates hold every case's box: keep this case's matter and window.
        own = [
            other
            for other in candidates
            if other.pk != case.pk
            and other.matter_id == case.matter_id
            and case.reported_at - window <= other.reported_at <= case.reported_at
        ]
        found[case.pk] = _ranked_duplicates(case.lon, case.lat, case.description, own, limit)
    return found
