import json
import math
import re

import pytest
import shapely
from django.core.management import call_command
from shapely.geometry import shape

from linli.accounts.models import Department, User
from linli.accounts.services import user_scope_problems
from linli.areas.geo import geodesic_area_m2, locate
from linli.areas.models import Area, Building
from linli.core.errors import DomainError
from linli.core.models import AuditEvent
from linli.demo import services
from linli.demo.services import (
    DEMO_PASSWORD,
    demo_accounts_write,
    demo_build,
    demo_layout,
    grid_sequence_order,
)

CODE_LENGTHS = {"district": 6, "street": 9, "community": 12, "grid": 15}
ROLES = {"admin", "leader", "dispatcher", "grid_worker", "handler", "resident"}


def planar_m2(geom) -> float:
    """Area in m² of lon/lat geometry measured the way the grid index sees it (straight
    edges in lon/lat). A geodesic measure would count the bulge between a geodesic and a
    straight edge as a sliver of several m² on a zero-width seam."""
    lat = geom.centroid.y if not geom.is_empty else 37.4
    return geom.area * 111_320 * math.cos(math.radians(lat)) * 110_574


def children(layout, level, parent_code):
    return [p for p in layout.level(level) if p.parent_code == parent_code]


def build(tmp_path, **kwargs):
    return demo_build(size="small", progress=False, accounts_path=tmp_path / "a.json", **kwargs)


# --- layout -------------------------------------------------------------------------------


def test_the_layout_is_deterministic_given_a_seed():
    a, b = demo_layout(seed=5, size="small"), demo_layout(seed=5, size="small")
    assert a == b
    other = demo_layout(seed=6, size="small")
    assert other.places != a.places
    assert [x.name for x in other.accounts] != [x.name for x in a.accounts]


def test_an_unknown_size_is_refused():
    with pytest.raises(DomainError):
        demo_layout(size="huge")


def test_codes_are_well_formed_and_children_carry_their_parents_code():
    layout = demo_layout(size="small")
    codes = [p.code for p in layout.places] + [b.code for b in layout.buildings]
    assert len(codes) == len(set(codes))
    for place in layout.places:
        if place.level in CODE_LENGTHS:
            assert re.fullmatch(rf"\d{{{CODE_LENGTHS[place.level]}}}", place.code), place.code
        else:
            assert re.fullmatch(r"\d{15}-\d{2}", place.code), place.code
        if place.parent_code:
            assert place.code.startswith(place.parent_code)
    for building in layout.buildings:
        assert re.fullmatch(rf"{building.grid_code}-B\d{{2}}", building.code)
    names = [c.name for c in demo_layout(size="full").level("community")]
    assert len(names) == len(set(names)) == 26


def test_grids_are_numbered_west_to_east_north_to_south_within_each_community():
    layout = demo_layout(size="full")
    for community in layout.level("community"):
        grids = sorted(children(layout, "grid", community.code), key=lambda g: g.code)
        assert [g.code[-3:] for g in grids] == [f"{i:03d}" for i in range(1, len(grids) + 1)]
        assert all(g.name == f"{community.name}第{int(g.code[-3:])}网格" for g in grids)
        centroids = [shape(g.geometry).centroid for g in grids]
        assert grid_sequence_order([(c.x, c.y) for c in centroids]) == list(range(len(grids)))
        if len(grids) < 3:
            continue  # one row
        # The first grid is in the northernmost row, the last in the southernmost.
        assert centroids[0].y > min(c.y for c in centroids)
        assert centroids[-1].y < max(c.y for c in centroids)


def test_the_sequence_reads_rows_north_to_south_then_west_to_east():
    # A 3×3 block given in scrambled order.
    points = [(x, y) for y in (3.0, 1.0, 2.0) for x in (2.0, 0.0, 1.0)]
    ordered = [points[i] for i in grid_sequence_order(points)]
    assert ordered == [(x, y) for y in (3.0, 2.0, 1.0) for x in (0.0, 1.0, 2.0)]


