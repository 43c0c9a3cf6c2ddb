"""Writes for notifications: `notify` (the one way any app tells people something; and
`notify_many`, the same for many messages of one kind at once) and marking notifications
read."""

import logging
from collections.abc import Iterable
from functools import partial

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.accounts.backends import PHONE_CONTEXT, normalise_phone
from linli.accounts.sms import get_sms_backend
from linli.core.crypto import decrypt, mask_phone
from linli.notifications.models import Notification
from linli.notifications.registry import get_kind, render

# Log lines name users by id and mask numbers: addresses and phones are personal data.
logger = logging.getLogger("linli.notifications")


def _check_link(link: str) -> None:
    # The list page sends the reader on to the link: only a path on this site will do.
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise ValueError(f"a notification link is a path on this site, not {link!r}")


def notify(
    recipients: Iterable,
    *,
    kind: str,
    params: dict | None = None,
    link: str = "",
    object_ref: str = "",
    email: bool | None = None,
    sms: bool | None = None,
    sms_phones: Iterable[str] = (),
) -> list[Notification]:
    """Tell each distinct active user in `recipients` (users, or a queryset of them) about
    something of registered `kind`: one in-app row each, written in the caller's
    transaction. Email and SMS go out only after that transaction commits, and only when
    the kind asks for them or `email` / `sms` say so; `sms_phones` are further numbers to
    text (someone without an account). A failing gateway is logged, never raised."""
    return notify_many(
        kind, [(recipients, params, link, object_ref, sms_phones)], email=email, sms=sms
    )


def notify_many(
    kind: str, items: Iterable[tuple], *, email: bool | None = None, sms: bool | None = None
) -> list[Notification]:
    """`notify` for many messages of one kind at once — (recipients, params, link,
    object_ref, sms_phones) each — with every in-app row written in one statement (the SLA
    sweep tells thousands of departments at a time)."""
    spec = get_kind(kind)
    if spec is None:
        raise ValueError(f"unknown notification kind {kind!r}: register it first")
    now = timezone.now()
    rows, messages = [], []
    for recipients, params, link, object_ref, sms_phones in items:
        _check_link(link)
        params = dict(params or {})
        users = list({u.pk: u for u in recipients if u is not None and u.is_active}.values())
        rows.extend(
            Notification(
                recipient=user,
                kind=kind,
                params=params,
                link=link,
                object_ref=object_ref,
                created_at=now,
            )
            for user in users
        )
        messages.append((Notification(kind=kind, params=params, link=link), users, sms_phones))
    rows = Notification.objects.bulk_create(rows)
    for message, users, sms_phones in messages:
        if spec.email if email is None else email:
            addresses = [(u.pk, u.email) for u in users if u.email]
            if addresses:
                transaction.on_commit(partial(_send_emails, message, addresses))
        if spec.sms if sms is None else sms:
            sealed = [(u.pk, u.phone_encrypted) for u in users if u.phone_encrypted]
            plain = _mobiles(sms_phones, kind)
            if sealed or plain:
                transaction.on_commit(partial(_send_sms, message, sealed, plain))
    return rows


def _mobiles(phones: Iterable[str], kind: str) -> list[str]:
    """The numbers that can take a text, in the E.164 form users' phones are stored in, so
    that a number given twice (or also a recipient's) is texted once."""
    mobiles = set()
    for raw in phones:
        if not raw or not raw.strip():
            continue
        phone = normalise_phone(raw)
        if phone is None:
            logger.warning("notification %r: %s is no mobile number", kind, mask_phone(raw))
        else:
            mobiles.add(phone)
    return sorted(mobiles)


def _absolute(link: str) -> str:
    base = getattr(settings, "LINLI_SITE_URL", "")
    return f"{base.rstrip('/')}{link}" if base and link else ""


def _send_emails(message: Notification, addresses: list[tuple[int, str]]) -> None:
    """One email per address, so that no recipient sees the others'."""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            title, body = render(message)
            url = _absolute(message.link)
            text = "\n\n".join(part for part in (body or title, url) if part)
        connection = get_connection()
    except Exception:
        logger.exception("notification %r: email not prepared", message.kind)
        return
    for user_id, address in addresses:
        try:
            send_mail(title, text, None, [address], connection=connection)
        except Exception:
            logger.exception("notification %r: email to user %s failed", message.kind, user_id)


def _send_sms(message: Notification, sealed: list[tuple[int, str]], plain: list[str]) -> None:
    # phone → whom to name in the log; a number given twice is texted once.
    phones = {phone: f"number {mask_phone(phone)}" for phone in plain}
    for user_id, token in sealed:
        try:
            phones[decrypt(token, context=PHONE_CONTEXT)] = f"user {user_id}"
        except Exception:
            logger.exception(
                "notification %r: user %s's phone does not decrypt", message.kind, user_id
            )
    try:
        with translation.override(settings.LANGUAGE_CODE):
            title, body = render(message)
            text = _("%(title)s: %(body)s") % {"title": title, "body": body} if body else title
            url = _absolute(message.link)
            text = f"{text} {url}" if url else text
        backend = get_sms_backend()
    except Exception:
        logger.exception("notification %r: SMS not prepared", message.kind)
        return
    for phone, whom in sorted(phones.items()):
        try:
            backend.send(phone, text)
        except Exception:
            logger.exception("notification %r: SMS to %s failed", message.kind, whom)


def notification_read(*, user, pk: int) -> Notification | None:
    """Mark one of `user`'s notifications read (the first reading time stays); None when
    `user` has no notification `pk`, whoever else may have it."""
    notification = Notification.objects.filter(recipient=user, pk=pk).first()
    if notification is None:
        return None
    if notification.read_at is None:
        notification.read_at = timezone.now()
        # Conditional, so that two tabs reading at once keep the first time.
        Notification.objects.filter(pk=pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_read_all(*, user) -> int:
    """Mark every unread notification of `user` read; returns how many were unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
