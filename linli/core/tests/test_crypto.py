from io import StringIO

import pytest
from cryptography.exceptions import InvalidTag

from linli.core.crypto import (
    blind_index,
    decrypt,
    encrypt,
    is_current,
    mask_id_number,
    mask_name,
    mask_phone,
)


def test_encrypted_values_round_trip_and_never_contain_the_plaintext():
    token = encrypt("13812345678", context="user.phone")
    assert "13812345678" not in token
    assert decrypt(token, context="user.phone") == "13812345678"


def test_the_same_value_encrypts_differently_each_time():
    assert encrypt("x", context="c") != encrypt("x", context="c")


def test_a_ciphertext_moved_to_another_column_does_not_decrypt():
    token = encrypt("370502199001011234", context="person.id_number")
    with pytest.raises(InvalidTag):
        decrypt(token, context="user.phone")


def test_the_blind_index_is_stable_keyed_and_separated_by_context():
    a = blind_index("13812345678", context="user.phone")
    assert a == blind_index("13812345678", context="user.phone")
    assert a != blind_index("13812345679", context="user.phone")
    assert a != blind_index("13812345678", context="person.phone")
    assert "13812345678" not in a


def test_it_changes_with_the_key(settings):
    before = blind_index("13812345678", context="user.phone")
    settings.LINLI_FIELD_KEY = bytes(32)
    assert blind_index("13812345678", context="user.phone") != before


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13812345678", "138****5678"), ("+8613812345678", "138****5678"), ("12345", "*****")],
)
def test_phones_are_masked_to_the_first_three_and_last_four(phone, masked):
    assert mask_phone(phone) == masked


def test_a_ciphertext_names_its_key_and_old_keys_still_decrypt(settings):
    old = bytes(range(32))
    settings.LINLI_FIELD_KEY = old
    settings.LINLI_FIELD_KEY_PREVIOUS = []
    token = encrypt("13812345678", context="user.phone")
    assert is_current(token)
    settings.LINLI_FIELD_KEY = bytes(range(1, 33))
    assert not is_current(token)
    with pytest.raises(ValueError, match="LINLI_FIELD_KEY_PREVIOUS"):
        decrypt(token, context="user.phone")
    settings.LINLI_FIELD_KEY_PREVIOUS = [old]
    assert decrypt(token, context="user.phone") == "13812345678"


def test_version_one_tokens_without_a_key_id_still_decrypt():
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from linli.core.crypto import _encryption_key

    nonce = os.urandom(12)
    sealed = AESGCM(_encryption_key()).encrypt(nonce, b"13812345678", b"user.phone")
    token = "v1:" + base64.urlsafe_b64encode(nonce + sealed).decode()
    assert decrypt(token, context="user.phone") == "13812345678"


@pytest.mark.django_db
def test_rotation_re_seals_every_field_and_lookups_follow_the_new_key(settings):
    from datetime import date

    from django.core.management import call_command

    from linli.accounts.models import User
    from linli.accounts.services import user_set_phone
    from linli.areas.models import Area
    from linli.core.crypto import blind_index
    from linli.people import selectors, services
    from linli.people.models import ID_NUMBER_CONTEXT, Resident
    from linli.people.validation import id_number_make

    district = Area.objects.create(level="district", code="370502", name="东营区")
    street = Area.objects.create(level="street", code="370502003", name="街道", parent=district)
    community = Area.objects.create(
        level="community", code="370502003001", name="社区", parent=street
    )
    grid = Area.objects.create(level="grid", code="370502003001001", name="网格", parent=community)
    admin = User.objects.create(username="root", role="admin")
    user_set_phone(user=admin, phone="13700001111")
    home = services.household_create(
        actor=admin, grid=grid, address="路1号", tenure="owned", registration="registered"
    )
    number = id_number_make("370502", date(1990, 1, 2), 15)
    person = services.resident_create(
        actor=admin, household=home, name="王一", relation="head", id_number=number,
        phone="13800002222",
    )  # fmt: skip
    old_key = settings.LINLI_FIELD_KEY
    settings.LINLI_FIELD_KEY = bytes(range(32))
    settings.LINLI_FIELD_KEY_PREVIOUS = [old_key]
    # Before rotation the blind index still carries the old key: an exact lookup misses.
    assert not Resident.objects.filter(
        id_number_index=blind_index(number, context=ID_NUMBER_CONTEXT)
    ).exists()
    call_command("rotate_field_key", stdout=StringIO())
    person.refresh_from_db()
    assert is_current(person.id_number_encrypted) and is_current(person.phone_encrypted)
    assert list(selectors.resident_list_for(viewer=admin, q=number)) == [person]
    assert list(selectors.resident_list_for(viewer=admin, q="13800002222")) == [person]
    admin.refresh_from_db()
    assert is_current(admin.phone_encrypted)
    # Once rotated, the old key is no longer needed.
    settings.LINLI_FIELD_KEY_PREVIOUS = []
    assert decrypt(person.id_number_encrypted, context=ID_NUMBER_CONTEXT) == number
    out = StringIO()
    call_command("rotate_field_key", stdout=out)
    assert "0 re-encrypted" in out.getvalue()


@pytest.mark.parametrize(
    ("number", "masked"),
    [("370502195003010110", "370502********0110"), ("123", "***")],
)
def test_id_numbers_keep_the_area_code_and_the_last_four(number, masked):
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("张建国", "张*国"), ("欧阳小明", "欧**明"), ("", "")]
)
def test_names_keep_the_first_and_last_character(name, masked):
    assert mask_name(name) == masked
