import logging

import pytest
from django.utils import translation

# An alias that makemessages does not read: these strings are Django's own, already in
# its Chinese catalogue, and must not enter linli's.
from django.utils.translation import gettext as translated_now
from django.utils.translation import gettext_lazy as translated_later

from linli.notifications.models import Notification
from linli.notifications.registry import get_kind, register_kind, render

PARAMS = {"name": "王芳", "number": "C-2026-0001", "place": "城管"}


def test_it_fills_the_message_from_the_rows_values():
    row = Notification(kind="test_greeting", params=PARAMS)
    assert render(row) == ("Hello 王芳", "Case C-2026-0001 moved to 城管.")


def test_it_fills_the_message_in_chinese_too():
    # The test kind has no translation, so Chinese shows the source text: what is tested is
    # that rendering under zh-hans substitutes the values all the same.
    row = Notification(kind="test_greeting", params=PARAMS)
    with translation.override("zh-hans"):
        assert render(row) == ("Hello 王芳", "Case C-2026-0001 moved to 城管.")


def test_it_renders_in_the_language_of_the_moment_not_of_registration():
    register_kind("test_lazy", title=translated_later("Yes"), body=translated_later("No"))
    row = Notification(kind="test_lazy", params={})
    with translation.override("en"):
        assert render(row) == ("Yes", "No")
    with translation.override("zh-hans"):
        chinese = (translated_now("Yes"), translated_now("No"))
        assert chinese != ("Yes", "No")
        assert render(row) == chinese


@pytest.mark.parametrize(
    "params",
    [{}, {"number": "C-2026-0001"}, None, ["王芳"], "王芳"],
    ids=["none", "others", "null", "a list", "a string"],
)
def test_values_that_do_not_fill_the_message_fall_back_to_the_kind_name(params, caplog):
    row = Notification(kind="test_greeting", params=params)
    with caplog.at_level(logging.WARNING, logger="linli.notifications"):
        assert render(row) == ("test_greeting", "")
    assert "test_greeting" in caplog.text


def test_a_title_that_fills_is_kept_when_the_body_does_not():
    row = Notification(kind="test_greeting", params={"name": "王芳"})
    assert render(row) == ("Hello 王芳", "")


def test_a_kind_no_longer_registered_shows_its_name():
    assert render(Notification(kind="gone_kind", params=PARAMS)) == ("gone_kind", "")


def test_a_stray_percent_sign_does_not_break_the_page():
    register_kind("test_percent", title="100% done", body="%(name)s at 50%")
    assert render(Notification(kind="test_percent", params={"name": "x"})) == ("test_percent", "")


def test_registering_again_replaces_the_kind():
    register_kind("test_greeting", title="Hi %(name)s", body="", sms=True)
    assert get_kind("test_greeting").sms is True
    assert render(Notification(kind="test_greeting", params=PARAMS))[0] == "Hi 王芳"


@pytest.mark.parametrize("name", ["", "case.dispatched", "two words", "x" * 41])
def test_a_kind_name_must_be_a_short_slug(name):
    with pytest.raises(ValueError):
        register_kind(name, title="t", body="b")
