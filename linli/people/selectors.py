"""Reads for the register. Every query that returns people goes through `residents_for` or
`households_for`, which own the scope (STYLE.md 5): a page, the API and an export all get
the same rows, and an out-of-scope id is indistinguishable from a missing one."""

from datetime import date

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from linli.accounts.backends import normalise_phone
from linli.accounts.scopes import restrict_to_areas, scope_root, sees_everything
from linli.areas.models import Area
from linli.core.crypto import blind_index
from linli.people import permissions
from linli.people.models import (
    ID_NUMBER_CONTEXT,
    PHONE_CONTEXT,
    AccessLog,
    CorrectionRequest,
    Household,
    Resident,
    ResidentTag,
    Tag,
    Talent,
    Visit,
)
from linli.people.validation import compact_id_number


def grid_ids_for(viewer) -> QuerySet | None:
    """A subquery of the grid and micro-grid ids in the viewer's scope; None = all."""
    if sees_everything(viewer):
        return None
    root = scope_root(viewer)
    if root is None:
        return Area.objects.none().values("id")
    return Area.objects.filter(
        path__startswith=root.path, level__in=[Area.Level.GRID, Area.Level.MICROGRID]
    ).values("id")


def grids_in_scope_for(*, viewer) -> QuerySet[Area]:
    """The grids and micro-grids in the viewer's scope, in code order (for filters)."""
    grids = Area.objects.filter(level__in=[Area.Level.GRID, Area.Level.MICROGRID])
    in_scope = grid_ids_for(viewer)
    if in_scope is not None:
        grids = grids.filter(id__in=in_scope)
    return grids.order_by("code")


def households_for(*, viewer) -> QuerySet[Household]:
    if not permissions.may_use_register(viewer):
        return Household.objects.none()
    grids = grid_ids_for(viewer)
    households = Household.objects.all()
    if grids is not None:
        households = households.filter(grid_id__in=grids)
    return households


def residents_for(*, viewer, include_moved_out: bool = False) -> QuerySet[Resident]:
    if not permissions.may_use_register(viewer):
        return Resident.objects.none()
    grids = grid_ids_for(viewer)
    residents = Resident.objects.all()
    if grids is not None:
        residents = residents.filter(household__grid_id__in=grids)
    if not include_moved_out:
        residents = residents.filter(moved_out_on__isnull=True)
    return residents


def visible_tags_for(*, viewer) -> QuerySet[Tag]:
    tags = Tag.objects.filter(is_active=True)
    if not permissions.may_see_sensitive(viewer):
        tags = tags.filter(is_sensitive=False)
    return tags


def _tag_links_for(viewer) -> Prefetch:
    links = ResidentTag.objects.select_related("tag").order_by("tag__sort", "tag__code")
    if not permissions.may_see_sensitive(viewer):
        links = links.filter(tag__is_sensitive=False)
    return Prefetch("tag_links", queryset=links, to_attr="visible_tag_links")


def search_filter(q: str) -> Q:
    """A full ID number or mobile number matches exactly through its blind index; anything
    else matches names. Partial ID numbers or phones match nothing: the database holds
    no plaintext to search."""
    q = q.strip()
    id_number = compact_id_number(q)
    if len(id_number) == 18:
        return Q(id_number_index=blind_index(id_number, context=ID_NUMBER_CONTEXT))
    if q.replace(" ", "").replace("-", "").lstrip("+").isdigit():
        phone = normalise_phone(q)
        if phone is None:
            return Q(pk__in=[])
        return Q(phone_index=blind_index(phone, context=PHONE_CONTEXT))
    return Q(name__contains=q)


def resident_list_for(
    *,
    viewer,
    q: str | None = None,
    grid: Area | None = None,
    household: Household | None = None,
    tag: str | None = None,
    include_moved_out: bool = False,
) -> QuerySet[Resident]:
    """People in the viewer's scope, newest households first, with visible tags and the
    household (and its grid) loaded: two queries for a page of any size."""
    residents = residents_for(viewer=viewer, include_moved_out=include_moved_out)
    if q:
        residents = residents.filter(search_filter(q))
    if grid is not None:
        residents = residents.filter(household__grid__path__startswith=grid.path)
    if household is not None:
        residents = residents.filter(household=household)
    if tag:
        visible = visible_tags_for(viewer=viewer).filter(code=tag)
        residents = residents.filter(tag_links__tag__in=visible)
    return (
        residents.select_related("household", "household__grid")
        .prefetch_related(_tag_links_for(viewer))
        .order_by("household__number", "id")
    )


def resident_detail_for(*, viewer, pk: int) -> Resident | None:
    """The resident if the viewer may see them (moved-out people included), else None."""
    return (
        resident_list_for(viewer=viewer, include_moved_out=True)
        .prefetch_related("talents")
        .filter(pk=pk)
        .first()
    )


def household_list_for(
    *, viewer, q: str | None = None, grid: Area | None = None, include_inactive: bool = False
) -> QuerySet[Household]:
    households = households_for(viewer=viewer)
    if not include_inactive:
        households = households.filter(is_active=True)
    if grid is not None:
        households = households.filter(grid__path__startswith=grid.path)
    if q:
        q = q.strip()
        households = households.filter(Q(number__startswith=q) | Q(address__contains=q))
    return (
        households.select_related("grid", "building")
        # A correlated count rather than JOIN + GROUP BY: the page needs 50 households, and
        # grouping first would count the members of every household of a street.
        .annotate(
            n_members=Coalesce(
                Subquery(
                    Resident.objects.filter(household=OuterRef("pk"), moved_out_on__isnull=True)
                    .order_by()
                    .values("household")
                    .annotate(n=Count("id"))
                    .values("n")
                ),
                0,
            )
        )
        .order_by("number")
    )


