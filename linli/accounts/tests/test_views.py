import re

from linli.accounts.models import ApiToken, User
from linli.accounts.services import user_set_phone
from linli.accounts.sms import LocmemSmsBackend
from linli.conftest import PASSWORD
from linli.core.models import AuditEvent


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_resident_signs_up_through_the_page(client, db, django_capture_on_commit_callbacks):
    LocmemSmsBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/accounts/signup/", {"send-phone": "13912345678"})
    assert sent.status_code == 200
    code = re.search(r"\b(\d{6})\b", LocmemSmsBackend.outbox[-1][1]).group(1)
    done = client.post(
        "/accounts/signup/",
        {"phone": "13912345678", "code": code, "name": "李梅", "password": "Neighbour-2026"},
    )
    assert done.status_code == 302
    user = User.objects.get(role="resident")
    assert user.phone_masked == "139****5678"
    assert client.get("/").status_code == 200


def test_sign_up_errors_name_the_field(client, db):
    response = client.post("/accounts/signup/", {"send-phone": "12345"})
    assert "send-phone" in response.content.decode() and "is-invalid" in response.content.decode()
    bad_code = client.post(
        "/accounts/signup/",
        {"phone": "13912345678", "code": "12ab", "name": "李梅", "password": "Neighbour-2026"},
    )
    assert bad_code.context["form"].errors["code"]
    assert not User.objects.exists()


def test_password_rules_need_eight_characters_of_three_kinds(client, grid_worker):
    client.force_login(grid_worker)
    for weak in ["Ab1!", "alllowercase1", "ALLUPPER-CASE"]:
        response = client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
        )
        assert response.status_code == 200, weak
        assert response.context["form"].errors["new_password2"], weak
    strong = "Patrol-Grid-2027"
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": strong, "new_password2": strong},
    )
    assert response.status_code == 302
    grid_worker.refresh_from_db()
    assert grid_worker.check_password(strong)
    assert AuditEvent.objects.filter(action="user.password_change", actor=grid_worker).exists()


def test_the_profile_masks_the_phone_and_reveals_it_on_request_with_a_log(client, grid_worker):
    user_set_phone(user=grid_worker, phone="13812345678")
    client.force_login(grid_worker)
    page = client.get("/accounts/profile/").content.decode()
    assert "138****5678" in page and "13812345678" not in page
    shown = client.post("/accounts/profile/phone/", HTTP_HX_REQUEST="true").content.decode()
    assert "+8613812345678" in shown and "<h1" not in shown
    assert AuditEvent.objects.filter(action="personal_data.view", actor=grid_worker).count() == 1


def test_tokens_are_issued_once_and_revoked_from_the_profile(client, grid_worker):
    client.force_login(grid_worker)
    client.post("/accounts/profile/tokens/", {"name": "phone app"})
    page = client.get("/accounts/profile/").content.decode()
    token = ApiToken.objects.get(user=grid_worker)
    raw = re.search(r'user-select-all">([^<]+)<', page).group(1)
    assert raw.startswith(token.prefix)
    assert raw not in client.get("/accounts/profile/").content.decode()
    client.post(f"/accounts/profile/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_nobody_revokes_another_users_token(client, grid_worker, other_grid_worker):
    token = ApiToken.objects.create(
        user=grid_worker, prefix="x", key_hash="0" * 64, expires_at="2099-01-01T00:00:00Z"
    )
    client.force_login(other_grid_worker)
    assert client.post(f"/accounts/profile/tokens/{token.pk}/revoke/").status_code == 404


def test_sign_out_is_a_post(client, grid_worker):
    client.force_login(grid_worker)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_an_idle_session_ends(client, grid_worker, settings):
    import time

    client.force_login(grid_worker)
    assert client.get("/").status_code == 200
    session = client.session
    session["linli_last_seen_at"] = time.time() - settings.LINLI_IDLE_TIMEOUT_MINUTES * 60 - 5
    session.save()
    assert client.get("/").status_code == 302
