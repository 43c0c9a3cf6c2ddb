"""Sign-in, lockout and throttling (等保 2.0: lock after repeated failures)."""

import pytest
from axes.models import AccessAttempt

from linli.accounts.services import user_set_phone
from linli.conftest import PASSWORD
from linli.core.models import AuditEvent


def web_login(client, username, password, ip="10.0.0.1"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def token_login(client, username, password, ip="10.0.0.1"):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def test_the_right_password_signs_in(client, grid_worker):
    response = web_login(client, "worker", PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", actor=grid_worker).exists()


def test_a_mobile_number_signs_in_too(client, grid_worker):
    user_set_phone(user=grid_worker, phone="13812345678")
    assert web_login(client, "138 1234 5678", PASSWORD).status_code == 302


def test_five_wrong_passwords_lock_the_account(client, grid_worker):
    for _ in range(4):
        response = web_login(client, "worker", "wrong-Password-1")
        assert response.status_code == 200
        assert "alert-danger" in response.content.decode()
    locked = web_login(client, "worker", "wrong-Password-1")
    assert locked.status_code == 403
    # Now even the right password is refused, on the page and through the API.
    assert web_login(client, "worker", PASSWORD).status_code == 403
    api = token_login(client, "worker", PASSWORD)
    assert api.status_code == 403 and api.json()["code"] == "locked"
    assert AuditEvent.objects.filter(action="auth.locked_out", actor_label="worker").exists()


def test_the_lock_holds_whichever_name_is_typed(client, grid_worker):
    user_set_phone(user=grid_worker, phone="13812345678")
    for _ in range(3):
        web_login(client, "worker", "wrong-Password-1")
    for _ in range(2):
        web_login(client, "13812345678", "wrong-Password-1")
    assert web_login(client, "13812345678", PASSWORD).status_code == 403


def test_wrong_passwords_through_the_api_lock_the_account(client, grid_worker):
    for _ in range(5):
        response = token_login(client, "worker", "wrong-Password-1")
    assert response.status_code in (401, 403)
    assert token_login(client, "worker", PASSWORD).status_code == 403
    assert web_login(client, "worker", PASSWORD).status_code == 403


def test_a_locked_account_does_not_lock_out_colleagues_behind_the_same_address(
    client, grid_worker, other_grid_worker
):
    for _ in range(5):
        web_login(client, "worker", "wrong-Password-1", ip="192.0.2.10")
    assert web_login(client, "worker2", PASSWORD, ip="192.0.2.10").status_code == 302
    assert AccessAttempt.objects.filter(username="worker").exists()


def test_one_address_is_throttled_only_at_a_much_higher_rate(client, settings, grid_worker):
    settings.LINLI_LOGIN_RATE_PER_IP = "8/m"
    from django.core.cache import cache

    cache.clear()
    codes = [web_login(client, f"nobody{i}", "x", ip="198.51.100.7").status_code for i in range(9)]
    assert codes[:8] == [200] * 8 and codes[8] == 429
    # Another address is unaffected.
    assert web_login(client, "worker", PASSWORD, ip="198.51.100.8").status_code == 302
    api = token_login(client, "nobody", "x", ip="198.51.100.7")
    assert api.status_code == 429 and api.json()["code"] == "rate_limited"
    assert "Retry-After" in api.headers


def test_inactive_users_cannot_sign_in(client, grid_worker):
    grid_worker.is_active = False
    grid_worker.save()
    assert web_login(client, "worker", PASSWORD).status_code == 200
    assert token_login(client, "worker", PASSWORD).status_code == 401


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_name_is_a_form_error(client, db, name):
    response = web_login(client, name, "x")
    assert response.status_code == 200
    assert response.context["form"].errors["username"]
