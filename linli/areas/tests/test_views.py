import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from linli.areas.models import Area
from linli.conftest import square


def geojson_features(client):
    return {
        f["properties"]["code"]: f["properties"]
        for f in client.get("/areas/map/grids.geojson").json()["features"]
    }


def test_a_grid_worker_sees_their_grid_highlighted_and_the_rest_plain(client, street, grid_worker):
    client.force_login(grid_worker)
    grids = geojson_features(client)
    assert set(grids) == {street["g11"].code, street["g12"].code, street["g21"].code}
    assert [code for code, p in grids.items() if p["highlight"]] == [street["g11"].code]
    assert grids[street["g11"].code]["workers"] == [grid_worker.name]
    assert grids[street["g11"].code]["community"] == street["c1"].name


def test_a_community_user_sees_their_community_highlighted(client, street, community_worker):
    client.force_login(community_worker)
    grids = geojson_features(client)
    assert {code for code, p in grids.items() if p["highlight"]} == {
        street["g11"].code,
        street["g12"].code,
    }
    # Communities get different colours.
    assert grids[street["g11"].code]["colour"] != grids[street["g21"].code]["colour"]


def test_the_map_geojson_carries_no_phone(client, street, grid_worker, resident):
    grid_worker.phone_masked = "138****5678"
    grid_worker.save()
    client.force_login(resident)
    body = client.get("/areas/map/grids.geojson").content.decode()
    assert "5678" not in body and "phone" not in body


def test_the_map_page_works_without_a_tile_server(client, street, resident, settings):
    client.force_login(resident)
    page = client.get("/areas/map/").content.decode()
    assert 'data-tile-url=""' in page and "leaflet.js" in page and "<script>" not in page


def test_the_list_is_scoped_and_searchable(client, street, grid_worker, dispatcher):
    client.force_login(grid_worker)
    page = client.get("/areas/").content.decode()
    assert street["g11"].code in page and street["g21"].code not in page
    client.force_login(dispatcher)
    page = client.get("/areas/", {"q": "五一"}).content.decode()
    assert street["g21"].code in page and street["g11"].code not in page
    partial = client.get("/areas/", {"level": "grid"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<h1" not in partial and street["g12"].code in partial


def test_a_grid_worker_cannot_open_another_grid(client, street, grid_worker):
    client.force_login(grid_worker)
    assert client.get(f"/areas/{street['g21'].code}/").status_code == 404
    assert client.get(f"/areas/{street['g11'].code}/").status_code == 200


def upload(payload) -> SimpleUploadedFile:
    return SimpleUploadedFile("grids.geojson", json.dumps(payload).encode(), "application/geo+json")


def test_the_import_page_imports_a_clean_file(client, street, admin_user):
    client.force_login(admin_user)
    payload = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "370502003001003", "name": "新网格"},
                "geometry": square(118.60, 37.41),
            }
        ],
    }
    response = client.post(
        "/areas/import/", {"file": upload(payload), "gap_tolerance_m2": "100", "import": "1"}
    )
    assert response.status_code == 200
    assert Area.objects.filter(code="370502003001003", parent=street["c1"]).exists()


def test_the_import_page_rejects_bad_files_and_says_why(client, street, admin_user):
    client.force_login(admin_user)
    bad = client.post(
        "/areas/import/",
        {"file": SimpleUploadedFile("x.geojson", b"{not json"), "gap_tolerance_m2": "100"},
    )
    assert bad.status_code == 200 and "JSON" in bad.content.decode()
    overlap = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "370502003001003", "name": "x"},
                "geometry": square(118.605, 37.40),
            }
        ],
    }
    before = Area.objects.count()
    response = client.post("/areas/import/", {"file": upload(overlap), "gap_tolerance_m2": "100"})
    assert response.status_code == 400
    assert Area.objects.count() == before
    assert "370502003001003" in response.content.decode()


def test_the_import_page_speaks_chinese_by_default(client, street, admin_user):
    client.force_login(admin_user)
    page = client.get("/areas/import/").content.decode()
    assert "导入网格" in page


