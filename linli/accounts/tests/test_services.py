import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from linli.accounts.models import PhoneCode, User
from linli.accounts.services import (
    api_token_issue,
    api_token_revoke,
    phone_code_check,
    phone_code_send,
    resident_signup,
    user_create,
    user_phone_reveal,
    user_set_phone,
)
from linli.accounts.sms import LocmemSmsBackend
from linli.core.errors import DomainError
from linli.core.models import AuditEvent


@pytest.fixture
def outbox():
    LocmemSmsBackend.outbox.clear()
    return LocmemSmsBackend.outbox


def sent_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1][1]).group(1)


def test_a_phone_is_encrypted_at_rest_and_masked(grid_worker):
    user_set_phone(user=grid_worker, phone="13812345678")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone_encrypted, phone_masked FROM accounts_user WHERE id = %s",
            [grid_worker.pk],
        )
        stored, masked = cursor.fetchone()
    assert "12345678" not in stored and "1381234" not in stored
    assert masked == "138****5678"


def test_a_full_number_is_shown_to_its_owner_and_every_view_is_logged(
    grid_worker, other_grid_worker, admin_user
):
    user_set_phone(user=grid_worker, phone="13812345678")
    assert user_phone_reveal(user=grid_worker, viewer=grid_worker) == "+8613812345678"
    assert user_phone_reveal(user=grid_worker, viewer=admin_user) == "+8613812345678"
    with pytest.raises(DomainError):
        user_phone_reveal(user=grid_worker, viewer=other_grid_worker)
    views = AuditEvent.objects.filter(action="personal_data.view", target_id=str(grid_worker.pk))
    assert views.filter(success=True).count() == 2 and views.filter(success=False).count() == 1


@pytest.mark.parametrize("phone", ["12345", "10012345678", "abc", "+1 202 555 0100"])
def test_a_bad_phone_is_refused_naming_the_field(grid_worker, phone):
    with pytest.raises(DomainError) as exc:
        user_set_phone(user=grid_worker, phone=phone)
    assert "phone" in exc.value.fields


def test_a_phone_belongs_to_one_account(grid_worker, other_grid_worker):
    user_set_phone(user=grid_worker, phone="13812345678")
    with pytest.raises(DomainError) as exc:
        user_set_phone(user=other_grid_worker, phone="138-1234-5678")
    assert exc.value.code == "phone_taken"


def test_user_create_checks_role_and_scope(street):
    with pytest.raises(DomainError) as exc:
        user_create(username="h1", role="handler", name="x")
    assert "department" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        user_create(username="w1", role="grid_worker", name="x", area=street["c1"])
    assert "area" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        user_create(
            username="w1", role="grid_worker", name="x", area=street["g11"], password="short"
        )
    assert "password" in exc.value.fields
    user = user_create(
        username="w1", role="grid_worker", name="x", area=street["g11"], password="Grid-work-2026"
    )
    assert user.check_password("Grid-work-2026")


def test_tokens_are_stored_hashed_and_can_be_revoked(grid_worker):
    token, raw = api_token_issue(user=grid_worker)
    assert raw not in token.key_hash and token.prefix == raw[:8]
    assert token.is_active
    api_token_revoke(token=token, actor=grid_worker)
    token.refresh_from_db()
    assert not token.is_active and token.revoked_at is not None


def test_someone_else_cannot_revoke_a_token(grid_worker, other_grid_worker):
    token, _raw = api_token_issue(user=grid_worker)
    with pytest.raises(DomainError):
        api_token_revoke(token=token, actor=other_grid_worker)


def test_the_sms_code_flow(db, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_send(phone="13912345678")
    assert outbox[-1][0] == "+8613912345678"
    code = sent_code(outbox)
    stored = PhoneCode.objects.get()
    assert code not in stored.code_hash
    with pytest.raises(DomainError):
        phone_code_check(phone="13912345678", code="000000" if code != "000000" else "111111")
    phone_code_check(phone="13912345678", code=code)
    with pytest.raises(DomainError):  # single use
        phone_code_check(phone="13912345678", code=code)


def test_codes_expire(db, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_send(phone="13912345678")
    PhoneCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(DomainError):
        phone_code_check(phone="13912345678", code=sent_code(outbox))


def test_guessing_stops_after_five_wrong_codes(db, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_send(phone="13912345678")
    code = sent_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(DomainError):
            phone_code_check(phone="13912345678", code=wrong)
    with pytest.raises(DomainError) as exc:
        phone_code_check(phone="13912345678", code=code)
    assert exc.value.code == "too_many_attempts"


def test_codes_are_rate_limited_per_number(db, outbox):
    phone_code_send(phone="13912345678")
    with pytest.raises(DomainError) as exc:
        phone_code_send(phone="13912345678")
    assert exc.value.code == "too_soon"
    PhoneCode.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    for _ in range(4):
        phone_code_send(phone="13912345678")
        PhoneCode.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    with pytest.raises(DomainError) as exc:
        phone_code_send(phone="13912345678")
    assert exc.value.code == "too_many_codes"


def test_a_resident_signs_up_with_a_verified_number(db, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_send(phone="13912345678")
    user = resident_signup(
        phone="13912345678", code=sent_code(outbox), password="Neighbour-2026", name="李梅"
    )
    assert user.role == User.Role.RESIDENT and user.phone_masked == "139****5678"
    assert "13912345678" not in user.username
    assert AuditEvent.objects.filter(action="user.signup", actor=user).exists()


def test_sign_up_refuses_a_weak_password_before_using_the_code(
    db, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_send(phone="13912345678")
    with pytest.raises(DomainError) as exc:
        resident_signup(
            phone="13912345678", code=sent_code(outbox), password="password", name="李梅"
        )
    assert "password" in exc.value.fields
    assert PhoneCode.objects.get().used_at is None
    assert not User.objects.exists()