@pytest.mark.parametrize("size", ["small", "full"])
def test_communities_and_grids_tile_the_street_without_gaps_or_overlaps(size):
    layout = demo_layout(size=size)
    street = shape(layout.level("street")[0].geometry)
    for level in ("community", "grid"):
        polygons = [shape(p.geometry) for p in layout.level(level)]
        assert all(p.is_valid and p.geom_type == "Polygon" and not p.is_empty for p in polygons)
        assert planar_m2(street.symmetric_difference(shapely.union_all(polygons))) < 1.0
        left, right = shapely.STRtree(polygons).query(polygons, predicate="intersects")
        for a, b in zip(left, right, strict=True):
            if a < b:
                assert planar_m2(polygons[a].intersection(polygons[b])) < 1.0
    for community in layout.level("community"):
        grids = [shape(g.geometry) for g in children(layout, "grid", community.code)]
        outline = shape(community.geometry)
        assert planar_m2(outline.symmetric_difference(shapely.union_all(grids))) < 1.0


def test_micro_grids_split_their_grid_and_buildings_stand_inside_theirs():
    layout = demo_layout(size="small")
    grids = {g.code: shape(g.geometry) for g in layout.level("grid")}
    micro = layout.level("microgrid")
    assert micro
    for grid_code in {m.parent_code for m in micro}:
        parts = [shape(m.geometry) for m in micro if m.parent_code == grid_code]
        assert len(parts) == 2
        assert planar_m2(grids[grid_code].symmetric_difference(shapely.union_all(parts))) < 1.0
    assert len(layout.buildings) >= 2 * len(grids)
    for building in layout.buildings:
        assert grids[building.grid_code].contains(shapely.Point(building.lon, building.lat))
        assert building.floors >= 1


def test_the_full_street_is_the_size_of_shengli_street():
    layout = demo_layout(size="full")
    street = shape(layout.level("street")[0].geometry)
    assert 450e6 < geodesic_area_m2(street) < 550e6
    assert abs(street.centroid.x - 118.6) < 0.1 and abs(street.centroid.y - 37.4) < 0.1
    assert len(layout.level("community")) == 26
    assert len(layout.level("grid")) == 200
    assert 6 <= len(layout.buildings) / 200 <= 10
    accounts = layout.accounts
    assert sum(a.role == "grid_worker" for a in accounts) == 200
    assert sum(a.role == "dispatcher" for a in accounts) == 2 + 26
    assert sum(a.role == "handler" for a in accounts) == len(layout.departments) >= 10


# --- build --------------------------------------------------------------------------------


def test_the_build_writes_places_buildings_departments_and_accounts(db, tmp_path):
    summary = build(tmp_path)
    layout = demo_layout(size="small")
    assert Area.objects.filter(level="grid").count() == summary.counts["grid"] == 12
    assert Area.objects.filter(level="community").count() == summary.counts["community"] == 3
    assert Building.objects.count() == summary.counts["buildings"] == len(layout.buildings)
    assert Department.objects.count() == summary.counts["departments"]
    assert User.objects.count() == summary.counts["accounts"] == len(layout.accounts)
    grid = Area.objects.get(code=layout.level("grid")[0].code)
    assert grid.path == f"/370502/370502003/{grid.code[:12]}/{grid.code}/"
    assert grid.geometry == layout.level("grid")[0].geometry
    assert grid.area_m2 > 0 and grid.land_use
    assert Area.objects.filter(path__startswith=grid.path).count() == 3  # grid + 2 micro
    # The point-in-grid index knows the new grids at once.
    assert locate(grid.centroid_lon, grid.centroid_lat) == grid
    assert AuditEvent.objects.filter(action="demo.build").count() == 1


def test_every_role_has_an_account_and_every_account_keeps_the_scope_rules(db, tmp_path):
    build(tmp_path)
    users = User.objects.select_related("area", "department")
    assert {u.role for u in users} == ROLES
    for user in users:
        assert user_scope_problems(user.role, user.area, user.department) == {}, user.username
        assert (user.is_staff, user.is_superuser) == (user.role == "admin",) * 2
    for grid in Area.objects.filter(level="grid"):
        assert users.filter(role="grid_worker", area=grid).count() == 1
    for community in Area.objects.filter(level="community"):
        assert users.filter(role="dispatcher", area=community).count() == 1
    for department in Department.objects.all():
        assert users.filter(role="handler", department=department).count() == 1


