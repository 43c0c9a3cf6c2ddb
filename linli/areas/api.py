"""/api/v1/areas: scoped lists, one area, and locating a point."""

from django.db.models import F
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.pagination import paginate

from linli.accounts.auth import token_auth
from linli.areas import geo, selectors
from linli.areas.models import Area
from linli.areas.schemas import AreaDetailOut, AreaOut, LocateOut, LocateQuery
from linli.core.pagination import CursorPagination
from linli.core.schemas import ErrorOut

router = Router(tags=["areas"], auth=token_auth)


def _staff_only(request):
    if request.user.role not in selectors.STAFF_ROLES:
        raise HttpError(403, _("Your role may not list areas."))


def _out(area: Area) -> dict:
    return {
        "code": area.code,
        "name": area.name,
        "level": area.level,
        "parent_code": area.parent.code if area.parent_id else None,
        "area_m2": area.area_m2,
        "centroid_lon": area.centroid_lon,
        "centroid_lat": area.centroid_lat,
        "geometry": area.geometry,
    }


def _outside(message, fields) -> Status:
    return Status(404, {"code": "outside", "message": str(message), "fields": fields})


@router.get(
    "/locate",
    response={200: LocateOut, 404: ErrorOut},
    summary="The unit grid that holds a point",
    description=(
        "A point on an edge or vertex shared by several grids belongs to the grid with the "
        "lowest code; a point outside every grid answers 404 with the code `outside`."
    ),
)
def locate(request, query: Query[LocateQuery]):
    if query.crs != "wgs84" and not geo.in_china(query.lon, query.lat):
        # GCJ-02 and BD-09 are defined only inside China; elsewhere the "conversion" would
        # silently hand back the same numbers.
        return _outside(
            _("GCJ-02 and BD-09 coordinates exist only inside China."),
            {"lon": [_("Outside China.")], "lat": [_("Outside China.")]},
        )
    lon, lat = geo.to_wgs84(query.lon, query.lat, query.crs)
    grid = geo.locate(lon, lat)
    if grid is None:
        return _outside(
            _("The point is outside every grid of this street."),
            {"lon": [_("Outside every grid.")], "lat": [_("Outside every grid.")]},
        )
    return {
        "code": grid.code,
        "name": grid.name,
        "community_code": grid.parent.code,
        "community": grid.parent.name,
        "lon": lon,
        "lat": lat,
    }


@router.get("", response={200: list[AreaOut], 403: ErrorOut}, summary="Areas in the caller's scope")
@paginate(CursorPagination)
def area_list(request, level: Area.Level | None = None, q: str | None = None):
    _staff_only(request)
    areas = selectors.area_list_for(viewer=request.user, level=level, q=q)
    return areas.annotate(parent_code=F("parent__code"))


@router.get(
    "/{code}",
    response={200: AreaDetailOut, 403: ErrorOut, 404: ErrorOut},
    summary="One area with its boundary",
)
def area_detail(request, code: str):
    _staff_only(request)
    area = selectors.area_detail_for(viewer=request.user, code=code)
    if area is None:
        raise HttpError(404, _("No such area in your scope."))
    return _out(area)
