"""Geometry for areas: geodesic measures, coordinate systems and the point-in-grid index.

Everything stored is WGS-84 longitude/latitude. Chinese map SDKs send GCJ-02 (AMap,
Tencent) or BD-09 (Baidu); `to_wgs84` converts them on the way in.

The answer for every point is defined:
- inside exactly one grid → that grid;
- on an edge or vertex shared by several grids → the grid with the lowest code (codes run
  west→east, north→south, so a point on a border goes to the western / northern grid);
- outside every grid → None (`locate`) or 0 (`locate_many`).
Micro-grids are not in the index: a point lands in its unit grid (标准 §1.2).
"""

import gc
import secrets
import threading
import time
from collections.abc import Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np
import prcoords
import shapely
from django.conf import settings
from pyproj import Geod
from shapely.geometry import mapping, shape

if TYPE_CHECKING:
    # The helpers here (to_wgs84, GridIndex) work before Django's app registry is ready,
    # so the model is imported inside the functions that query it.
    from linli.areas.models import Area

_GEOD = Geod(ellps="WGS84")
CRS_CHOICES = ("wgs84", "gcj02", "bd09")
# Mainland China with a margin: anything outside is a swapped or garbled coordinate.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)
# Points are looked up in slices this size: a slice's point objects stay in the CPU cache
# between being built and being queried, which made bulk lookups up to 1.3x faster than one
# slice of 200,000 (bench/bench_locate.py).
CHUNK_POINTS = 16_384


def geometry_stats(geometry: dict) -> tuple[float, float, float]:
    """(area in m² on the WGS-84 ellipsoid, centroid longitude, centroid latitude)."""
    polygon = shape(geometry)
    area, _perimeter = _GEOD.geometry_area_perimeter(polygon)
    centroid = polygon.centroid
    return abs(area), centroid.x, centroid.y


def to_geojson(geom) -> dict:
    """A shapely geometry as the GeoJSON dict stored in Area.geometry (lists, not tuples,
    so that it equals what the database gives back)."""

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return plain(mapping(geom))


def geodesic_area_m2(geom) -> float:
    return abs(_GEOD.geometry_area_perimeter(geom)[0])


def to_wgs84(lon: float, lat: float, crs: str = "wgs84") -> tuple[float, float]:
    """Convert a point from the coordinate system a map SDK sent into WGS-84."""
    if crs == "wgs84":
        return lon, lat
    # prcoords works in (lat, lon) order.
    if crs == "gcj02":
        out = prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon))
    elif crs == "bd09":
        out = prcoords.bd_wgs_bored(prcoords.Coords(lat, lon))
    else:
        raise ValueError(f"unknown coordinate system {crs!r}")
    return out.lon, out.lat


def in_china(lon: float, lat: float) -> bool:
    west, south, east, north = CHINA_BOUNDS
    return west <= lon <= east and south <= lat <= north


class GridIndex:
    """An STRtree over grid polygons, answering point queries in bulk.

    `pks` are the grids' primary keys in ascending code order, so that among several hits
    the smallest position is the lowest code: the edge rule above.
    """

    def __init__(self, pks: Sequence[int], polygons: Sequence, codes: Sequence[str] | None = None):
        if codes is not None:
            order = sorted(range(len(pks)), key=lambda i: codes[i])
            pks = [pks[i] for i in order]
            polygons = [polygons[i] for i in order]
        self.pks = np.asarray(pks, dtype=np.int64)
        self.polygons = np.asarray(polygons, dtype=object)
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)
        self.bounds = shapely.total_bounds(self.polygons) if len(self.polygons) else None
        # pk -> the grid's row as `locate_grid` read it, kept as long as this index is.
        self.rows: dict[int, object] = {}

    def __len__(self) -> int:
        return len(self.pks)

    def locate_many(self, points: np.ndarray) -> np.ndarray:
        """Grid pks for an (n, 2) array of lon/lat; 0 where a point is in no grid."""
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        result = np.zeros(len(points), dtype=np.int64)
        if not len(points) or not len(self.pks):
            return result
        lowest = np.full(len(points), len(self.pks), dtype=np.int64)
        for start in range(0, len(points), CHUNK_POINTS):
            # Creating n point objects sets off cyclic-GC passes that walk every live
            # object, the index's own polygons included; that doubled the cost of a
            # 50,000-grid lookup. Points hold no reference cycles, so the collector can
            # wait until they are freed again.
            with _gc_paused():
                geoms = shapely.points(points[start : start + CHUNK_POINTS])
                # "intersects" counts the boundary too, so points on an edge hit every
                # grid that shares it; the lowest position (lowest code) wins below.
                point_idx, tree_idx = self.tree.query(geoms, predicate="intersects")
                del geoms
            np.minimum.at(lowest, point_idx + start, tree_idx)
        inside = lowest < len(self.pks)
        result[inside] = self.pks[lowest[inside]]
        return result

    def locate(self, lon: float, lat: float) -> int | None:
        hits = self.tree.query(shapely.Point(lon, lat), predicate="intersects")
        if not len(hits):
            return None
        return int(self.pks[hits.min()])


