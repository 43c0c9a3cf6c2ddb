import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from linli.env import env_bool, env_int, env_key, env_list, env_str


def test_a_missing_required_string_stops_the_start(monkeypatch):
    monkeypatch.delenv("LINLI_X", raising=False)
    with pytest.raises(ImproperlyConfigured, match="LINLI_X must be set"):
        env_str("LINLI_X")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False)])
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("LINLI_X", raw)
    assert env_bool("LINLI_X", not expected) is expected


def test_a_boolean_typo_is_refused_rather_than_read_as_false(monkeypatch):
    monkeypatch.setenv("LINLI_X", "ture")
    with pytest.raises(ImproperlyConfigured, match="boolean"):
        env_bool("LINLI_X", False)


def test_integers_are_checked_for_form_and_minimum(monkeypatch):
    monkeypatch.setenv("LINLI_X", "thirty")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("LINLI_X", 1)
    monkeypatch.setenv("LINLI_X", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("LINLI_X", 1, minimum=1)


def test_lists_are_split_on_commas_and_trimmed(monkeypatch):
    monkeypatch.setenv("LINLI_X", " a.example , b.example,,")
    assert env_list("LINLI_X", []) == ["a.example", "b.example"]


def test_a_field_key_must_be_32_bytes_of_base64(monkeypatch):
    monkeypatch.setenv("LINLI_X", base64.urlsafe_b64encode(b"short").decode())
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        env_key("LINLI_X", None)
    monkeypatch.setenv("LINLI_X", "not base64 at all!")
    with pytest.raises(ImproperlyConfigured):
        env_key("LINLI_X", None)
    key = bytes(range(32))
    monkeypatch.setenv("LINLI_X", base64.urlsafe_b64encode(key).decode())
    assert env_key("LINLI_X", None) == key
