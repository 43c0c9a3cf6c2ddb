"""Geometry helpers for areas: geodesic measures and the point-in-grid index.

Everything here works in WGS-84 longitude/latitude (what the database stores).
"""

from django.db.models import F
from pyproj import Geod
from shapely.geometry import shape

_GEOD = Geod(ellps="WGS84")


def geometry_stats(geometry: dict) -> tuple[float, float, float]:
    """(area in m² on the WGS-84 ellipsoid, centroid longitude, centroid latitude)."""
    polygon = shape(geometry)
    area, _perimeter = _GEOD.geometry_area_perimeter(polygon)
    centroid = polygon.centroid
    return abs(area), centroid.x, centroid.y


def bump_grid_index_version() -> None:
    """Tell every process that grid polygons changed, so their indexes rebuild."""
    from linli.areas.models import GridIndexVersion

    updated = GridIndexVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        GridIndexVersion.objects.get_or_create(pk=1, defaults={"version": 1})
