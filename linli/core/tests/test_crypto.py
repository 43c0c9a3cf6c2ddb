import pytest
from cryptography.exceptions import InvalidTag

from linli.core.crypto import blind_index, decrypt, encrypt, mask_phone


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
