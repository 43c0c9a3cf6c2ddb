"""POST /api/v1/residents/{id}/tags and DELETE …/tags/{code}: the resident page's tag
form as JSON, with its scope and its rule that a sensitive tag is no choice for whom it
is hidden."""

import json

import pytest

from linli.accounts.services import api_token_issue
from linli.people.models import ResidentTag


@pytest.fixture
def auth(db):
    def make(user):
        _token, raw = api_token_issue(user=user)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}

    return make


def add(client, resident, body, headers):
    path = f"/api/v1/residents/{resident.pk}/tags"
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def test_a_grid_worker_tags_a_person_of_their_grid_and_takes_the_tag_off(
    client, register, grid_worker, auth, tags
):
    zhang = register["zhang"]
    added = add(client, zhang, {"tag": "elderly-alone", "note": "子女在外地"}, auth(grid_worker))
    assert added.status_code == 200, added.json()
    assert [t["code"] for t in added.json()["tags"]] == ["elderly-alone"]
    assert ResidentTag.objects.get(resident=zhang).note == "子女在外地"

    path = f"/api/v1/residents/{zhang.pk}/tags/elderly-alone"
    removed = client.delete(path, **auth(grid_worker))
    assert removed.status_code == 200 and removed.json()["tags"] == []
    assert not ResidentTag.objects.filter(resident=zhang).exists()
    again = client.delete(path, **auth(grid_worker))
    assert again.status_code == 404 and again.json()["code"] == "not_found"


def test_a_worker_of_another_grid_finds_no_such_person_and_changes_nothing(
    client, register, other_grid_worker, auth, tags
):
    zhang = register["zhang"]
    response = add(client, zhang, {"tag": "elderly-alone"}, auth(other_grid_worker))
    assert response.status_code == 404
    path = f"/api/v1/residents/{zhang.pk}/tags/elderly-alone"
    assert client.delete(path, **auth(other_grid_worker)).status_code == 404
    assert not ResidentTag.objects.exists()


def test_a_hidden_sensitive_tag_is_no_choice_and_a_resident_may_not_tag(
    client, register, grid_worker, admin_user, resident, auth, tags
):
    zhang = register["zhang"]
    hidden = add(client, zhang, {"tag": "disabled", "grade": "二级"}, auth(grid_worker))
    assert hidden.status_code == 400
    assert hidden.json()["fields"] == {"tag": ["No such tag."]}
    ungraded = add(client, zhang, {"tag": "disabled"}, auth(admin_user))
    assert ungraded.status_code == 400 and "grade" in ungraded.json()["fields"]
    assert add(client, zhang, {"tag": "elderly-alone"}, auth(resident)).status_code == 403
    assert not ResidentTag.objects.exists()
