"""Networked sensors (smoke detectors in the homes of old people living alone, water-level
gauges…) that file alarms as cases through `POST /api/v1/sensors/alarms`.

A device proves itself with its own key, shown once when the device is registered
(`manage.py sensor_device create` or the admin); only the key's SHA-256 is stored. Every
alarm becomes an urgent case of the device's matter at the device's place, through
case_services.case_report(source="sensor"); the alarm's id, prefixed with the device's
code, is its external_ref, so a device that sends the same alarm again (it did not hear
the answer) files nothing new.
"""

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.areas import geo
from linli.cases.case_services import EXTERNAL_REF_MAX, _coordinate, case_report
from linli.cases.models import ADDRESS_MAX, Case, Matter, SensorDevice, Source, Urgency
from linli.core.errors import DomainError

# Short enough that "<code>:" leaves room in an external_ref for a long alarm id's digest.
CODE_MAX = 32
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
NAME_MAX = 100
ALARM_ID_MAX = 64
KIND_MAX = 40
MESSAGE_MAX = 500
# A device's clock may run a little ahead; an alarm from further in the future is refused.
FUTURE_TOLERANCE = timedelta(minutes=5)
KEY_PREFIX_LENGTH = 8


def _invalid(fields: dict[str, list[str]]) -> DomainError:
    return DomainError("invalid", _("Please correct the marked fields."), fields)


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def key_new() -> tuple[str, str, str]:
    """A fresh key (a sensor device's, an Open311 client's): (the key, its SHA-256, its
    first characters for the admin list). Never starting with "-", so that the key or its
    first characters can be given to a command (`open311_key revoke <start>`) as they are."""
    raw = "-"
    while raw.startswith("-"):
        raw = secrets.token_urlsafe(32)
    return raw, key_hash(raw), raw[:KEY_PREFIX_LENGTH]


# --- devices ---------------------------------------------------------------------------------


def sensor_device_check(
    *, code: str, name: str, matter: Matter | None, lon, lat, address: str = "", device=None
) -> dict:
    """The device's values, cleaned, or DomainError with every problem: the code is unique,
    the matter active, the place inside a grid of the street (alarms are placed there)."""
    fields: dict[str, list[str]] = {}
    code = (code or "").strip()
    if not code:
        fields["code"] = [_("Give the device a code.")]
    elif len(code) > CODE_MAX:
        fields["code"] = [_("At most %(n)d characters.") % {"n": CODE_MAX}]
    elif not CODE_PATTERN.match(code):
        fields["code"] = [_("Use letters, digits, “-”, “_” and “.” only.")]
    elif SensorDevice.objects.filter(code=code).exclude(pk=getattr(device, "pk", None)).exists():
        fields["code"] = [_("A device with this code exists.")]
    name = (name or "").strip()
    if not name:
        fields["name"] = [_("Give the device a name, e.g. where it hangs.")]
    elif len(name) > NAME_MAX:
        fields["name"] = [_("At most %(n)d characters.") % {"n": NAME_MAX}]
    if matter is None:
        fields["matter"] = [_("Choose the matter its alarms are about.")]
    elif not matter.is_active:
        fields["matter"] = [_("This matter is no longer in use; please choose another.")]
    address = (address or "").strip()
    if len(address) > ADDRESS_MAX:
        fields["address"] = [_("At most %(n)d characters.") % {"n": ADDRESS_MAX}]
    x, y = _coordinate(lon), _coordinate(lat)
    if x is None or y is None:
        fields["lon"] = fields["lat"] = [_("Give the place as longitude and latitude.")]
    elif not geo.in_china(x, y):
        message = _("This point is not in China; are longitude and latitude swapped?")
        fields["lon"] = fields["lat"] = [message]
    elif geo.locate(x, y) is None:
        message = _("This point is outside every grid of the street.")
        fields["lon"] = fields["lat"] = [message]
    if fields:
        raise _invalid(fields)
    return {"code": code, "name": name, "matter": matter, "lon": x, "lat": y, "address": address}


def sensor_device_key_set(device: SensorDevice) -> str:
    """Give an unsaved device a fresh key; returns the key, which is stored nowhere."""
    raw, digest, prefix = key_new()
    device.key_hash = digest
    device.key_prefix = prefix
    return raw


@transaction.atomic
def sensor_device_create(
    *, code: str, name: str, matter: Matter | None, lon, lat, address: str = ""
) -> tuple[SensorDevice, str]:
    """Register a device; returns it and its key, which is shown this once and stored only
    as its SHA-256."""
    values = sensor_device_check(
        code=code, name=name, matter=matter, lon=lon, lat=lat, address=address
    )
    device = SensorDevice(**values)
    raw = sensor_device_key_set(device)
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError:
        # The same code registered at the same instant: the unique index decides.
        message = _("A device with this code exists.")
        raise _invalid({"code": [message]}) from None
    return device, raw


