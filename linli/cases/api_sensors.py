"""POST /api/v1/sensors/alarms: a networked device files an alarm as a case.

The device sends its own key in `X-Device-Key` (not a user's bearer token: a smoke
detector has no account). An unknown or revoked key answers 401 and writes nothing; each
device may send ALARM_RATE alarms, then 429 with Retry-After. The work is in
linli.cases.intake.sensors.
"""

from datetime import datetime

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage
from ninja import Router, Schema, Status
from ninja.security import APIKeyHeader
from pydantic import Field

from linli.cases.intake import sensors
from linli.core.schemas import ErrorOut

# Per device: a real detector sends a handful an hour; a faulty one must not flood the queue.
ALARM_RATE = "60/m"


class DeviceKeyRefused(Exception):
    """Answered 401 in the API's error shape (linli/api.py)."""


class DeviceKey(APIKeyHeader):
    param_name = "X-Device-Key"

    def authenticate(self, request, key):
        device = sensors.sensor_device_for_key(key)
        if device is None:
            raise DeviceKeyRefused(_("Unknown or revoked device key."))
        return device


router = Router(tags=["sensors"], auth=DeviceKey())


class AlarmIn(Schema):
    alarm_id: str = Field(
        min_length=1, max_length=64, description="The device's id of this alarm; sent again, "
        "it files nothing new"
    )  # fmt: skip
    kind: str = Field("", max_length=40, description="e.g. smoke, test, low_battery")
    message: str = Field("", max_length=500)
    at: datetime | None = Field(None, description="When it went off (ISO 8601); default: now")
    lon: float | None = Field(None, description="WGS-84; default: the device's place")
    lat: float | None = None


class AlarmOut(Schema):
    number: str = Field(description="The case's number")
    duplicate: bool = Field(description="True when this alarm had already filed the case")


def _device_key(group, request) -> str:
    return f"device:{request.auth.pk}"


@router.post(
    "/alarms",
    response={200: AlarmOut, 201: AlarmOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut},
    summary="File a sensor alarm as a case (authenticated by X-Device-Key)",
)
def alarm_create(request, payload: AlarmIn):
    usage = get_usage(
        request, group="sensors.alarm", key=_device_key, rate=ALARM_RATE, increment=True
    )
    if usage and usage["should_limit"]:
        message = _("Too many alarms from this device; wait a minute and send again.")
        response = JsonResponse(
            {"code": "rate_limited", "message": message, "fields": {}}, status=429
        )
        response["Retry-After"] = str(max(1, usage["time_left"]))
        return response
    case, created = sensors.sensor_alarm_receive(device=request.auth, **payload.dict())
    return Status(201 if created else 200, {"number": case.number, "duplicate": not created})
