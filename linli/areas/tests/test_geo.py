import random

import numpy as np
import pytest
import shapely

from linli.areas import geo
from linli.areas.geo import GridIndex, locate, locate_many, to_wgs84
from linli.areas.services import area_update_geometry
from linli.conftest import square


def voronoi_grids(n: int, seed: int) -> list:
    rng = random.Random(seed)
    box = shapely.box(118.0, 37.0, 119.0, 38.0)
    seeds = shapely.MultiPoint([(rng.uniform(118, 119), rng.uniform(37, 38)) for _ in range(n)])
    cells = shapely.voronoi_polygons(seeds, extend_to=box, ordered=True)
    return [cell.intersection(box) for cell in cells.geoms]


def brute_force(polygons, pks, lon, lat):
    point = shapely.Point(lon, lat)
    hits = [pk for pk, polygon in zip(pks, polygons, strict=True) if polygon.intersects(point)]
    return min(hits) if hits else 0


def test_every_point_of_a_random_sample_agrees_with_brute_force(monkeypatch):
    polygons = voronoi_grids(300, seed=7)
    pks = list(range(1, len(polygons) + 1))
    index = GridIndex(pks, polygons)
    rng = np.random.default_rng(11)
    # A margin around the grids so that some points fall outside every grid.
    points = np.column_stack([rng.uniform(117.95, 119.05, 9_800), rng.uniform(36.95, 38.05, 9_800)])
    # Vertices shared by two or three grids exercise the edge rule.
    vertices = np.array([xy for polygon in polygons[:40] for xy in polygon.exterior.coords[:-1]])
    points = np.vstack([points, vertices[:200]])
    found = index.locate_many(points)
    expected = [brute_force(polygons, pks, lon, lat) for lon, lat in points]
    assert found.tolist() == expected
    assert (found == 0).any() and (found > 0).sum() > 8_000
    # Large inputs are looked up in slices; the answer must not depend on where they fall.
    monkeypatch.setattr(geo, "CHUNK_POINTS", 999)
    assert index.locate_many(points).tolist() == expected
    # The single-point path agrees as well.
    for (lon, lat), pk in zip(points[:500], expected[:500], strict=True):
        assert (index.locate(lon, lat) or 0) == pk


def test_a_point_on_a_shared_edge_goes_to_the_lowest_code(street):
    # g11 (…001001) and g12 (…001002) share the meridian 118.61.
    assert locate(118.61, 37.405).code == street["g11"].code
    # A vertex shared by both.
    assert locate(118.61, 37.41).code == street["g11"].code
    result = locate_many(np.array([[118.61, 37.405], [118.615, 37.405]]))
    assert result.tolist() == [street["g11"].pk, street["g12"].pk]


def test_a_point_outside_every_grid_has_no_grid(street):
    assert locate(118.70, 37.405) is None
    assert locate_many(np.array([[118.70, 37.405], [0.0, 0.0]])).tolist() == [0, 0]


def test_micro_grids_are_not_in_the_index(street):
    from linli.areas.models import Area

    Area.objects.create(
        level="microgrid",
        code=street["g11"].code + "-01",
        name="巷",
        parent=street["g11"],
        geometry=square(118.60, 37.40, 0.005),
    )
    geo.bump_grid_index_version()
    assert locate(118.601, 37.401).code == street["g11"].code


def test_the_index_follows_a_changed_boundary(street, admin_user):
    assert locate(118.695, 37.405) is None
    area_update_geometry(area=street["g21"], geometry=square(118.69, 37.40), actor=admin_user)
    assert locate(118.695, 37.405).code == street["g21"].code
    assert locate(118.625, 37.405) is None


def test_chinese_map_coordinates_are_converted_to_wgs84():
    lon, lat = 118.6, 37.4
    for crs in ("gcj02", "bd09"):
        import prcoords

        shifted = (
            prcoords.wgs_gcj(prcoords.Coords(lat, lon))
            if crs == "gcj02"
            else prcoords.wgs_bd(prcoords.Coords(lat, lon))
        )
        assert (shifted.lon, shifted.lat) != pytest.approx((lon, lat), abs=1e-4)
        back = to_wgs84(shifted.lon, shifted.lat, crs)
        assert back == pytest.approx((lon, lat), abs=1e-6)
    assert to_wgs84(lon, lat, "wgs84") == (lon, lat)
    with pytest.raises(ValueError):
        to_wgs84(lon, lat, "mercator")


def test_the_index_is_reused_within_the_recheck_interval(
    street, settings, django_assert_num_queries
):
    settings.LINLI_GRID_INDEX_TTL_SECONDS = 60
    geo.grid_index()
    with django_assert_num_queries(0):
        assert geo.grid_index().locate(118.605, 37.405) == street["g11"].pk
        assert locate_many(np.array([[118.625, 37.405]])).tolist() == [street["g21"].pk]


def test_another_process_bumping_the_version_rebuilds_the_index(street, settings):
    from linli.areas.models import Area

    settings.LINLI_GRID_INDEX_TTL_SECONDS = 0
    before = geo.grid_index()
    # A write that skips the signals, as another process's bulk update would look from here.
    Area.objects.filter(pk=street["g21"].pk).update(geometry=square(118.69, 37.40))
    assert geo.grid_index() is before
    geo.bump_grid_index_version()
    assert geo.grid_index() is not before
    assert locate(118.695, 37.405).code == street["g21"].code


def test_a_grid_deleted_behind_a_cached_index_is_not_returned(street, settings):
    from linli.areas.models import Area

    settings.LINLI_GRID_INDEX_TTL_SECONDS = 60
    geo.grid_index()
    Area.objects.filter(pk=street["g12"].pk).delete()
    assert locate(118.615, 37.405) is None


def test_an_index_built_from_codes_in_any_order_still_gives_edges_to_the_lowest_code():
    west, east = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
    index = GridIndex([20, 10], [east, west], codes=["370502003001002", "370502003001001"])
    assert index.locate(1.0, 0.5) == 10
    assert index.locate_many(np.array([[1.0, 0.5], [1.5, 0.5], [3.0, 0.5]])).tolist() == [
        10,
        20,
        0,
    ]
    assert len(GridIndex([], []).locate_many(np.array([[1.0, 0.5]]))) == 1
