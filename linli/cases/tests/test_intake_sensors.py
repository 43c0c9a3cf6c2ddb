"""Sensor alarms (linli/cases/intake/sensors.py, POST /api/v1/sensors/alarms): a smoke
detector in the home of an old person living alone, registered on the shared test street
with the shipped matter 11016 烟感报警."""

import hashlib
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from linli.cases import api_sensors
from linli.cases.intake import sensors
from linli.cases.models import Case, Matter, SensorDevice
from linli.core.errors import DomainError

SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_G11 = (118.605, 37.405)
IN_G12 = (118.615, 37.405)
URL = "/api/v1/sensors/alarms"


@pytest.fixture(autouse=True)
def english_requests(client):
    # Requests take their language from the cookie, not from the test's thread.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # django-ratelimit counts in the cache, which outlives a test's database.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def smoke(catalogue, street):
    return Matter.objects.get(code="11016")


@pytest.fixture
def device(smoke):
    device, key = sensors.sensor_device_create(
        code="YG-0001",
        name="胜园社区3号楼2单元301烟感",
        matter=smoke,
        lon=IN_G11[0],
        lat=IN_G11[1],
        address="济南路12号3号楼2单元301室",
    )
    device.key = key
    return device


def post(client, body: dict, key: str | None):
    headers = {"HTTP_X_DEVICE_KEY": key} if key is not None else {}
    return client.post(URL, body, content_type="application/json", **headers)


def test_an_alarm_files_an_urgent_case_of_the_devices_matter_at_its_place(client, device, street):
    at = timezone.now() - timedelta(minutes=1)
    response = post(
        client,
        {"alarm_id": "A-1", "kind": "smoke", "message": "烟雾浓度超标", "at": at.isoformat()},
        device.key,
    )

    assert response.status_code == 201, response.json()
    case = Case.objects.get()
    assert response.json() == {"number": case.number, "duplicate": False}
    assert (case.source, case.matter.code, case.urgency) == ("sensor", "11016", "urgent")
    assert case.external_ref == "YG-0001:A-1"
    assert case.description == "胜园社区3号楼2单元301烟感 [smoke]: 烟雾浓度超标"
    assert case.address == "济南路12号3号楼2单元301室"
    assert (case.lon, case.lat, case.grid) == (*IN_G11, street["g11"])
    assert case.reported_at == at and case.reporter is None and case.status == "reported"
    assert case.events.get().action == "report"
    device.refresh_from_db()
    assert device.last_seen_at is not None
    assert timezone.now() - device.last_seen_at < timedelta(seconds=30)


def test_an_alarm_may_give_its_own_place_and_defaults_to_now(client, device, street):
    response = post(client, {"alarm_id": "A-2", "lon": IN_G12[0], "lat": IN_G12[1]}, device.key)
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.grid == street["g12"] and case.description == "胜园社区3号楼2单元301烟感"
    assert timezone.now() - case.reported_at < timedelta(seconds=30)


def test_the_same_alarm_again_files_nothing_and_answers_with_the_first_case(client, device):
    first = post(client, {"alarm_id": "A-1"}, device.key)
    again = post(client, {"alarm_id": "A-1", "message": "repeat"}, device.key)

    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == {"number": first.json()["number"], "duplicate": True}
    assert Case.objects.count() == 1
    assert Case.objects.get().description == "胜园社区3号楼2单元301烟感"


def test_the_same_alarm_id_from_another_device_is_another_alarm(client, device, smoke):
    other, key = sensors.sensor_device_create(
        code="YG-0002", name="4号楼烟感", matter=smoke, lon=IN_G11[0], lat=IN_G11[1]
    )
    assert post(client, {"alarm_id": "A-1"}, device.key).status_code == 201
    assert post(client, {"alarm_id": "A-1"}, key).status_code == 201
    assert set(Case.objects.values_list("external_ref", flat=True)) == {
        "YG-0001:A-1",
        "YG-0002:A-1",
    }