def test_the_logins_file_lists_every_account_and_its_logins_work(db, tmp_path, client):
    summary = build(tmp_path)
    accounts = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert accounts == summary.accounts
    assert len(accounts) == User.objects.count()
    for account in accounts:
        user = User.objects.get(username=account["username"])
        assert (user.role, user.name) == (account["role"], account["name"])
        assert account["area_code"] == (user.area.code if user.area else None)
        assert account["area_level"] == (user.area.level if user.area else None)
        assert account["department"] == (user.department.code if user.department else None)
    first_of_each_role = {a["role"]: a for a in reversed(accounts)}
    for account in first_of_each_role.values():
        assert account["password"] == DEMO_PASSWORD
        response = client.post(
            "/accounts/login/", {"username": account["username"], "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, account["username"]
        assert client.session["_auth_user_id"] == str(
            User.objects.get(username=account["username"]).pk
        )
        client.logout()


def test_the_logins_file_can_be_rewritten_from_the_database(db, tmp_path):
    build(tmp_path)
    changed = User.objects.get(username="dispatcher2")
    changed.set_password("Another-Pass-1")
    changed.save()
    User.objects.create_user("someone", password="Own-Pass-2026")
    written = demo_accounts_write(tmp_path / "again.json")
    built = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert written == [a for a in built if a["username"] != "dispatcher2"]
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8")) == written


def test_the_build_refuses_to_run_twice(db, tmp_path):
    build(tmp_path)
    with pytest.raises(DomainError) as refused:
        build(tmp_path)
    assert refused.value.code == "demo_exists"
    assert Area.objects.filter(level="street").count() == 1


def test_the_build_refuses_a_taken_username_and_writes_nothing(db, tmp_path):
    User.objects.create_user("leader", password="Own-Pass-2026")
    with pytest.raises(DomainError) as refused:
        build(tmp_path)
    assert refused.value.code == "demo_usernames_taken"
    assert not Area.objects.exists() and User.objects.count() == 1
    assert not (tmp_path / "a.json").exists()


def test_later_features_hook_in_with_a_step(db, tmp_path):
    seen = []

    def demo_residents(ctx):
        seen.append((len(ctx.areas), len(ctx.buildings), len(ctx.users)))
        ctx.summary["residents"] = 0

    services.register_demo_step(demo_residents)
    services.register_demo_step(demo_residents)  # registering twice runs it once
    try:
        summary = build(tmp_path)
    finally:
        services.DEMO_STEPS.remove(demo_residents)
    assert len(seen) == 1 and all(seen[0])
    assert summary.counts["residents"] == 0


def test_a_failing_step_rolls_the_whole_build_back(db, tmp_path):
    def broken(ctx):
        raise RuntimeError("boom")

    services.register_demo_step(broken)
    try:
        with pytest.raises(RuntimeError):
            build(tmp_path)
    finally:
        services.DEMO_STEPS.remove(broken)
    assert not Area.objects.exists() and not User.objects.exists()


# --- commands -----------------------------------------------------------------------------


def test_the_commands_build_once_and_print_the_logins(db, tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("build_demo", "--size", "small", "--no-progress", "--if-empty")
    out = capsys.readouterr().out
    assert "Demo logins" in out and DEMO_PASSWORD in out
    for username in ("admin", "leader", "dispatcher1", "c001", "w001001", "hcg"):
        assert f" {username} " in out
    assert str(tmp_path / "demo-accounts.json") in out
    assert (tmp_path / "demo-accounts.json").exists()

    call_command("build_demo", "--size", "small", "--no-progress", "--if-empty")
    assert "not rebuilt" in capsys.readouterr().out
    assert Area.objects.filter(level="street").count() == 1

    call_command("demo_logins")
    out = capsys.readouterr().out
    assert "w001001" in out and DEMO_PASSWORD in out

    # Without the file the logins come from the database.
    (tmp_path / "demo-accounts.json").unlink()
    call_command("demo_logins")
    out = capsys.readouterr().out
    assert "w001001" in out and "hcg" in out


def test_build_demo_reports_a_refusal_as_a_command_error(db, tmp_path, settings):
    from django.core.management.base import CommandError

    settings.VAR_DIR = tmp_path
    call_command("build_demo", "--size", "small", "--no-progress")
    with pytest.raises(CommandError):
        call_command("build_demo", "--size", "small", "--no-progress")


def test_demo_logins_says_so_when_there_are_none(db, tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("demo_logins")
    assert "build_demo" in capsys.readouterr().out


@pytest.mark.slow
def test_the_full_build(db, tmp_path):
    summary = demo_build(size="full", progress=False, accounts_path=tmp_path / "a.json")
    assert Area.objects.filter(level="grid").count() == 200
    assert Building.objects.count() == summary.counts["buildings"] > 1200
    assert User.objects.filter(role="grid_worker").count() == 200
