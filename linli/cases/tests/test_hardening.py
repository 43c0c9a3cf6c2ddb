"""Every way of filing a case (the report page, POST /api/v1/cases as JSON and as
multipart) against the same bad inputs: each gets its 4xx naming the field, in English
and in Chinese, and leaves nothing behind (no case, event or photo row, no file in
MEDIA_ROOT or among the upload temporaries). Then the size limit, the rate limits and
escaping on output (docs/security.md)."""

import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from linli.accounts.services import api_token_issue
from linli.cases.models import Case, CaseEvent, CasePhoto

IN_G11 = (118.605, 37.405)
REPORT = "/cases/report/"
CASES = "/api/v1/cases"
MB = 1024 * 1024
SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=1>'
ENTRY_POINTS = ("page", "api_json", "api_multipart")


@pytest.fixture
def uploads_dir(settings, tmp_path):
    """Where Django spools uploads larger than FILE_UPLOAD_MAX_MEMORY_SIZE."""
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR.mkdir()
    return settings.FILE_UPLOAD_TEMP_DIR


def files_under(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def fields(**extra) -> dict:
    return {
        "matter": "06010",
        "description": "路边有一堆垃圾，已经三天了",
        "lon": IN_G11[0],
        "lat": IN_G11[1],
        "address": "济南路12号旁",
    } | extra


class Filer:
    """Files one case through one entry point as `user`, in `language`."""

    def __init__(self, client, user, entry: str):
        self.client, self.user, self.entry = client, user, entry
        if entry != "page":
            self.token = api_token_issue(user=user)[1]
        else:
            client.force_login(user)

    def file(self, language: str = "en", **extra):
        data = fields(**extra)
        if self.entry == "page":
            self.client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            self.client.get(REPORT)  # a fresh one-time form token
            data["token"] = self.client.session["cases_report_tokens"][-1]
            return self.client.post(REPORT, data)
        headers = {
            "HTTP_AUTHORIZATION": f"Bearer {self.token}",
            "HTTP_ACCEPT_LANGUAGE": language,
        }
        if self.entry == "api_json":
            data.pop("photos", None)
            return self.client.post(
                CASES, json.dumps(data), content_type="application/json", **headers
            )
        return self.client.post(CASES, data, **headers)

    def errors(self, response) -> dict[str, list[str]]:
        if self.entry == "page":
            return {name: list(errors) for name, errors in response.context["form"].errors.items()}
        return response.json()["fields"]


def text_file_named_jpg():
    return SimpleUploadedFile("street.png.jpg", b"just some text, not a picture\n", "image/png")


def twenty_mb():
    return SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"\0" * (20 * MB), "image/jpeg")