def test_a_long_alarm_id_is_kept_apart_by_its_digest(client, device):
    long_id = "x" * 64
    assert post(client, {"alarm_id": long_id}, device.key).status_code == 201
    assert post(client, {"alarm_id": long_id}, device.key).json()["duplicate"] is True
    assert post(client, {"alarm_id": "x" * 63 + "y"}, device.key).status_code == 201
    refs = list(Case.objects.values_list("external_ref", flat=True))
    assert len(refs) == 2 and all(len(r) <= 64 and r.startswith("YG-0001:#") for r in refs)


@pytest.mark.parametrize(
    "key",
    [None, "", "not-a-key", "wrong-key-of-the-right-length-0123456789abcdef"],
    ids=["missing", "empty", "unknown", "unknown-long"],
)
def test_a_wrong_key_is_refused_and_nothing_is_written(client, device, key):
    response = post(client, {"alarm_id": "A-1"}, key)
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthenticated",
        "message": "Unknown or revoked device key.",
        "fields": {},
    }
    assert not Case.objects.exists()
    device.refresh_from_db()
    assert device.last_seen_at is None


def test_a_key_with_the_right_prefix_but_the_wrong_rest_is_refused(client, device):
    forged = device.key[:8] + "A" * (len(device.key) - 8)
    assert post(client, {"alarm_id": "A-1"}, forged).status_code == 401
    assert not Case.objects.exists()


def test_a_revoked_device_is_refused(client, device):
    sensors.sensor_device_revoke(device=device)
    response = post(client, {"alarm_id": "A-1"}, device.key)
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    assert not Case.objects.exists()


def test_an_alarm_from_the_future_is_refused(client, device):
    ahead = timezone.now() + timedelta(minutes=6)
    response = post(client, {"alarm_id": "A-1", "at": ahead.isoformat()}, device.key)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and list(body["fields"]) == ["at"]
    assert "ahead" in body["fields"]["at"][0]
    assert not Case.objects.exists()
    # A clock a few minutes fast is tolerated.
    nearly = timezone.now() + timedelta(minutes=4)
    assert (
        post(client, {"alarm_id": "A-2", "at": nearly.isoformat()}, device.key).status_code == 201
    )


def test_a_naive_time_is_beijing_time(client, device):
    response = post(client, {"alarm_id": "A-1", "at": "2026-05-01T08:00:00"}, device.key)
    assert response.status_code == 201
    assert Case.objects.get().reported_at == datetime(2026, 5, 1, 8, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "alarm_id"),
        ({"alarm_id": ""}, 422, "alarm_id"),
        ({"alarm_id": "x" * 65}, 422, "alarm_id"),
        ({"alarm_id": "A-1", "at": "yesterday"}, 422, "at"),
        ({"alarm_id": "A-1", "lon": 118.6}, 400, "lon"),
        ({"alarm_id": "A-1", "lon": 118.70, "lat": 37.405}, 400, "lon"),
    ],
    ids=["no-id", "empty-id", "long-id", "bad-time", "lon-alone", "outside-the-street"],
)
def test_a_bad_body_is_refused_with_its_field(client, device, body, status, field):
    response = post(client, body, device.key)
    assert response.status_code == status, response.json()
    assert field in response.json()["fields"]
    assert not Case.objects.exists()


def test_a_device_that_sends_too_many_alarms_is_told_to_wait(client, device, smoke, monkeypatch):
    monkeypatch.setattr(api_sensors, "ALARM_RATE", "2/m")
    assert post(client, {"alarm_id": "A-1"}, device.key).status_code == 201
    assert post(client, {"alarm_id": "A-2"}, device.key).status_code == 201

    response = post(client, {"alarm_id": "A-3"}, device.key)

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Case.objects.count() == 2
    # The limit is the device's own: another device still gets through.
    _other, key = sensors.sensor_device_create(
        code="YG-0002", name="4号楼烟感", matter=smoke, lon=IN_G11[0], lat=IN_G11[1]
    )
    assert post(client, {"alarm_id": "A-3"}, key).status_code == 201


def test_the_real_limit_is_sixty_alarms_a_minute():
    assert api_sensors.ALARM_RATE == "60/m"


# --- devices ---------------------------------------------------------------------------------


