"""The kinds of notification and their messages.

A notification row stores a kind and the values that fill its message; the text comes
from here when the row is shown, so each reader sees it in their own language and a
corrected translation reaches old notifications too. Apps register their kinds when they
load (AppConfig.ready, or a module imported there):

    register_kind(
        "case_dispatched",
        title=_("Case %(number)s was sent to you"),
        body=_("%(title)s — reply by %(deadline)s."),
        sms=True,
    )
"""

import logging
import re
from dataclasses import dataclass

from django.utils.functional import Promise

logger = logging.getLogger("linli.notifications")

# The model's SlugField, no longer than its 40 characters.
KIND_NAME = re.compile(r"[-a-zA-Z0-9_]{1,40}")


@dataclass(frozen=True)
class Kind:
    name: str
    # gettext_lazy strings with %(name)s placeholders, filled from the row's params.
    title: str | Promise
    body: str | Promise
    # Channels besides the in-app list that this kind uses unless notify() says otherwise.
    email: bool = False
    sms: bool = False


_KINDS: dict[str, Kind] = {}


def register_kind(
    kind: str, *, title: str | Promise, body: str | Promise, email: bool = False, sms: bool = False
) -> Kind:
    """Registering a kind again replaces it (apps load once; tests may re-register)."""
    if not KIND_NAME.fullmatch(kind):
        raise ValueError(f"a notification kind is a slug of at most 40 characters, not {kind!r}")
    spec = Kind(name=kind, title=title, body=body, email=email, sms=sms)
    _KINDS[kind] = spec
    return spec


def get_kind(kind: str) -> Kind | None:
    return _KINDS.get(kind)


def _fill(message: str | Promise, params: dict) -> str | None:
    try:
        return str(message) % params
    except (KeyError, ValueError, TypeError):
        return None


def render(notification) -> tuple[str, str]:
    """(title, body) in the current language. Never raises: a page must open even for a
    row whose kind is gone or whose values no longer fit its message; such a row shows
    the kind's name (and no body) and is logged."""
    params = notification.params if isinstance(notification.params, dict) else {}
    spec = _KINDS.get(notification.kind)
    if spec is None:
        logger.warning(
            "notification %s has an unregistered kind %r", notification.pk, notification.kind
        )
        return notification.kind, ""
    title = _fill(spec.title, params)
    body = _fill(spec.body, params)
    if title is None or body is None:
        logger.warning(
            "notification %s: its values %r do not fill the messages of %r",
            notification.pk,
            sorted(params),
            notification.kind,
        )
    return title or notification.kind, body or ""
