import json

from django.core.files.uploadedfile import SimpleUploadedFile

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
