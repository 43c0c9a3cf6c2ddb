"""Typed helpers that read settings from the environment and fail loudly on bad values.

Every variable read here is listed in docs/configuration.md and .env.example.
"""

import base64
import binascii
import os
from datetime import time

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_time_ranges(name: str, default: str) -> list[tuple[time, time]]:
    """Comma-separated "HH:MM-HH:MM" ranges within one day, in order and not overlapping
    (office hours: "08:30-12:00,13:30-17:30")."""
    value = os.environ.get(name, default)
    ranges: list[tuple[time, time]] = []
    for item in value.split(","):
        start_text, dash, end_text = item.strip().partition("-")
        try:
            if not dash:
                raise ValueError
            start = time.fromisoformat(start_text.strip())
            end = time.fromisoformat(end_text.strip())
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be ranges like 08:30-12:00,13:30-17:30, not {value!r}"
            ) from None
        if start >= end:
            raise ImproperlyConfigured(f"{name}: {item.strip()!r} must end after it starts")
        if ranges and start < ranges[-1][1]:
            raise ImproperlyConfigured(
                f"{name}: {item.strip()!r} must start after the range before it ends"
            )
        ranges.append((start, end))
    return ranges


def env_key(name: str, default: bytes | None) -> bytes:
    """A 32-byte key given as URL-safe base64 (what `manage.py generate_field_key` prints)."""
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set (run: manage.py generate_field_key)")
        return default
    return _decode_key(name, value)


def env_keys(name: str) -> list[bytes]:
    """A comma-separated list of 32-byte keys (URL-safe base64); empty when unset."""
    return [_decode_key(name, item) for item in env_list(name, [])]


def _decode_key(name: str, value: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.strip().encode())
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"{name} must be URL-safe base64") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must decode to 32 bytes, not {len(key)}")
    return key