STAFF = {"grid_worker", "dispatcher", "handler", "leader", "admin"}
PAGES = {
    # url name → (arguments, roles that may open it)
    "areas:map": ((), {"resident", *STAFF}),
    "areas:list": ((), STAFF),
    "areas:detail": (("370502003001001",), STAFF),
    "areas:import": ((), {"admin"}),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_page_answers_its_roles_with_one_h1_and_refuses_the_others(client, personas, name):
    args, allowed = PAGES[name]
    url = reverse(name, args=args)
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    for role, user in personas.items():
        if role == "other_grid_worker":
            continue  # its own ladder rung below: same role, another grid
        client.force_login(user)
        response = client.get(url)
        if role in allowed:
            assert response.status_code == 200, role
            assert response.content.decode().count("<h1") == 1, role
        else:
            assert response.status_code == 403, role


def test_a_grid_worker_of_another_grid_sees_the_map_but_not_this_grid(
    client, street, other_grid_worker
):
    client.force_login(other_grid_worker)
    assert client.get(reverse("areas:detail", args=[street["g11"].code])).status_code == 404
    grids = geojson_features(client)
    assert [code for code, p in grids.items() if p["highlight"]] == [street["g21"].code]


def test_anonymous_users_get_no_grids(client, street):
    response = client.get(reverse("areas:grids_geojson"))
    assert response.status_code == 302


def test_the_map_geojson_costs_two_queries_however_many_grids(
    street, resident, django_assert_num_queries
):
    from linli.areas.selectors import grids_geojson_for

    # The grids with their communities, then every grid's workers in one query.
    with django_assert_num_queries(2):
        assert len(grids_geojson_for(viewer=resident)["features"]) == 3


def test_the_admin_lists_areas_and_points_to_the_import_page(client, street, admin_user):
    client.force_login(admin_user)
    listing = client.get("/admin/areas/area/", {"q": "五一"})
    assert listing.status_code == 200 and street["g21"].code in listing.content.decode()
    change = client.get(f"/admin/areas/area/{street['g11'].pk}/change/")
    assert reverse("areas:import") in change.content.decode()


def test_a_dispatcher_pages_through_many_grids_filtered_by_community(client, street, dispatcher):
    Area.objects.bulk_create(
        Area(
            level="grid",
            code=f"370502003002{n:03d}",
            name=f"五一社区第{n}网格",
            parent=street["c2"],
            path=f"{street['c2'].path}370502003002{n:03d}/",
        )
        for n in range(2, 202)
    )
    client.force_login(dispatcher)
    first = client.get("/areas/", {"community": street["c2"].code, "level": "grid"})
    page = first.content.decode()
    assert "共 201 个区域" in page and "1 / 5" in page
    assert street["g11"].code not in page
    assert "community=370502003002" in page and "page=2" in page
    last = client.get(
        "/areas/", {"community": street["c2"].code, "level": "grid", "page": 5}
    ).content.decode()
    assert "370502003002201" in last
    # A community outside the choices is ignored with a message, not a crash.
    bad = client.get("/areas/", {"community": "999"})
    assert bad.status_code == 200


def test_street_wide_users_get_no_bold_area_and_no_claim_of_one(client, street, dispatcher):
    client.force_login(dispatcher)
    assert not any(p["highlight"] for p in geojson_features(client).values())
    assert "粗线" not in client.get("/areas/map/").content.decode()


def test_a_micro_grid_worker_sees_the_grid_around_it(client, street):
    from linli.accounts.models import User

    lane = Area.objects.create(
        level="microgrid", code=street["g12"].code + "-01", name="巷", parent=street["g12"]
    )
    worker = User.objects.create(username="lane", role="grid_worker", area=lane)
    client.force_login(worker)
    grids = geojson_features(client)
    assert [code for code, p in grids.items() if p["highlight"]] == [street["g12"].code]
    assert "粗线" in client.get("/areas/map/").content.decode()


def test_a_grid_page_shows_its_workers_buildings_and_only_the_breadcrumbs_in_scope(
    client, street, grid_worker, dispatcher
):
    client.force_login(grid_worker)
    page = client.get(f"/areas/{street['g11'].code}/").content.decode()
    assert grid_worker.name in page and "370502003001001-B01" in page
    # The community above is not in a grid worker's scope, so it is no link.
    assert f"/areas/{street['c1'].code}/" not in page
    client.force_login(dispatcher)
    page = client.get(f"/areas/{street['c1'].code}/").content.decode()
    assert f"/areas/{street['street'].code}/" in page  # breadcrumb
    assert f"/areas/{street['g12'].code}/" in page  # a grid within it