@contextmanager
def _gc_paused():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_lock = threading.Lock()
_state: dict = {"index": None, "version": None, "checked": 0.0}


def _current_version() -> int:
    from linli.areas.models import GridIndexVersion

    row = GridIndexVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return row or 0


def _build_index() -> GridIndex:
    from linli.areas.models import Area

    rows = (
        Area.objects.filter(level=Area.Level.GRID, geometry__isnull=False)
        .order_by("code")
        .values_list("pk", "geometry")
    )
    pks, polygons = [], []
    for pk, geometry in rows:
        pks.append(pk)
        polygons.append(shape(geometry))
    return GridIndex(pks, polygons)


def grid_index() -> GridIndex:
    """This process's index, rebuilt when another process changed grid polygons (checked
    at most every LINLI_GRID_INDEX_TTL_SECONDS, so the request path stays one dict read)."""
    now = time.monotonic()
    ttl = settings.LINLI_GRID_INDEX_TTL_SECONDS
    if _state["index"] is not None and ttl and now - _state["checked"] < ttl:
        return _state["index"]
    version = _current_version()
    with _lock:
        if _state["index"] is None or _state["version"] != version:
            _state["index"] = _build_index()
            _state["version"] = version
        _state["checked"] = now
        return _state["index"]


def locate(lon: float, lat: float) -> "Area | None":
    """The unit grid (an Area) holding a WGS-84 point, or None; see the module docstring."""
    from linli.areas.models import Area

    pk = grid_index().locate(lon, lat)
    if pk is None:
        return None
    # Within the re-check interval the index may still hold a grid another process has
    # just deleted; that point then has no grid rather than raising. No ORDER BY or LIMIT:
    # the primary key matches one row at most, and compiling them doubled a call's cost.
    rows = list(
        Area.objects.select_related("parent").order_by().filter(pk=pk, level=Area.Level.GRID)
    )
    return rows[0] if rows else None


GRID_ROW_FIELDS = ("id", "level", "code", "name", "parent_id", "path")


def locate_grid(lon: float, lat: float) -> "Area | None":
    """`locate` for the request path (case intake): the grid's row is read once per
    version of the index and kept with it, so that a lookup costs no query. It holds
    only GRID_ROW_FIELDS (no geometry, no parent). Saving a grid moves the version, so a
    renamed, moved or deleted grid is seen when the index is (within
    LINLI_GRID_INDEX_TTL_SECONDS). The row is shared between requests: read it only."""
    from linli.areas.models import Area

    index = grid_index()
    pk = index.locate(lon, lat)
    if pk is None:
        return None
    row = index.rows.get(pk)
    if row is None:
        rows = list(
            Area.objects.only(*GRID_ROW_FIELDS).order_by().filter(pk=pk, level=Area.Level.GRID)
        )
        if not rows:
            return None
        row = index.rows[pk] = rows[0]
    return row


def locate_many(points) -> np.ndarray:
    """Grid pks for an (n, 2) array of WGS-84 lon/lat; 0 where outside every grid."""
    return grid_index().locate_many(points)


def bump_grid_index_version() -> None:
    """Tell every process that grid polygons changed, so their indexes rebuild. The new
    version is random rather than +1 so that a rolled-back change can never leave a
    process believing an older index is current."""
    from linli.areas.models import GridIndexVersion

    GridIndexVersion.objects.update_or_create(pk=1, defaults={"version": secrets.randbits(62)})
