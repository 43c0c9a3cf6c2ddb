"""The permission ladder (STYLE.md 13): anonymous → resident → worker of another grid →
worker of this grid → community dispatcher → street dispatcher → administrator."""

import pytest
from django.contrib.auth.models import AnonymousUser

from linli.accounts.scopes import can_see_area, restrict_to_areas, sees_everything
from linli.accounts.selectors import home_summary_for
from linli.areas.models import Area, Building
from linli.areas.selectors import area_detail_for, area_list_for, grids_geojson_for


@pytest.fixture
def ladder(
    street, resident, other_grid_worker, grid_worker, community_worker, dispatcher, admin_user
):
    return [
        ("anonymous", AnonymousUser(), False),
        ("resident", resident, False),
        ("worker of another grid", other_grid_worker, False),
        ("worker of this grid", grid_worker, True),
        ("community dispatcher", community_worker, True),
        ("street dispatcher", dispatcher, True),
        ("administrator", admin_user, True),
    ]


def test_who_may_see_grid_11(street, ladder):
    for label, user, expected in ladder:
        assert can_see_area(user, street["g11"]) is expected, label
        visible = restrict_to_areas(Area.objects.all(), user).filter(pk=street["g11"].pk).exists()
        assert visible is expected, label
        building = restrict_to_areas(Building.objects.all(), user, "grid").filter(
            grid=street["g11"]
        )
        assert building.exists() is expected, label


def test_a_grid_worker_sees_only_their_grid_in_every_selector(street, grid_worker):
    codes = {a.code for a in area_list_for(viewer=grid_worker)}
    assert codes == {street["g11"].code}
    assert area_detail_for(viewer=grid_worker, code=street["g21"].code) is None
    assert area_detail_for(viewer=grid_worker, code=street["g12"].code) is None
    assert area_detail_for(viewer=grid_worker, code=street["c1"].code) is None
    summary = home_summary_for(viewer=grid_worker)
    assert [n for _label, n in summary["counts"]] == [1]
    assert summary["buildings"] == 1
    highlighted = [
        f for f in grids_geojson_for(viewer=grid_worker)["features"] if f["properties"]["highlight"]
    ]
    assert [f["properties"]["code"] for f in highlighted] == [street["g11"].code]


def test_a_community_dispatcher_sees_the_community_subtree(street, community_worker):
    codes = {a.code for a in area_list_for(viewer=community_worker)}
    assert codes == {street["c1"].code, street["g11"].code, street["g12"].code}


def test_only_an_administrator_without_an_area_sees_everything(street, admin_user, dispatcher):
    assert sees_everything(admin_user)
    assert not sees_everything(dispatcher)
    admin_user.area = street["c2"]
    assert not sees_everything(admin_user)
    assert not can_see_area(admin_user, street["g11"])


def test_an_inactive_user_sees_nothing(street, dispatcher):
    dispatcher.is_active = False
    assert not restrict_to_areas(Area.objects.all(), dispatcher).exists()
