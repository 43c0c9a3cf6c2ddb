"""Bad input, each refused with a clear 4xx naming the field, and leaving nothing behind:
no case, no timeline entry, no link row, no photo row, no file on disk."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from linli.cases.models import Case, CaseEvent, CasePhoto
from linli.core.testing import jpeg_bytes
from linli.open311 import services
from linli.open311.models import Open311Request
from linli.open311.tests.client import Open311Client
from linli.open311.tests.conftest import LAT, LONG

FIELDS = {"service_code": "06020", "lat": LAT, "long": LONG, "description": "路边有垃圾"}


def _nothing_stored(media_root):
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    assert CasePhoto.objects.count() == 0
    assert Open311Request.objects.count() == 0
    files = [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []
    assert files == []


def _refused(answer, status: int, field: str):
    assert answer.status == status, answer.body
    texts = answer.error_texts()
    assert any(text.startswith(f"{field}:") for text in texts), texts


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_20_mb_upload(api, media_root, fmt):
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (20 * 1024 * 1024), "image/jpeg")
    answer = api.post("requests", fmt, files={"photo1": big}, **FIELDS)
    # Refused by the photo check (400) or, where a body limit is set, before it is read (413).
    assert answer.status in (400, 413), answer.body
    if answer.status == 400:
        _refused(answer, 400, "media")
    _nothing_stored(media_root)


def test_a_png_renamed_jpg_that_is_really_text(api, media_root):
    fake = SimpleUploadedFile("photo.jpg", b"this is only text, not a picture\n" * 50, "image/jpeg")
    good = SimpleUploadedFile("ok.jpg", jpeg_bytes(), "image/jpeg")
    answer = api.post("requests", "xml", files={"photo1": good, "photo2": fake}, **FIELDS)
    _refused(answer, 400, "media")
    _nothing_stored(media_root)


@pytest.mark.parametrize(
    ("lat", "long", "field"),
    [("999", "999", "lat"), ("48.8566", "2.3522", "long"), ("abc", LONG, "lat")],
    ids=["999", "paris", "words"],
)
def test_coordinates_off_the_earth_or_outside_the_street(api, media_root, lat, long, field):
    answer = api.file("xml", **FIELDS | {"lat": lat, "long": long})
    _refused(answer, 400, field)
    _nothing_stored(media_root)


def test_a_1_mb_description(api, media_root):
    answer = api.file("json", **FIELDS | {"description": "垃" * (1024 * 1024 // 3)})
    _refused(answer, 400, "description")
    _nothing_stored(media_root)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_description_with_script(api, media_root, fmt):
    answer = api.file(fmt, **FIELDS | {"description": '路边有垃圾 <script>alert("x")</script>'})
    _refused(answer, 400, "description")
    assert any("looks like HTML" in text for text in answer.error_texts())
    _nothing_stored(media_root)


def test_markup_that_got_in_elsewhere_is_escaped_everywhere(api, client, resident):
    """Every entrance refuses markup; text stored before that rule or behind the services'
    back is escaped on the way out all the same."""
    assert api.file("json", **FIELDS).status == 200
    Case.objects.update(description='<script>alert("x")</script>')
    case = Case.objects.get()
    xml = api.get("requests", "xml").body
    json = api.get("requests", "json").body
    assert b"<script>" not in xml and b"&lt;script&gt;" in xml
    assert b"<script>" not in json and b"\\u003cscript\\u003e" in json
    client.force_login(resident)
    page = client.get(f"/cases/{case.pk}/").content
    assert b"<script>alert" not in page and b"&lt;script&gt;alert" in page


def test_an_unknown_service_code(api, media_root):
    _refused(api.file("xml", **FIELDS | {"service_code": "99999"}), 404, "service_code")
    _nothing_stored(media_root)


def test_a_missing_api_key(api, client, media_root):
    _refused(Open311Client(client).file("xml", **FIELDS), 403, "api_key")
    _nothing_stored(media_root)


def test_a_revoked_api_key(api, issued, media_root):
    services.open311_key_revoke(key=issued[0])
    _refused(api.file("json", **FIELDS), 403, "api_key")
    _nothing_stored(media_root)


def test_a_refusal_after_the_photos_are_checked_stores_none_of_them(api, media_root):
    photo = SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")
    answer = api.post("requests", "xml", files={"photo1": photo}, **FIELDS | {"lat": "40.0"})
    _refused(answer, 400, "lat")
    _nothing_stored(media_root)


def test_posts_over_the_rate_limit_get_429_with_retry_after(api, settings):
    settings.LINLI_OPEN311_RATE_PER_KEY = "2/m"
    assert api.file(**FIELDS).status == 200
    assert api.file(**FIELDS).status == 200
    refused = api.file("xml", **FIELDS)
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    assert Case.objects.count() == 2


def test_posts_from_one_address_are_limited_across_keys(api, client, settings):
    settings.LINLI_OPEN311_RATE_PER_IP = "2/m"
    _key, other = services.open311_key_issue(name="another app", channel="app")
    assert api.file(**FIELDS).status == 200
    assert Open311Client(client, api_key=other).file(**FIELDS).status == 200
    refused = Open311Client(client, api_key=other).file(**FIELDS)
    assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    assert Case.objects.count() == 2


def test_a_broken_multipart_body_is_an_open311_error(client, db, media_root):
    answer = client.post(
        "/open311/v2/requests.xml", b"--x\r\nbroken", content_type="multipart/form-data"
    )
    assert answer.status_code == 400
    assert answer["Content-Type"] == "text/xml; charset=utf-8"
    assert b"<errors><error><code>400</code>" in answer.content
    _nothing_stored(media_root)
