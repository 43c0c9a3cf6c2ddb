import prcoords
import pytest

from linli.accounts.services import api_token_issue


@pytest.fixture
def bearer(db):
    def make(user):
        _token, raw = api_token_issue(user=user)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return make


def test_locate_finds_the_grid_of_a_point(client, street, resident, bearer):
    response = client.get(
        "/api/v1/areas/locate", {"lon": 118.605, "lat": 37.405}, **bearer(resident)
    )
    assert response.status_code == 200
    assert response.json()["code"] == street["g11"].code
    assert response.json()["community_code"] == street["c1"].code


def test_locate_converts_gcj02_points_from_chinese_map_apps(client, street, resident, bearer):
    shifted = prcoords.wgs_gcj(prcoords.Coords(37.405, 118.625))
    response = client.get(
        "/api/v1/areas/locate",
        {"lon": shifted.lon, "lat": shifted.lat, "crs": "gcj02"},
        **bearer(resident),
    )
    assert response.json()["code"] == street["g21"].code
    assert response.json()["lon"] == pytest.approx(118.625, abs=1e-6)


def test_locate_outside_every_grid_says_so(client, street, resident, bearer):
    response = client.get("/api/v1/areas/locate", {"lon": 100.0, "lat": 30.0}, **bearer(resident))
    assert response.status_code == 404 and response.json()["code"] == "outside"
    assert set(response.json()["fields"]) == {"lon", "lat"}
    abroad = client.get(
        "/api/v1/areas/locate", {"lon": 2.35, "lat": 48.85, "crs": "bd09"}, **bearer(resident)
    )
    assert (
        abroad.status_code == 404
        and "China" in abroad.json()["message"]
        or "中国" in (abroad.json()["message"])
    )


def test_locate_rejects_bad_coordinates_naming_the_field(client, street, resident, bearer):
    response = client.get(
        "/api/v1/areas/locate", {"lon": 218.0, "lat": "north"}, **bearer(resident)
    )
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"lon", "lat"}
    for bad in ({"lon": "nan", "lat": 37.4}, {"lon": 118.6, "lat": 37.4, "crs": "epsg3857"}):
        response = client.get("/api/v1/areas/locate", bad, **bearer(resident))
        assert response.status_code == 422, bad
        assert set(response.json()["fields"]) <= {"lon", "crs"}


def test_the_area_list_is_scoped_to_the_token_holder(
    client, street, grid_worker, dispatcher, bearer
):
    mine = client.get("/api/v1/areas", **bearer(grid_worker)).json()
    assert [a["code"] for a in mine["items"]] == [street["g11"].code]
    all_grids = client.get("/api/v1/areas", {"level": "grid"}, **bearer(dispatcher)).json()
    assert len(all_grids["items"]) == 3 and all_grids["next"] is None
    assert all_grids["items"][0]["parent_code"] == street["c1"].code


def test_an_area_outside_the_scope_is_not_found(client, street, grid_worker, bearer):
    response = client.get(f"/api/v1/areas/{street['g21'].code}", **bearer(grid_worker))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    ok = client.get(f"/api/v1/areas/{street['g11'].code}", **bearer(grid_worker))
    assert ok.json()["geometry"]["type"] == "Polygon"


def test_residents_cannot_list_areas(client, street, resident, bearer):
    assert client.get("/api/v1/areas", **bearer(resident)).status_code == 403


def test_the_api_needs_a_token(client, street):
    response = client.get("/api/v1/areas/locate", {"lon": 118.605, "lat": 37.405})
    assert response.status_code == 401
