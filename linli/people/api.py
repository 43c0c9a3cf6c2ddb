"""/api/v1/households, /residents, /visits and /overdue-visits: the register as JSON.

The same selectors and services as the pages, so the same scope: a role without the
register gets 403 everywhere, and an id outside the caller's scope answers 404 exactly as
a missing one. Lists and details carry masked values only; `POST /residents/{id}/reveal`
is the one way to the full values and writes an access-log row.
"""

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from linli.accounts.auth import token_auth
from linli.areas.models import Area, Building
from linli.core.errors import DomainError
from linli.core.pagination import CursorPagination
from linli.core.schemas import ErrorOut, Id, Moment
from linli.people import permissions, selectors, services
from linli.people.models import Tag
from linli.people.schemas import (
    HouseholdDetailOut,
    HouseholdIn,
    HouseholdOut,
    HouseholdPatch,
    MoveOutIn,
    OverdueOut,
    ResidentDetailOut,
    ResidentIn,
    ResidentOut,
    ResidentPatch,
    RevealIn,
    RevealOut,
    TagIn,
    VisitIn,
    VisitOut,
    VisitPatch,
)

router = Router(tags=["register"], auth=token_auth)

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
GRID_LEVELS = [Area.Level.GRID, Area.Level.MICROGRID]
HOUSEHOLD_TEXT = {"address", "unit", "room", "note"}
RESIDENT_TEXT = {"name", "id_number", "gender", "phone", "ethnicity"}


def _register_only(request) -> None:
    if not permissions.may_use_register(request.user):
        raise HttpError(403, _("Your role does not work with the resident register."))


def _not_found():
    return HttpError(404, _("Not found in your area."))


def _filter_area(code: str | None) -> Area | None:
    """The area a list is narrowed to. An unknown code narrows to nothing rather than
    answering an error, like any other filter that matches no one."""
    if not code:
        return None
    # No area's path starts with "/-/": the unsaved stand-in matches no one.
    return Area.objects.filter(code=code).first() or Area(path="/-/")


def _grid_in_scope(viewer, code: str) -> Area:
    grids = Area.objects.filter(code=code, level__in=GRID_LEVELS)
    in_scope = selectors.grid_ids_for(viewer)
    if in_scope is not None:
        grids = grids.filter(id__in=in_scope)
    grid = grids.first()
    if grid is None:
        message = _("No such grid in your area.")
        raise DomainError("invalid", message, {"grid": [message]})
    return grid


def _building(code: str | None) -> Building | None:
    if not code:
        return None
    building = Building.objects.select_related("grid").filter(code=code).first()
    if building is None:
        message = _("No such building.")
        raise DomainError("invalid", message, {"building": [message]})
    return building


def _tag(request, code: str) -> Tag:
    """A tag the caller may see, by code: one they may not see is no choice at all, as
    on the resident's page."""
    tag = selectors.visible_tags_for(viewer=request.user).filter(code=code.strip()).first()
    if tag is None:
        message = _("No such tag.")
        raise DomainError("invalid", message, {"tag": [message]})
    return tag


def _household(request, pk: int):
    household = selectors.household_detail_for(viewer=request.user, pk=pk)
    if household is None:
        raise _not_found()
    return household


def _resident(request, pk: int):
    resident = selectors.resident_detail_for(viewer=request.user, pk=pk)
    if resident is None:
        raise _not_found()
    return resident


def _visit(request, pk: int):
    visit = selectors.visit_detail_for(viewer=request.user, pk=pk)
    if visit is None:
        raise _not_found()
    return visit


def _household_out(request, pk: int):
    """A household with its members loaded, for HouseholdDetailOut."""
    household = _household(request, pk)
    household.member_list = selectors.household_members_for(
        viewer=request.user, household=household
    )
    return household


# --- households ----------------------------------------------------------------------------


@router.get(
    "/households",
    response={200: list[HouseholdOut], 403: ErrorOut},
    summary="Households in the caller's scope",
)
@paginate(CursorPagination)
def household_list(
    request, grid: str | None = None, q: str | None = None, include_inactive: bool = False
):
    _register_only(request)
    return selectors.household_list_for(
        viewer=request.user, q=q, grid=_filter_area(grid), include_inactive=include_inactive
    )


