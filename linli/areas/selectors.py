"""Reads for areas; every one is scoped through linli.accounts.scopes."""

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from linli.accounts.scopes import can_see_area, restrict_to_areas, scope_root, sees_everything
from linli.areas.models import Area

STAFF_ROLES = {"grid_worker", "dispatcher", "handler", "leader", "admin"}
# Handlers work for a department across the street: they see the places (not the people)
# of the whole system so that they can find where a task is.
PLACE_READERS = {"handler"}


def _places_for(viewer) -> QuerySet[Area]:
    if viewer.role in PLACE_READERS and viewer.is_active:
        return Area.objects.all()
    return restrict_to_areas(Area.objects.all(), viewer)


def area_list_for(
    *, viewer, level: str | None = None, q: str | None = None, community: str | None = None
) -> QuerySet[Area]:
    areas = (
        _places_for(viewer)
        .select_related("parent")
        .annotate(n_children=Count("children", distinct=True))
    )
    if level:
        areas = areas.filter(level=level)
    if community:
        areas = areas.filter(path__contains=f"/{community}/")
    if q:
        areas = areas.filter(Q(code__startswith=q.strip()) | Q(name__icontains=q.strip()))
    return areas.order_by("code")


def community_choices_for(*, viewer) -> list[tuple[str, str]]:
    """(code, name) of the communities in the viewer's scope, for filters."""
    return list(
        _places_for(viewer)
        .filter(level=Area.Level.COMMUNITY)
        .order_by("code")
        .values_list("code", "name")
    )


def area_detail_for(*, viewer, code: str) -> Area | None:
    """The area if the viewer may see it, else None (the caller answers 404)."""
    area = Area.objects.select_related("parent").filter(code=code).first()
    if area is None:
        return None
    if viewer.role in PLACE_READERS or can_see_area(viewer, area):
        return area
    return None


def area_page_for(*, viewer, area: Area) -> dict:
    """What the page of one area shows: the places above it that the viewer may open (a
    breadcrumb), the places within it, its grid workers and its first 200 buildings.
    `area` comes from area_detail_for, so the viewer may see it."""
    ancestors = _places_for(viewer).filter(code__in=area.ancestor_codes()[:-1]).order_by("path")
    return {
        "area": area,
        "ancestors": list(ancestors),
        "children": list(area_list_for(viewer=viewer).filter(parent=area)),
        "workers": grid_workers_by_grid([area.pk]).get(area.pk, []),
        "buildings": list(area.buildings.order_by("code")[:200]),
    }


def grid_workers_by_grid(grid_ids) -> dict[int, list[str]]:
    User = get_user_model()
    workers: dict[int, list[str]] = {}
    rows = User.objects.filter(role="grid_worker", is_active=True, area_id__in=grid_ids)
    for area_id, name, username in rows.values_list("area_id", "name", "username").order_by("name"):
        workers.setdefault(area_id, []).append(name or username)
    return workers


def map_focus_for(*, viewer) -> Area | None:
    """The part of the map drawn bold for the viewer: a grid worker's grid (the grid of a
    micro-grid worker) or a community user's community. None for street-wide users, whose
    whole map is theirs, and for users without an area."""
    if sees_everything(viewer):
        return None
    root = scope_root(viewer)
    if root is None:
        return None
    if root.level == Area.Level.MICROGRID:
        return root.parent
    if root.level in (Area.Level.COMMUNITY, Area.Level.GRID):
        return root
    return None


def grids_geojson_for(*, viewer) -> dict:
    """Every grid of the street as GeoJSON for the map, with the viewer's own scope
    marked. Grid boundaries and their grid workers' names are public service information
    (posted on every 网格公示牌); phones are not included."""
    grids = list(
        Area.objects.filter(level=Area.Level.GRID, geometry__isnull=False)
        .select_related("parent")
        .order_by("code")
    )
    focus = map_focus_for(viewer=viewer)
    communities = sorted({g.parent.code for g in grids})
    colour = {code: i for i, code in enumerate(communities)}
    workers = grid_workers_by_grid([g.pk for g in grids])
    features = []
    for grid in grids:
        features.append(
            {
                "type": "Feature",
                "geometry": grid.geometry,
                "properties": {
                    "code": grid.code,
                    "name": grid.name,
                    "community_code": grid.parent.code,
                    "community": grid.parent.name,
                    "colour": colour[grid.parent.code],
                    "workers": workers.get(grid.pk, []),
                    "area_m2": round(grid.area_m2 or 0),
                    "highlight": focus is not None and grid.is_within(focus),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