def sensor_device_revoke(*, device: SensorDevice) -> SensorDevice:
    """Stop accepting the device's key: its alarms are refused from now on."""
    if device.is_active:
        device.is_active = False
        device.save(update_fields=["is_active"])
    return device


def sensor_device_for_key(raw: str | None) -> SensorDevice | None:
    """The active device holding key `raw`, or None. Devices are found by the key's first
    characters (not secret: the admin shows them), then the SHA-256 is compared in
    constant time, so that the answer's timing tells nothing about the rest of the key."""
    if not raw or len(raw) > 200:
        return None
    digest = key_hash(raw)
    found = None
    candidates = SensorDevice.objects.select_related("matter").filter(
        key_prefix=raw[:KEY_PREFIX_LENGTH]
    )
    for device in candidates:
        if hmac.compare_digest(device.key_hash, digest):
            found = device
    if found is None or not found.is_active:
        return None
    return found


# --- alarms ----------------------------------------------------------------------------------


def alarm_ref(device: SensorDevice, alarm_id: str) -> str:
    """The case's external_ref for an alarm: "<device code>:<alarm id>", with a digest of
    the id instead when both do not fit in the column."""
    ref = f"{device.code}:{alarm_id}"
    if len(ref) <= EXTERNAL_REF_MAX:
        return ref
    digest = hashlib.sha256(alarm_id.encode()).hexdigest()
    return f"{device.code}:#{digest[: EXTERNAL_REF_MAX - len(device.code) - 2]}"


def _alarm_text(value, field: str, limit: int, fields: dict) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        fields[field] = [_("At most %(n)d characters.") % {"n": limit}]
    return text


def _description(device: SensorDevice, kind: str, message: str) -> str:
    # Built from the device's own words only: the case is read in the street's language,
    # whatever language the device's request asked for.
    head = f"{device.name} [{kind}]" if kind else device.name
    return f"{head}: {message}" if message else head


def sensor_alarm_receive(
    *,
    device: SensorDevice,
    alarm_id: str,
    kind: str = "",
    message: str = "",
    at: datetime | None = None,
    lon: float | None = None,
    lat: float | None = None,
    now: datetime | None = None,
) -> tuple[Case, bool]:
    """File an alarm of `device` as an urgent case of its matter, at its place unless the
    alarm gives one; returns (case, created). The same alarm again files nothing and
    returns the first case. Either way the device's last_seen_at moves to now."""
    now = now or timezone.now()
    fields: dict[str, list[str]] = {}
    alarm_id = _alarm_text(alarm_id, "alarm_id", ALARM_ID_MAX, fields)
    if not alarm_id and "alarm_id" not in fields:
        fields["alarm_id"] = [_("Give the alarm's id.")]
    kind = _alarm_text(kind, "kind", KIND_MAX, fields)
    message = _alarm_text(message, "message", MESSAGE_MAX, fields)
    if at is not None:
        if timezone.is_naive(at):
            at = timezone.make_aware(at, timezone.get_default_timezone())
        if at > now + FUTURE_TOLERANCE:
            fields["at"] = [
                _("This time is more than %(n)d minutes ahead; check the device's clock.")
                % {"n": FUTURE_TOLERANCE.seconds // 60}
            ]
    if (lon is None) != (lat is None):
        fields["lon"] = fields["lat"] = [_("Give both longitude and latitude, or neither.")]
    if fields:
        raise _invalid(fields)
    SensorDevice.objects.filter(pk=device.pk).update(last_seen_at=now)
    ref = alarm_ref(device, alarm_id)
    existing = Case.objects.filter(source=Source.SENSOR, external_ref=ref).first()
    if existing is not None:
        return existing, False
    try:
        case = case_report(
            matter=device.matter,
            description=_description(device, kind, message),
            lon=device.lon if lon is None else lon,
            lat=device.lat if lat is None else lat,
            source=Source.SENSOR,
            reporter=None,
            address=device.address,
            urgency=Urgency.URGENT,
            external_ref=ref,
            at=at or now,
        )
    except DomainError as error:
        # The same alarm sent twice at the same instant: the unique index let one in.
        existing = Case.objects.filter(source=Source.SENSOR, external_ref=ref).first()
        if existing is not None and "external_ref" in error.fields:
            return existing, False
        raise
    return case, True
