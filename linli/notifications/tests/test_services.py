import logging

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext

from linli.accounts.services import user_set_phone
from linli.accounts.sms import SmsBackend
from linli.notifications.models import Notification
from linli.notifications.services import (
    notification_read,
    notifications_read_all,
    notify,
    notify_many,
)

PARAMS = {"name": "王芳", "number": "C-2026-0001", "place": "城管"}


class FailingSms(SmsBackend):
    def send(self, phone: str, message: str) -> None:
        raise ConnectionError("the gateway is down")


class FailingEmail(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("no SMTP server")


@pytest.fixture
def people(resident, grid_worker, handler):
    resident.email = "resident@example.org"
    resident.save(update_fields=["email"])
    handler.email = "handler@example.org"
    handler.save(update_fields=["email"])
    user_set_phone(user=resident, phone="13812345678")
    return {"resident": resident, "grid_worker": grid_worker, "handler": handler}


# --- the in-app rows -----------------------------------------------------------------------


def test_it_writes_one_row_per_distinct_active_recipient(people, other_grid_worker):
    other_grid_worker.is_active = False
    other_grid_worker.save(update_fields=["is_active"])
    resident, worker = people["resident"], people["grid_worker"]

    rows = notify(
        [resident, worker, resident, None, other_grid_worker],
        kind="test_greeting",
        params=PARAMS,
        link="/cases/1/",
        object_ref="case:1",
    )

    assert len(rows) == 2 and all(r.pk for r in rows)
    stored = Notification.objects.order_by("recipient_id")
    assert [n.recipient for n in stored] == sorted([resident, worker], key=lambda u: u.pk)
    for n in stored:
        assert (n.kind, n.params, n.link, n.object_ref, n.read_at) == (
            "test_greeting",
            PARAMS,
            "/cases/1/",
            "case:1",
            None,
        )


def test_many_messages_of_one_kind_are_written_in_one_insert(
    people, django_assert_num_queries, django_capture_on_commit_callbacks
):
    resident, worker, handler = people["resident"], people["grid_worker"], people["handler"]
    items = [
        ([resident, worker], PARAMS | {"number": "C-1"}, "/cases/1/", "case:1", ()),
        ([handler], PARAMS | {"number": "C-2"}, "/cases/2/", "case:2", ()),
        ([], PARAMS, "/cases/3/", "case:3", ()),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        with django_assert_num_queries(1):
            rows = notify_many("test_greeting", items, email=True)
    assert len(rows) == 3
    got = {(n.recipient_id, n.params["number"], n.link) for n in Notification.objects.all()}
    assert got == {
        (resident.pk, "C-1", "/cases/1/"),
        (worker.pk, "C-1", "/cases/1/"),
        (handler.pk, "C-2", "/cases/2/"),
    }
    # Each message's email goes to its own recipients only.
    assert sorted(m.to[0] for m in mail.outbox) == ["handler@example.org", "resident@example.org"]


def test_it_takes_a_queryset_of_recipients(people, django_assert_num_queries):
    from linli.accounts.models import User

    with django_assert_num_queries(2):  # the users, then one INSERT for all the rows
        notify(User.objects.filter(role="resident"), kind="test_greeting", params=PARAMS)
    assert Notification.objects.get().recipient == people["resident"]


def test_the_rows_roll_back_with_the_callers_transaction(
    people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            notify([people["resident"]], kind="test_loud", params=PARAMS)
            raise RuntimeError("the case move failed")
    assert Notification.objects.count() == 0
    assert callbacks == [] and mail.outbox == []


def test_it_refuses_an_unknown_kind(people):
    with pytest.raises(ValueError, match="unknown notification kind"):
        notify([people["resident"]], kind="no_such_kind", params={})
    assert Notification.objects.count() == 0


@pytest.mark.parametrize("link", ["https://evil.example/", "//evil.example/", "cases/1/", "/\\x"])
def test_a_link_must_be_a_path_on_this_site(people, link):
    with pytest.raises(ValueError, match="path on this site"):
        notify([people["resident"]], kind="test_greeting", params=PARAMS, link=link)
    assert Notification.objects.count() == 0


# --- email ---------------------------------------------------------------------------------


def test_email_goes_out_only_after_the_commit(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(
            [people["resident"], people["grid_worker"], people["handler"]],
            kind="test_loud",
            params=PARAMS,
        )
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    # One message per address (no one sees the others'); the grid worker has none.
    assert sorted(m.to[0] for m in mail.outbox) == ["handler@example.org", "resident@example.org"]
    assert all(len(m.to) == 1 for m in mail.outbox)
    assert {m.subject for m in mail.outbox} == {"Alarm C-2026-0001"}
    assert {m.body for m in mail.outbox} == {"Go to 城管."}


def test_email_is_written_in_the_sites_language_not_the_callers(
    people, kinds, django_capture_on_commit_callbacks, settings
):
    from django.utils import translation
    from django.utils.translation import gettext as translated_now
    from django.utils.translation import gettext_lazy as translated_later

    # Django's own catalogue translates these, so the language shows without linli's.
    kinds.register_kind(
        "test_django_words", title=translated_later("Yes"), body=translated_later("No"), email=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        notify([people["resident"]], kind="test_django_words", params={})  # thread: English
    with translation.override(settings.LANGUAGE_CODE):
        expected = translated_now("Yes")
    assert expected != "Yes"
    assert [m.subject for m in mail.outbox] == [expected]


def test_email_carries_the_full_link_when_the_site_address_is_set(
    people, settings, django_capture_on_commit_callbacks
):
    settings.LINLI_SITE_URL = "https://linli.example.gov.cn/"
    with django_capture_on_commit_callbacks(execute=True):
        notify([people["resident"]], kind="test_loud", params=PARAMS, link="/cases/7/")
    assert mail.outbox[0].body == "Go to 城管.\n\nhttps://linli.example.gov.cn/cases/7/"


def test_no_email_for_a_kind_without_it_unless_asked(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify([people["resident"]], kind="test_greeting", params=PARAMS)
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        notify([people["resident"]], kind="test_greeting", params=PARAMS, email=True)
    assert [m.to for m in mail.outbox] == [["resident@example.org"]]


def test_the_caller_can_silence_a_kinds_email_and_sms(
    people, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify([people["resident"]], kind="test_loud", params=PARAMS, email=False, sms=False)
    assert callbacks == [] and mail.outbox == [] and sms_outbox == []
    assert Notification.objects.count() == 1


def test_a_failing_mail_server_is_logged_and_the_caller_goes_on(
    people, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "linli.notifications.tests.test_services.FailingEmail"
    with caplog.at_level(logging.ERROR, logger="linli.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            notify([people["resident"], people["handler"]], kind="test_loud", params=PARAMS)
    failures = [r for r in caplog.records if "email to user" in r.getMessage()]
    assert len(failures) == 2  # each address tried, each failure logged
    assert "example.org" not in caplog.text  # addresses are personal data
    assert Notification.objects.count() == 2


# --- SMS -----------------------------------------------------------------------------------


def sms_text(title: str, body: str) -> str:
    """A text as sent: title and body joined the way the site's language joins them."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("%(title)s: %(body)s") % {"title": title, "body": body}


def test_sms_goes_after_the_commit_to_users_phones_and_the_extra_numbers(
    people, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify(
            [people["resident"], people["grid_worker"]],
            kind="test_loud",
            params=PARAMS,
            # The resident's own number again, and a caller without an account.
            sms_phones=["138 1234 5678", "13987654321", ""],
        )
    assert sms_outbox == []
    for callback in callbacks:
        callback()
    text = sms_text("Alarm C-2026-0001", "Go to 城管.")
    assert sorted(sms_outbox) == [("+8613812345678", text), ("+8613987654321", text)]


def test_sms_only_when_the_kind_or_the_caller_asks(
    people, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            [people["resident"]], kind="test_greeting", params=PARAMS, sms_phones=["13987654321"]
        )
    assert sms_outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        notify([], kind="test_greeting", params=PARAMS, sms=True, sms_phones=["13987654321"])
    text = sms_text("Hello 王芳", "Case C-2026-0001 moved to 城管.")
    assert sms_outbox == [("+8613987654321", text)]


def test_a_number_that_takes_no_text_is_skipped_and_logged(
    people, sms_outbox, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.WARNING, logger="linli.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            notify([], kind="test_loud", params=PARAMS, sms_phones=["0546-8123456", "12345"])
    assert sms_outbox == []
    assert "is no mobile number" in caplog.text
    assert "8123456" not in caplog.text


def test_a_failing_sms_gateway_is_logged_and_the_caller_goes_on(
    people, settings, caplog, django_capture_on_commit_callbacks
):
    settings.LINLI_SMS_BACKEND = "linli.notifications.tests.test_services.FailingSms"
    with caplog.at_level(logging.ERROR, logger="linli.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            notify([people["resident"]], kind="test_loud", params=PARAMS)
    assert "SMS to user" in caplog.text and "gateway is down" in caplog.text
    assert "13812345678" not in caplog.text
    assert Notification.objects.count() == 1


def test_a_missing_sms_gateway_class_is_logged_too(
    people, settings, caplog, django_capture_on_commit_callbacks
):
    settings.LINLI_SMS_BACKEND = "linli.nowhere.Sms"
    with caplog.at_level(logging.ERROR, logger="linli.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            notify([people["resident"]], kind="test_loud", params=PARAMS)
    assert "SMS not prepared" in caplog.text


# --- reading -------------------------------------------------------------------------------


def test_reading_marks_ones_own_notification_and_keeps_the_first_time(people):
    resident = people["resident"]
    (row,) = notify([resident], kind="test_greeting", params=PARAMS)

    first = notification_read(user=resident, pk=row.pk)
    assert first.read_at is not None
    again = notification_read(user=resident, pk=row.pk)
    row.refresh_from_db()
    assert again.read_at == first.read_at == row.read_at


def test_nobody_reads_another_users_notification(people):
    (row,) = notify([people["resident"]], kind="test_greeting", params=PARAMS)
    assert notification_read(user=people["grid_worker"], pk=row.pk) is None
    row.refresh_from_db()
    assert row.read_at is None


def test_reading_all_marks_only_ones_own_unread(people):
    resident, worker = people["resident"], people["grid_worker"]
    notify([resident, worker], kind="test_greeting", params=PARAMS)
    notify([resident], kind="test_greeting", params=PARAMS)
    (already,) = notify([resident], kind="test_greeting", params=PARAMS)
    notification_read(user=resident, pk=already.pk)
    already.refresh_from_db()

    assert notifications_read_all(user=resident) == 2
    assert not Notification.objects.filter(recipient=resident, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=worker).read_at is None
    assert Notification.objects.get(pk=already.pk).read_at == already.read_at
