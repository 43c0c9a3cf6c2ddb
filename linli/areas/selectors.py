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


def area_detail_for(*, viewer, code: str) -> Area | None:
    """The area if the viewer may see it, else None (the caller answers 404)."""
    area = Area.objects.select_related("parent").filter(code=code).first()
    if area is None:
        return None
    if viewer.role in PLACE_READERS or can_see_area(viewer, area):
        return area
    return None


def grid_workers_by_grid(grid_ids) -> dict[int, list[str]]:
    User = get_user_model()
    workers: dict[int, list[str]] = {}
    rows = User.objects.filter(role="grid_worker", is_active=True, area_id__in=grid_ids)
    for area_id, name, username in rows.values_list("area_id", "name", "username").order_by("name"):
        workers.setdefault(area_id, []).append(name or username)
    return workers


def grids_geojson_for(*, viewer) -> dict:
    """Every grid of the street as GeoJSON for the map, with the viewer's own scope
    marked. Grid boundaries and their grid workers' names are public service information
    (posted on every 网格公示牌); phones are not included."""
    grids = list(
        Area.objects.filter(level=Area.Level.GRID, geometry__isnull=False)
        .select_related("parent")
        .order_by("code")
    )
    root = None if sees_everything(viewer) else scope_root(viewer)
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
                    "highlight": root is not None
                    and grid.is_within(root)
                    and root.level != Area.Level.DISTRICT
                    and root.level != Area.Level.STREET,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
