from datetime import timedelta

from django.utils import timezone

from linli.accounts.models import ApiToken
from linli.accounts.services import user_set_phone
from linli.conftest import PASSWORD


def token_for(client, username="worker", password=PASSWORD):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password, "name": "test"},
        content_type="application/json",
    )


def test_a_token_is_issued_and_works_as_a_bearer(client, grid_worker, street):
    user_set_phone(user=grid_worker, phone="13812345678")
    response = token_for(client)
    assert response.status_code == 201
    raw = response.json()["token"]
    assert ApiToken.objects.get(user=grid_worker).key_hash != raw
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert me.status_code == 200
    assert me.json()["scope"] == {
        "code": street["g11"].code,
        "name": street["g11"].name,
        "level": "grid",
    }
    assert me.json()["phone_masked"] == "138****5678"


def test_wrong_credentials_are_401_with_the_error_shape(client, grid_worker):
    response = token_for(client, password="nope")
    assert response.status_code == 401
    assert response.json() == {
        "code": "invalid_credentials",
        "message": response.json()["message"],
        "fields": {},
    }


def test_a_malformed_request_names_the_field(client, db):
    response = client.post("/api/v1/auth/token", {"username": "x"}, content_type="application/json")
    assert response.status_code == 422 and "password" in response.json()["fields"]


def test_a_revoked_token_stops_working(client, grid_worker):
    raw = token_for(client).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.delete("/api/v1/auth/token", **auth).status_code == 204
    assert client.get("/api/v1/me", **auth).status_code == 401


def test_an_expired_token_stops_working(client, grid_worker):
    raw = token_for(client).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_a_deactivated_users_token_stops_working(client, grid_worker):
    raw = token_for(client).json()["token"]
    grid_worker.is_active = False
    grid_worker.save()
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_messages_follow_accept_language(client, grid_worker):
    zh = token_for(client, password="nope")
    en = client.post(
        "/api/v1/auth/token",
        {"username": "worker", "password": "nope"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert en.json()["message"] == "Wrong username or password."
    assert zh.json()["message"] != en.json()["message"]