@router.get("/households/{household_id}", response={200: HouseholdDetailOut, **ERRORS})
def household_detail(request, household_id: Id):
    """One household with its members (moved-out ones included, marked)."""
    _register_only(request)
    return _household_out(request, household_id)


@router.post("/households", response={201: HouseholdDetailOut, **ERRORS})
def household_create(request, payload: HouseholdIn):
    _register_only(request)
    household = services.household_create(
        actor=request.user,
        grid=_grid_in_scope(request.user, payload.grid),
        building=_building(payload.building),
        address=payload.address,
        unit=payload.unit,
        room=payload.room,
        tenure=payload.tenure,
        registration=payload.registration,
        note=payload.note,
        request=request,
    )
    return Status(201, _household_out(request, household.pk))


@router.patch("/households/{household_id}", response={200: HouseholdDetailOut, **ERRORS})
def household_update(request, household_id: Id, payload: HouseholdPatch):
    """Only the fields sent change."""
    _register_only(request)
    household = _household(request, household_id)
    changes = payload.dict(exclude_unset=True)
    grid = changes.pop("grid", None)
    building = changes.pop("building", None)
    # null empties a text field; for a choice or a flag it is the same as leaving it out.
    changes = {
        name: "" if value is None else value
        for name, value in changes.items()
        if value is not None or name in HOUSEHOLD_TEXT
    }
    services.household_update(
        household=household,
        actor=request.user,
        grid=_grid_in_scope(request.user, grid) if grid else None,
        building=_building(building),
        request=request,
        **changes,
    )
    return _household_out(request, household.pk)


# --- residents -----------------------------------------------------------------------------


@router.get(
    "/residents",
    response={200: list[ResidentOut], 403: ErrorOut},
    summary="People in the caller's scope, masked",
)
@paginate(CursorPagination)
def resident_list(
    request,
    q: str | None = None,
    grid: str | None = None,
    household: Id | None = None,
    tag: str | None = None,
    include_moved_out: bool = False,
):
    """`q` matches part of a name, or a full ID number or mobile number exactly."""
    _register_only(request)
    residents = selectors.resident_list_for(
        viewer=request.user,
        q=q,
        grid=_filter_area(grid),
        tag=tag,
        include_moved_out=include_moved_out,
    )
    if household is not None:
        residents = residents.filter(household_id=household)
    return residents


@router.get("/residents/{resident_id}", response={200: ResidentDetailOut, **ERRORS})
def resident_detail(request, resident_id: Id):
    _register_only(request)
    return _resident(request, resident_id)


@router.post("/residents", response={201: ResidentDetailOut, **ERRORS})
def resident_create(request, payload: ResidentIn):
    _register_only(request)
    household = _household(request, payload.household)
    resident = services.resident_create(
        actor=request.user,
        household=household,
        **payload.dict(exclude={"household"}),
        request=request,
    )
    return Status(201, _resident(request, resident.pk))


@router.patch("/residents/{resident_id}", response={200: ResidentDetailOut, **ERRORS})
def resident_update(request, resident_id: Id, payload: ResidentPatch):
    """Only the fields sent change; an empty `phone` or `id_number` removes it."""
    _register_only(request)
    resident = _resident(request, resident_id)
    changes = payload.dict(exclude_unset=True)
    for name in RESIDENT_TEXT & set(changes):
        if changes[name] is None:
            changes[name] = ""
    services.resident_update(resident=resident, actor=request.user, request=request, **changes)
    return _resident(request, resident.pk)


@router.post("/residents/{resident_id}/move-out", response={200: ResidentDetailOut, **ERRORS})
def resident_move_out(request, resident_id: Id, payload: MoveOutIn):
    """Mark a person as moved out (or deceased); they stay in the register."""
    _register_only(request)
    resident = _resident(request, resident_id)
    services.resident_move_out(
        resident=resident,
        actor=request.user,
        on=payload.on,
        reason=payload.reason,
        request=request,
    )
    return _resident(request, resident.pk)


