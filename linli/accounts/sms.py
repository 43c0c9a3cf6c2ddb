"""Sending SMS codes. A gateway is a class with `send(phone, message)`; choose it with
LINLI_SMS_BACKEND. Development prints to the log; tests keep an outbox."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("linli.sms")


class SmsBackend:
    def send(self, phone: str, message: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    """For development only: writes the message, code included, to the log."""

    def send(self, phone: str, message: str) -> None:
        logger.warning("SMS to %s: %s", phone, message)


class LocmemSmsBackend(SmsBackend):
    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        LocmemSmsBackend.outbox.append((phone, message))


def get_sms_backend() -> SmsBackend:
    return import_string(settings.LINLI_SMS_BACKEND)()
