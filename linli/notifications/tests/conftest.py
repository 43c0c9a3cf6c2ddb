"""Notification kinds of the tests' own, registered for one test at a time. Their strings
are plain (not marked for translation) so that they stay out of the catalogues."""

import pytest
from django.conf import settings
from django.utils import translation

from linli.accounts.sms import LocmemSmsBackend
from linli.notifications import registry


@pytest.fixture(autouse=True)
def english(client):
    """Tests read English (the language cookie for pages, the thread for services), as in
    linli/people/tests/conftest.py; tests of the Chinese path say so."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def kinds(monkeypatch):
    """A registry holding the apps' kinds plus these, restored after the test."""
    monkeypatch.setattr(registry, "_KINDS", dict(registry._KINDS))
    registry.register_kind(
        "test_greeting", title="Hello %(name)s", body="Case %(number)s moved to %(place)s."
    )
    registry.register_kind(
        "test_loud", title="Alarm %(number)s", body="Go to %(place)s.", email=True, sms=True
    )
    return registry


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.LINLI_SMS_BACKEND = "linli.accounts.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def bearer(db):
    from linli.accounts.services import api_token_issue

    def make(user):
        _token, raw = api_token_issue(user=user)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return make