@router.post(
    "/residents/{resident_id}/reveal",
    response={200: RevealOut, **ERRORS},
    summary="One personal value in full, for a stated reason (logged)",
)
def resident_reveal(request, resident_id: Id, payload: RevealIn, response: HttpResponse):
    """Writes an access-log row (who, whose, which field, why, when, from where)."""
    _register_only(request)
    resident = _resident(request, resident_id)
    value = services.resident_reveal(
        resident=resident,
        viewer=request.user,
        field=payload.field,
        reason=payload.reason,
        request=request,
    )
    # The value must not linger in a browser cache or a proxy.
    response["Cache-Control"] = "no-store"
    return {"field": payload.field, "value": value}


@router.post(
    "/residents/{resident_id}/tags",
    response={200: ResidentDetailOut, **ERRORS},
    summary="Give a person a tag (重点人群); sensitive tags by designated users only",
)
def resident_tag_add(request, resident_id: Id, payload: TagIn):
    """Giving a tag the person already has changes its grade and note."""
    _register_only(request)
    resident = _resident(request, resident_id)
    services.resident_tag_add(
        resident=resident,
        tag=_tag(request, payload.tag),
        actor=request.user,
        grade=payload.grade,
        note=payload.note,
        request=request,
    )
    return _resident(request, resident.pk)


@router.delete(
    "/residents/{resident_id}/tags/{tag}",
    response={200: ResidentDetailOut, **ERRORS},
    summary="Take a tag off a person",
)
def resident_tag_remove(request, resident_id: Id, tag: str):
    _register_only(request)
    resident = _resident(request, resident_id)
    services.resident_tag_remove(
        resident=resident, tag=_tag(request, tag), actor=request.user, request=request
    )
    return _resident(request, resident.pk)


# --- visits --------------------------------------------------------------------------------


@router.get(
    "/visits",
    response={200: list[VisitOut], 403: ErrorOut},
    summary="Visits to people in the caller's scope, newest first",
)
@paginate(CursorPagination)
def visit_list(
    request,
    resident: Id | None = None,
    grid: str | None = None,
    follow_up_needed: bool | None = None,
    since: Moment | None = None,
):
    """`since` is a date or a time (ISO 8601); a date means the start of that day."""
    _register_only(request)
    visits = selectors.visits_for(viewer=request.user)
    if resident is not None:
        visits = visits.filter(resident_id=resident)
    area = _filter_area(grid)
    if area is not None:
        visits = visits.filter(resident__household__grid__path__startswith=area.path)
    if follow_up_needed is not None:
        visits = visits.filter(follow_up_needed=follow_up_needed)
    if since is not None:
        if timezone.is_naive(since):
            # A date alone (or a time without offset) is the street's local time.
            since = timezone.make_aware(since)
        visits = visits.filter(visited_at__gte=since)
    return visits


@router.get("/visits/{visit_id}", response={200: VisitOut, **ERRORS})
def visit_detail(request, visit_id: Id):
    _register_only(request)
    return _visit(request, visit_id)


@router.post("/visits", response={201: VisitOut, **ERRORS})
def visit_create(request, payload: VisitIn):
    """Photos cannot be sent here; add them on the visit's page."""
    _register_only(request)
    resident = _resident(request, payload.resident)
    visit = services.visit_create(
        resident=resident,
        visitor=request.user,
        method=payload.method,
        findings=payload.findings,
        visited_at=payload.visited_at,
        follow_up_needed=payload.follow_up_needed,
        follow_up_note=payload.follow_up_note,
        request=request,
    )
    return Status(201, _visit(request, visit.pk))


@router.patch("/visits/{visit_id}", response={200: VisitOut, **ERRORS})
def visit_update(request, visit_id: Id, payload: VisitPatch):
    """Only the visitor who recorded it, within 24 hours; findings and follow-up only."""
    _register_only(request)
    visit = _visit(request, visit_id)
    services.visit_update(
        visit=visit, actor=request.user, request=request, **payload.dict(exclude_unset=True)
    )
    return _visit(request, visit.pk)


@router.get(
    "/overdue-visits",
    response={200: list[OverdueOut], 403: ErrorOut},
    summary="People whose next visit is overdue, most overdue first",
)
@paginate(CursorPagination)
def overdue_visits(request, grid: str | None = None):
    _register_only(request)
    return selectors.overdue_visits_for(viewer=request.user, grid=_filter_area(grid))
