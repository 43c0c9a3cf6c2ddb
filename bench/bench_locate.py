"""Point-in-grid lookups: linli's GridIndex against a raw shapely STRtree on the same
points, over the demo street's grids and over a synthetic 50,000-grid city."""

import time

import numpy as np
import shapely

from bench.common import best_of, report

NEEDS_DEMO_DATABASE = True
POINTS = 200_000
CITY_GRIDS = 50_000


def city_polygons(n: int, seed: int = 1) -> list:
    """A jittered lattice cut into Voronoi cells: about 300 km × 300 km of grids."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    xs, ys = np.meshgrid(np.arange(side), np.arange(side))
    centres = np.column_stack([xs.ravel(), ys.ravel()])[:n].astype(float)
    centres += rng.uniform(-0.35, 0.35, centres.shape)
    step = 0.012  # degrees: ≈ 1 km cells
    centres = centres * step + np.array([116.0, 36.0])
    box = shapely.box(*centres.min(axis=0) - step, *centres.max(axis=0) + step)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(centres), extend_to=box, ordered=True)
    return [cell.intersection(box) for cell in cells.geoms]


def raw_rate(polygons, points) -> float:
    tree = shapely.STRtree(polygons)
    geoms = shapely.points(points)

    def run():
        tree.query(geoms, predicate="intersects")

    return len(points) / best_of(run)


def index_rate(index, points) -> float:
    return len(points) / best_of(lambda: index.locate_many(points))


def random_points(bounds, n, seed=2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    west, south, east, north = bounds
    return np.column_stack([rng.uniform(west, east, n), rng.uniform(south, north, n)])


def main() -> None:
    from linli.areas import geo
    from linli.areas.geo import GridIndex

    # The demo street, through the index the request path uses.
    index = geo.grid_index()
    points = random_points(index.bounds, POINTS)
    report(
        f"locate_many, demo street ({len(index)} grids)",
        index_rate(index, points),
        "points/s",
        "raw STRtree bulk query",
        raw_rate(list(index.polygons), points),
    )

    started = time.perf_counter()
    polygons = city_polygons(CITY_GRIDS)
    built = time.perf_counter() - started
    city = GridIndex(list(range(1, len(polygons) + 1)), polygons)
    points = random_points(city.bounds, POINTS)
    report(
        f"locate_many, synthetic city ({len(city):,} grids)",
        index_rate(city, points),
        "points/s",
        "raw STRtree bulk query",
        raw_rate(polygons, points),
        note=f"(city built in {built:.1f} s)",
    )

    # One point at a time, as a request does, with the production re-check interval:
    # the grid's primary key from the index, then the whole Area row from the database.
    from django.test import override_settings

    sample = random_points(geo.grid_index().bounds, 2_000, seed=3)
    tree = shapely.STRtree(list(geo.grid_index().polygons))

    def raw_single():
        for lon, lat in sample:
            tree.query(shapely.Point(lon, lat), predicate="intersects")

    def index_single():
        for lon, lat in sample:
            geo.grid_index().locate(lon, lat)

    def public_locate():
        for lon, lat in sample:
            geo.locate(lon, lat)

    raw = len(sample) / best_of(raw_single)
    with override_settings(LINLI_GRID_INDEX_TTL_SECONDS=5):
        geo.grid_index()
        report(
            "locate, one point per call (grid id)",
            len(sample) / best_of(index_single),
            "calls/s",
            "raw STRtree point query",
            raw,
        )
        report(
            "geo.locate, one point per call (Area row)",
            len(sample) / best_of(public_locate),
            "calls/s",
            "raw STRtree point query",
            raw,
            note="includes the database fetch",
        )
