import json
import re

import pytest
import shapely
from django.core.management import call_command
from shapely.geometry import shape

from linli.accounts.models import User
from linli.areas.geo import geodesic_area_m2, locate
from linli.areas.models import Area, Building
from linli.core.errors import DomainError
from linli.demo.services import DEMO_PASSWORD, demo_build, demo_layout, grid_sequence_order


def test_the_layout_is_deterministic_given_a_seed():
    a, b = demo_layout(seed=5, size="small"), demo_layout(seed=5, size="small")
    assert a == b
    assert demo_layout(seed=6, size="small").places != a.places


def test_codes_are_well_formed_and_grids_run_west_east_north_south():
    layout = demo_layout(size="small")
    for place in layout.places:
        expected = {"district": 6, "street": 9, "community": 12, "grid": 15}.get(place.level)
        if expected:
            assert re.fullmatch(rf"\d{{{expected}}}", place.code), place.code
        if place.parent_code:
            assert place.code.startswith(place.parent_code)
    for community in layout.level("community"):
        grids = sorted(
            (g for g in layout.level("grid") if g.parent_code == community.code),
            key=lambda g: g.code,
        )
        assert [g.code[-3:] for g in grids] == [f"{i:03d}" for i in range(1, len(grids) + 1)]
        centroids = [(shape(g.geometry).centroid.x, shape(g.geometry).centroid.y) for g in grids]
        # Numbering order is the row-then-column order of the centroids.
        assert grid_sequence_order(centroids) == list(range(len(grids)))


@pytest.mark.parametrize("size", ["small", "full"])
def test_grids_tile_the_street_without_gaps_or_overlaps(size):
    layout = demo_layout(size=size)
    street = shape(layout.level("street")[0].geometry)
    grids = [shape(g.geometry) for g in layout.level("grid")]
    assert all(g.is_valid and g.geom_type == "Polygon" for g in grids)
    union = shapely.union_all(grids)
    assert geodesic_area_m2(street.symmetric_difference(union)) < 1.0
    tree = shapely.STRtree(grids)
    left, right = tree.query(grids, predicate="intersects")
    for a, b in zip(left, right, strict=True):
        if a < b:
            assert geodesic_area_m2(grids[a].intersection(grids[b])) < 1.0
    if size == "full":
        assert 24 <= len(layout.level("community")) <= 28
        assert 180 <= len(grids) <= 220
        assert 400e6 < geodesic_area_m2(street) < 600e6


def test_the_build_writes_places_accounts_and_the_logins_file(db, tmp_path, client):
    path = tmp_path / "demo-accounts.json"
    summary = demo_build(size="small", progress=False, accounts_path=path)
    assert Area.objects.filter(level="grid").count() == summary.counts["grid"] == 12
    assert Building.objects.count() == summary.counts["buildings"]
    accounts = json.loads(path.read_text(encoding="utf-8"))
    roles = {a["role"] for a in accounts}
    assert roles == {"admin", "leader", "dispatcher", "grid_worker", "handler", "resident"}
    for account in accounts:
        user = User.objects.get(username=account["username"])
        assert user.role == account["role"]
        if account["area_code"]:
            assert user.area.code == account["area_code"]
            assert user.area.level == account["area_level"]
    worker = next(a for a in accounts if a["role"] == "grid_worker")
    response = client.post(
        "/accounts/login/", {"username": worker["username"], "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    # Every grid has its worker, and the index finds each grid at its centroid.
    grid = Area.objects.filter(level="grid").first()
    assert User.objects.filter(role="grid_worker", area=grid).exists()
    assert locate(grid.centroid_lon, grid.centroid_lat) == grid


def test_the_build_refuses_to_run_twice(db, tmp_path):
    demo_build(size="small", progress=False, accounts_path=tmp_path / "a.json")
    with pytest.raises(DomainError):
        demo_build(size="small", progress=False, accounts_path=tmp_path / "a.json")


def test_the_commands_build_once_and_print_the_logins(db, tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("build_demo", "--size", "small", "--no-progress", "--if-empty")
    out = capsys.readouterr().out
    assert "Demo logins" in out and DEMO_PASSWORD in out and "dispatcher1" in out
    assert (tmp_path / "demo-accounts.json").exists()
    call_command("build_demo", "--size", "small", "--no-progress", "--if-empty")
    assert "not rebuilt" in capsys.readouterr().out
    call_command("demo_logins")
    assert "grid_worker" in capsys.readouterr().out


def test_later_features_hook_in_with_a_step(db, tmp_path):
    from linli.demo import services

    seen = []

    def step(ctx):
        seen.append(len(ctx.areas))
        ctx.summary["residents"] = 0

    services.register_demo_step(step)
    try:
        summary = demo_build(size="small", progress=False, accounts_path=tmp_path / "a.json")
    finally:
        services.DEMO_STEPS.remove(step)
    assert seen and seen[0] > 0 and summary.counts["residents"] == 0
