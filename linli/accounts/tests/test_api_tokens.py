"""GET /api/v1/auth/tokens and DELETE /api/v1/auth/tokens/{id}: the profile page's list
of one's own tokens, and revoking any of them; another user's token is not found."""

from linli.accounts.models import ApiToken
from linli.accounts.services import api_token_issue


def headers(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}


def test_one_lists_ones_own_tokens_newest_first_without_their_values(client, grid_worker, resident):
    older, older_raw = api_token_issue(user=grid_worker, name="phone")
    current, raw = api_token_issue(user=grid_worker, name="laptop")
    api_token_issue(user=resident, name="not mine")

    body = client.get("/api/v1/auth/tokens", **headers(raw)).json()

    assert [(t["id"], t["name"], t["current"]) for t in body["items"]] == [
        (current.pk, "laptop", True),
        (older.pk, "phone", False),
    ]
    assert body["next"] is None
    assert raw not in str(body) and older_raw not in str(body)
    assert body["items"][0]["prefix"] == current.prefix


def test_one_revokes_another_of_ones_tokens_which_then_stops_working(client, grid_worker):
    other, other_raw = api_token_issue(user=grid_worker, name="old phone")
    _current, raw = api_token_issue(user=grid_worker)

    response = client.delete(f"/api/v1/auth/tokens/{other.pk}", **headers(raw))

    assert response.status_code == 204
    assert ApiToken.objects.get(pk=other.pk).revoked_at is not None
    assert client.get("/api/v1/me", **headers(other_raw)).status_code == 401
    assert client.get("/api/v1/me", **headers(raw)).status_code == 200


def test_another_users_token_is_not_found_and_stays_alive(client, grid_worker, resident):
    theirs, their_raw = api_token_issue(user=resident)
    _mine, raw = api_token_issue(user=grid_worker)

    response = client.delete(f"/api/v1/auth/tokens/{theirs.pk}", **headers(raw))

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "No such token.", "fields": {}}
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None
    assert client.get("/api/v1/me", **headers(their_raw)).status_code == 200