def household_detail_for(*, viewer, pk: int) -> Household | None:
    return household_list_for(viewer=viewer, include_inactive=True).filter(pk=pk).first()


def household_members_for(*, viewer, household: Household) -> list[Resident]:
    return list(resident_list_for(viewer=viewer, household=household, include_moved_out=True))


def overdue_visits_for(*, viewer, on: date | None = None, grid: Area | None = None):
    """People whose next visit is due before `on` (today), most overdue first: the early
    warning of 动态监测预警. One indexed range query on next_visit_due."""
    on = on or timezone.localdate()
    residents = resident_list_for(viewer=viewer, grid=grid).filter(next_visit_due__lt=on)
    return residents.order_by("next_visit_due", "id")


def visits_for(*, viewer, resident: Resident | None = None) -> QuerySet[Visit]:
    visits = Visit.objects.filter(resident__in=residents_for(viewer=viewer, include_moved_out=True))
    if resident is not None:
        visits = visits.filter(resident=resident)
    return visits.select_related("resident", "visitor", "resident__household").prefetch_related(
        "photos"
    )


def visit_detail_for(*, viewer, pk: int) -> Visit | None:
    return visits_for(viewer=viewer).filter(pk=pk).first()


def tag_counts_for(*, viewer, level: str = Area.Level.GRID) -> dict:
    """Counts of people by tag for each area of `level` (grid or community) in the
    viewer's scope: {"areas": [Area], "tags": [Tag], "counts": {(area_id, tag_id): n},
    "people": {area_id: n}}. Leaders get counts only; sensitive tags need the right."""
    if not permissions.may_see_overview(viewer):
        return {"areas": [], "tags": [], "counts": {}, "people": {}}
    areas = list(restrict_to_areas(Area.objects.filter(level=level), viewer).order_by("code"))
    tags = Tag.objects.filter(is_active=True)
    if not permissions.may_see_sensitive_counts(viewer):
        tags = tags.filter(is_sensitive=False)
    tags = list(tags)
    # Counting runs per grid; each grid's counts go to the area of `level` above it.
    by_path = {area.path: area.pk for area in areas}
    grid_owner: dict[int, int] = {}
    for grid_id, path in grids_in_scope_for(viewer=viewer).values_list("id", "path"):
        parts = path.strip("/").split("/")
        for end in range(len(parts), 0, -1):
            owner = by_path.get("/" + "/".join(parts[:end]) + "/")
            if owner is not None:
                grid_owner[grid_id] = owner
                break
    counts: dict[tuple[int, int], int] = {}
    links = ResidentTag.objects.filter(
        resident__moved_out_on__isnull=True,
        resident__household__grid_id__in=list(grid_owner),
        tag__in=tags,
    )
    for grid_id, tag_id, n in (
        links.values_list("resident__household__grid_id", "tag_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        key = (grid_owner[grid_id], tag_id)
        counts[key] = counts.get(key, 0) + n
    people: dict[int, int] = {}
    for grid_id, n in (
        Resident.objects.filter(moved_out_on__isnull=True, household__grid_id__in=list(grid_owner))
        .values_list("household__grid_id")
        .annotate(n=Count("id"))
        .order_by()
    ):
        people[grid_owner[grid_id]] = people.get(grid_owner[grid_id], 0) + n
    return {"areas": areas, "tags": tags, "counts": counts, "people": people}


def my_household_for(*, user) -> tuple[Resident | None, list[Resident]]:
    """A signed-in resident's own register entry and their household's current members
    (PIPL Art. 44: the right to view). (None, []) when the account is not linked."""
    me = Resident.objects.select_related("household", "household__grid").filter(user=user).first()
    if me is None:
        return None, []
    members = list(
        Resident.objects.filter(household=me.household, moved_out_on__isnull=True)
        .prefetch_related(
            Prefetch(
                "tag_links",
                queryset=ResidentTag.objects.select_related("tag").filter(tag__is_sensitive=False),
                to_attr="visible_tag_links",
            )
        )
        .order_by("id")
    )
    return me, members


def corrections_for(*, viewer, status: str | None = None) -> QuerySet[CorrectionRequest]:
    """Correction requests the viewer may answer (in their scope), or, for a resident,
    the ones they asked for."""
    if viewer.is_authenticated and viewer.role == "resident":
        corrections = CorrectionRequest.objects.filter(requested_by=viewer)
    else:
        corrections = CorrectionRequest.objects.filter(
            resident__in=residents_for(viewer=viewer, include_moved_out=True)
        )
    if status:
        corrections = corrections.filter(status=status)
    return corrections.select_related("resident", "resident__household", "answered_by")


def talents_for(*, viewer, skill: str | None = None) -> QuerySet[Talent]:
    talents = Talent.objects.filter(resident__in=residents_for(viewer=viewer))
    if skill:
        talents = talents.filter(skill=skill)
    return talents.select_related("resident", "resident__household", "resident__household__grid")


def access_log_for(*, viewer, resident: Resident | None = None) -> QuerySet[AccessLog]:
    if not permissions.may_read_access_log(viewer):
        return AccessLog.objects.none()
    logs = AccessLog.objects.all()
    if resident is not None:
        logs = logs.filter(resident=resident)
    return logs.select_related("viewer", "resident")