def test_only_the_keys_hash_is_stored(device):
    stored = SensorDevice.objects.filter(pk=device.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(device.key.encode()).hexdigest()
    assert stored["key_prefix"] == device.key[:8]
    assert device.key not in {str(v) for v in stored.values()}
    assert len(device.key) >= 40


def test_a_device_needs_a_fresh_code_an_active_matter_and_a_place_in_a_grid(device, smoke):
    with pytest.raises(DomainError) as caught:
        sensors.sensor_device_create(code="YG-0001", name="", matter=None, lon=118.70, lat=37.405)
    assert set(caught.value.fields) == {"code", "name", "matter", "lon", "lat"}
    assert caught.value.fields["code"] == ["A device with this code exists."]
    smoke.is_active = False
    smoke.save()
    with pytest.raises(DomainError) as caught:
        sensors.sensor_device_create(
            code="YG:9", name="x", matter=smoke, lon=IN_G11[0], lat=IN_G11[1]
        )
    assert set(caught.value.fields) == {"code", "matter"}
    assert SensorDevice.objects.count() == 1


def test_the_command_registers_lists_and_revokes_devices(client, smoke):
    out = io.StringIO()
    call_command(
        "sensor_device",
        "create",
        "--code=YG-0100",
        "--name=独居老人王芳家烟感",
        "--matter=11016",
        f"--lon={IN_G11[0]}",
        f"--lat={IN_G11[1]}",
        "--address=济南路1号",
        stdout=out,
    )
    key = next(line[5:] for line in out.getvalue().splitlines() if line.startswith("key: "))
    device = SensorDevice.objects.get(code="YG-0100")
    assert device.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert post(client, {"alarm_id": "1"}, key).status_code == 201

    listing = io.StringIO()
    call_command("sensor_device", "list", stdout=listing)
    assert "YG-0100\t独居老人王芳家烟感\t11016\tactive" in listing.getvalue()
    assert key not in listing.getvalue()

    call_command("sensor_device", "revoke", "--code=YG-0100", stdout=io.StringIO())
    assert post(client, {"alarm_id": "2"}, key).status_code == 401
    listing = io.StringIO()
    call_command("sensor_device", "list", stdout=listing)
    assert "\trevoked\t" in listing.getvalue()

    with pytest.raises(CommandError):
        call_command(
            "sensor_device",
            "create",
            "--code=YG-0101",
            "--name=x",
            "--matter=99999",
            "--lon=118.605",
            "--lat=37.405",
            stderr=io.StringIO(),
        )
    with pytest.raises(CommandError, match="No device"):
        call_command("sensor_device", "revoke", "--code=nope")


def test_the_admin_shows_a_new_key_once_searches_and_deactivates(client, admin_user, smoke):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:cases_sensordevice_add"),
        {
            "code": "YG-0200",
            "name": "5号楼烟感",
            "matter": smoke.pk,
            "lon": IN_G11[0],
            "lat": IN_G11[1],
            "address": "",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    device = SensorDevice.objects.get(code="YG-0200")
    shown = [str(m) for m in response.context["messages"]]
    key = next(m.split(" is ", 1)[1].split(" ", 1)[0] for m in shown if "YG-0200" in m)
    assert device.key_hash == hashlib.sha256(key.encode()).hexdigest()
    # Shown once: the next page no longer carries it.
    again = client.get(reverse("admin:cases_sensordevice_changelist"), {"q": "YG-02"})
    assert key not in again.content.decode() and "5号楼烟感" in again.content.decode()

    refused = client.post(
        reverse("admin:cases_sensordevice_add"),
        {"code": "YG:1", "name": "x", "matter": smoke.pk, "lon": 118.70, "lat": 37.405},
    )
    assert refused.status_code == 200 and SensorDevice.objects.count() == 1
    assert set(refused.context["adminform"].form.errors) >= {"code", "lon"}

    client.post(
        reverse("admin:cases_sensordevice_changelist"),
        {"action": "deactivate", "_selected_action": [device.pk]},
    )
    device.refresh_from_db()
    assert not device.is_active
    delete = reverse("admin:cases_sensordevice_delete", args=[device.pk])
    assert client.get(delete).status_code == 403
    assert SensorDevice.objects.filter(pk=device.pk).exists()