# name: (the bad input, the entry points it applies to, {entry: status}, field, message)
BAD_INPUTS = {
    "a 20 MB photo": (
        {"photos": twenty_mb},
        ("page", "api_multipart"),
        {},
        "photos",
        "the limit is 10 MB",
    ),
    "a text file named .jpg": (
        {"photos": text_file_named_jpg},
        ("page", "api_multipart"),
        {},
        "photos",
        "not a readable image",
    ),
    "the point (999, 999)": (
        {"lon": 999, "lat": 999},
        ENTRY_POINTS,
        # The API's schema knows a longitude's range (422); the page asks the service.
        {"api_json": 422, "api_multipart": 422},
        "lon",
        {"page": "not in China", "api_json": "at most 180", "api_multipart": "at most 180"},
    ),
    "a point in Paris": (
        {"lon": 2.3522, "lat": 48.8566},
        ENTRY_POINTS,
        {},
        "lon",
        "not in China",
    ),
    "a 1 MB description": (
        {"description": "垃" * (MB // 3)},  # 1 MB in UTF-8
        ENTRY_POINTS,
        {"api_json": 422, "api_multipart": 422},
        "description",
        {"page": "At most 2000 characters", "api_json": "At most 20000 characters"}
        | {"api_multipart": "At most 20000 characters"},
    ),
    "a 3,000-character description": (
        {"description": "垃" * 3000},
        ENTRY_POINTS,
        {},
        "description",
        "At most 2000 characters",
    ),
    "a 500-character address": (
        {"address": "路" * 500},
        ENTRY_POINTS,
        {},
        "address",
        "characters",
    ),
    "a description with <script>": (
        {"description": f"路边有垃圾 {SCRIPT}"},
        ENTRY_POINTS,
        {},
        "description",
        "<script> looks like HTML",
    ),
    "an address that breaks out of an attribute": (
        {"address": BREAKOUT},
        ENTRY_POINTS,
        {},
        "address",
        "looks like HTML",
    ),
    "an unknown matter": (
        {"matter": "99999"},
        ENTRY_POINTS,
        {},
        "matter",
        {"page": "Choose a matter from the list", "api_json": "No such matter"}
        | {"api_multipart": "No such matter"},
    ),
}
CASES_TO_RUN = [(name, entry) for name, spec in sorted(BAD_INPUTS.items()) for entry in spec[1]]


@pytest.mark.parametrize(("name", "entry"), CASES_TO_RUN)
def test_bad_input_is_refused_naming_the_field_in_both_languages_and_leaves_nothing(
    client, matter, resident, media_root, uploads_dir, name, entry
):
    extra, _entries, statuses, field, message = BAD_INPUTS[name]
    message = message[entry] if isinstance(message, dict) else message
    filer = Filer(client, resident, entry)
    for language in ("en", "zh-hans"):
        given = {k: v() if callable(v) else v for k, v in extra.items()}
        response = filer.file(language, **given)

        assert response.status_code == statuses.get(entry, 400), (language, response.content[:300])
        errors = filer.errors(response)
        assert errors.get(field), (language, errors)
        if language == "en":
            assert any(message in e for e in errors[field]), errors
        if entry != "page":
            body = response.json()
            assert set(body) == {"code", "message", "fields"}
            assert body["code"] == "invalid" and body["message"]
        else:
            assert "<!doctype html>" in response.content.decode()[:200]
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    assert CasePhoto.objects.count() == 0
    assert files_under(media_root) == []
    assert files_under(uploads_dir) == []


def test_an_answer_in_chinese_is_in_chinese(client, matter, resident):
    filer = Filer(client, resident, "api_json")
    response = filer.file("zh-hans", lon=2.3522, lat=48.8566)
    assert "中国" in response.json()["fields"]["lon"][0]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_plain_text_with_angle_brackets_is_filed_as_typed(client, matter, resident, entry):
    text = "温度<30度，a < b，《通知》 & “引号” >_<"
    response = Filer(client, resident, entry).file(description=text, address="3<5号楼")
    assert response.status_code in (201, 302)
    case = Case.objects.get()
    assert (case.description, case.address) == (text, "3<5号楼")


# --- the size limit ------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ("page", "api_multipart"))
def test_a_body_over_the_request_limit_is_refused_with_413_before_it_is_read(
    client, settings, matter, resident, uploads_dir, entry
):
    settings.LINLI_MAX_REQUEST_BYTES = 16 * MB
    filer = Filer(client, resident, entry)
    response = filer.file(photos=twenty_mb())
    assert response.status_code == 413
    if entry == "page":
        html = response.content.decode()
        assert "at most 16.0 MB can be sent at once" in html
        assert "Traceback" not in html
    else:
        body = response.json()
        assert body["code"] == "too_large" and body["fields"] == {}
        assert "at most 16.0 MB" in body["message"]
    assert Case.objects.count() == 0
    assert files_under(uploads_dir) == []


def test_the_limit_is_taken_from_the_declared_length_without_reading_the_body(
    client, matter, resident
):
    token = api_token_issue(user=resident)[1]
    # A declared length far beyond the few bytes sent: were the body read, the test
    # client's stream would fail on reading past its end.
    response = client.post(
        CASES,
        b"--x--",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(settings.LINLI_MAX_REQUEST_BYTES + 1),
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_json_body_over_the_memory_limit_is_413_in_the_callers_language(
    client, settings, matter, resident
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    token = api_token_issue(user=resident)[1]
    body = json.dumps(fields(description="垃" * 40_000))
    answers = {}
    for language in ("en", "zh-hans"):
        response = client.post(
            CASES,
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 413
        answers[language] = response.json()["message"]
    assert "at most 0.1 MB" in answers["en"]
    assert answers["zh-hans"]
    assert Case.objects.count() == 0


# --- rate limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_filings_per_account_are_limited_with_retry_after(
    client, settings, matter, resident, entry
):
    settings.LINLI_INTAKE_RATE_PER_ACCOUNT = "2/h"
    filer = Filer(client, resident, entry)
    assert [filer.file().status_code for _ in range(2)] == [302 if entry == "page" else 201] * 2
    refused = filer.file()
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 3600
    if entry == "page":
        assert "Too many requests" in refused.content.decode()
    else:
        assert refused.json()["code"] == "rate_limited"
        assert "Too many requests" in refused.json()["message"]
    assert Case.objects.count() == 2


def test_the_page_and_the_api_share_one_count_per_account(
    client, settings, matter, resident, grid_worker
):
    settings.LINLI_INTAKE_RATE_PER_ACCOUNT = "2/h"
    assert Filer(client, resident, "page").file().status_code == 302
    assert Filer(client, resident, "api_json").file().status_code == 201
    assert Filer(client, resident, "api_multipart").file().status_code == 429
    assert Filer(client, resident, "page").file().status_code == 429
    # Another account is counted on its own.
    assert Filer(client, grid_worker, "api_json").file().status_code == 201


def test_filings_per_address_are_limited_across_accounts(
    client, settings, matter, resident, grid_worker
):
    settings.LINLI_INTAKE_RATE_PER_IP = "2/h"
    assert Filer(client, resident, "api_json").file().status_code == 201
    assert Filer(client, grid_worker, "api_json").file().status_code == 201
    assert Filer(client, grid_worker, "page").file().status_code == 429
    token = api_token_issue(user=resident)[1]
    elsewhere = client.post(
        CASES,
        json.dumps(fields()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        REMOTE_ADDR="203.0.113.9",
    )
    assert elsewhere.status_code == 201


def test_reading_the_report_page_is_not_counted(client, settings, matter, resident):
    settings.LINLI_INTAKE_RATE_PER_ACCOUNT = "1/h"
    client.force_login(resident)
    assert all(client.get(REPORT).status_code == 200 for _ in range(3))
    assert Filer(client, resident, "page").file().status_code == 302


# --- escaping on output --------------------------------------------------------------------------


@pytest.fixture
def marked_case(client, matter, resident):
    """A case whose description and address carry markup. Every entrance refuses it, but
    text can still arrive from before that rule, from a database restored from elsewhere
    or behind the services' back: output escapes it all the same."""
    response = Filer(client, resident, "api_json").file()
    assert response.status_code == 201
    Case.objects.update(description=f"{SCRIPT} {BREAKOUT}", address=BREAKOUT)
    return Case.objects.get()


def assert_escaped(html: str) -> None:
    assert SCRIPT not in html and BREAKOUT not in html
    assert "<img src=x" not in html


def test_markup_is_escaped_on_the_case_page_and_the_lists(client, marked_case, personas):
    from linli.cases import case_services

    case_services.case_accept(case=marked_case, actor=personas["dispatcher"], note=BREAKOUT)
    case_page = reverse("cases:case", args=[marked_case.pk])
    # (who, page, whether the page shows the description itself)
    for user, page, shows_text in [
        ("resident", case_page, True),
        ("resident", reverse("cases:mine"), True),
        ("dispatcher", case_page, True),
        ("dispatcher", reverse("cases:queue") + "?tab=accepted", False),
        # The search box gives the query back in its value attribute.
        ("dispatcher", reverse("cases:list") + "?q=" + BREAKOUT, False),
        ("dispatcher", reverse("cases:list"), False),
    ]:
        client.force_login(personas[user])
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert_escaped(html)
        if shows_text:
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, page
        else:
            assert marked_case.number in html or "&quot;&gt;&lt;img" in html, page


def test_markup_comes_back_from_the_api_as_json_strings(client, marked_case, personas):
    token = api_token_issue(user=personas["dispatcher"])[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    detail = client.get(f"{CASES}/{marked_case.pk}", **headers)
    listed = client.get(CASES, **headers)
    for response in (detail, listed):
        assert response["Content-Type"].startswith("application/json")
        assert response["X-Content-Type-Options"] == "nosniff"
    assert detail.json()["address"] == BREAKOUT
    assert listed.json()["items"][0]["description"] == f"{SCRIPT} {BREAKOUT}"


def test_the_case_pages_map_data_is_escaped(client, marked_case, personas):
    client.force_login(personas["dispatcher"])
    html = client.get(reverse("cases:case", args=[marked_case.pk])).content.decode()
    # The grid outline goes to the map script through json_script, never inline code.
    assert 'id="case-grid" type="application/json"' in html
    start = html.index('id="case-grid"')
    block = html[start : html.index("</script>", start)]
    assert "<" not in block.split(">", 1)[1]


def test_the_grid_maps_json_carries_names_as_json_strings_and_the_page_escapes_them(
    client, street, personas
):
    street["g11"].name = SCRIPT + BREAKOUT
    street["g11"].save()
    client.force_login(personas["dispatcher"])
    data = client.get(reverse("areas:grids_geojson"))
    assert data["Content-Type"].startswith("application/json")
    assert data["X-Content-Type-Options"] == "nosniff"
    names = {f["properties"]["name"] for f in data.json()["features"]}
    assert SCRIPT + BREAKOUT in names
    # The map's script builds its popups with textContent (linli/areas/static/.../map.js);
    # the page itself carries no user text unescaped.
    assert_escaped(client.get(reverse("areas:map")).content.decode())
