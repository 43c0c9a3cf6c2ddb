"""Filing a report (随手拍, patrol report, 12345 call), its htmx helpers, "me too" and
"my reports" (linli.cases.views.report)."""

import io
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from linli.accounts.models import User
from linli.cases import case_services
from linli.cases.models import (
    CONTACT_PHONE_CONTEXT,
    Case,
    CaseEvent,
    CasePhoto,
    CaseSupport,
    Matter,
    MatterQuestion,
    MatterQuestionOption,
)
from linli.cases.views.report import TOKENS_KEY
from linli.core.crypto import decrypt
from linli.core.testing import jpeg_bytes

IN_G11 = (118.605, 37.405)
IN_G21 = (118.625, 37.405)  # about 1.8 km east of IN_G11
REPORT = "/cases/report/"


@pytest.fixture(autouse=True)
def english_pages(client):
    """Pages speak English when the language cookie says so (the thread's language for
    services is set by the cases conftest)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def neighbour(street):
    user = User(username="neighbour", role="resident", name="neighbour")
    user.set_password("x")
    user.save()
    return user


def case_url(case) -> str:
    return f"/cases/{case.pk}/"


def token_for(client) -> str:
    """Open the report page as a browser would, and take the form's one-time token."""
    response = client.get(REPORT)
    assert response.status_code == 200
    token = client.session[TOKENS_KEY][-1]
    assert f'value="{token}"' in response.content.decode()
    return token


def post_report(client, token=None, **fields):
    data = {
        "token": token or token_for(client),
        "matter": "06010",
        "description": "路边有一堆垃圾，已经三天了",
        "lon": str(IN_G11[0]),
        "lat": str(IN_G11[1]),
    }
    data.update(fields)
    return client.post(REPORT, {k: v for k, v in data.items() if v is not None})


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def media_files(media_root) -> list[Path]:
    root = Path(media_root)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def option_keys(matter_code: str, question: str) -> list[str]:
    return list(
        MatterQuestionOption.objects.filter(
            question__matter__code=matter_code, question__code=question
        ).values_list("key", flat=True)
    )


def between(html: str, start: str, end: str) -> str:
    """The part of the page from `start` to the next `end`: "next to its input"."""
    i = html.index(start)
    j = html.find(end, i + len(start))
    return html[i : j if j != -1 else len(html)]


# --- filing --------------------------------------------------------------------------------------


def test_the_report_page_offers_the_map_the_matters_and_a_token(client, catalogue, resident):
    client.force_login(resident)
    response = client.get(REPORT)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert 'accept="image/*"' in html and "capture=" in html and "multiple" in html
    assert 'id="report-map"' in html and reverse("areas:grids_geojson") in html
    assert 'name="lon"' in html and 'name="lat"' in html
    assert "first photo" in html  # the help text says a photo's position is used
    assert reverse("cases:matter_search") in html
    assert '<option value="06010">06010 暴露垃圾</option>' in html
    assert "11016" not in html  # a sensor-only matter is not offered to residents
    assert "<script>" not in html.split("</main>")[0]  # no inline script (CSP)
    assert 'name="contact_phone"' not in html


def test_a_resident_files_a_case_with_two_photos_and_answers(
    client, catalogue, resident, media_root
):
    client.force_login(resident)
    source = option_keys("06028", "source")[0]
    early, evening = option_keys("06028", "periods")[0], option_keys("06028", "periods")[2]
    photos = [
        SimpleUploadedFile("a.jpg", jpeg_bytes((1600, 1200), gps=IN_G11), "image/jpeg"),
        SimpleUploadedFile("b.jpg", jpeg_bytes((800, 600), colour="navy"), "image/jpeg"),
    ]
    response = post_report(
        client,
        matter="06028",
        description="楼下商铺每天晚上放音乐",
        address="济南路12号东门",
        photos=photos,
        **{
            "answers.source": source,
            "answers.periods": [early, evening],
            "answers.since": "2026-05-01T22:30",
        },
    )

    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case_url(case)
    assert (case.source, case.reporter, case.matter.code) == ("resident", resident, "06028")
    assert case.grid.code == "370502003001001"
    assert case.address == "济南路12号东门"
    assert case.answers == {
        "source": source,
        "periods": [early, evening],
        "since": "2026-05-01T22:30:00",
    }
    assert case.events.get().action == "report"
    assert any(case.number in m for m in messages_of(response))
    stored = list(CasePhoto.objects.filter(case=case).order_by("id"))
    assert len(stored) == 2
    for photo in stored:
        with Image.open(photo.image.path) as image:
            assert image.format == "JPEG"
            assert dict(image.getexif()) == {}  # maker and GPS gone
            big = image.size
        with Image.open(photo.thumbnail.path) as thumb:
            assert max(thumb.size) <= 320 < max(big)
    assert len(media_files(media_root)) == 4


def test_a_resident_may_report_anonymously_where_the_matter_allows_it(client, catalogue, resident):
    client.force_login(resident)
    html = client.get(reverse("cases:matter_questions", args=["06010"])).content.decode()
    assert 'name="anonymous"' in html
    assert post_report(client, anonymous="on").status_code == 302
    case = Case.objects.get()
    assert case.anonymous is True and case.reporter == resident


def test_a_photos_gps_places_a_report_without_coordinates(client, catalogue, resident):
    client.force_login(resident)
    upload = SimpleUploadedFile("gps.jpg", jpeg_bytes(gps=(118.605, 37.405)), "image/jpeg")
    response = post_report(client, lon="", lat="", photos=[upload])

    case = Case.objects.get()
    assert response.status_code == 302
    assert case.lon == pytest.approx(118.605, abs=1e-4)
    assert case.lat == pytest.approx(37.405, abs=1e-4)
    assert case.grid.code == "370502003001001"


BAD_INPUTS = {
    "a text file named .jpg": (
        {"photos": [SimpleUploadedFile("x.jpg", b"not a photo at all", "image/jpeg")]},
        "photos",
        "not a readable image",
    ),
    "a 12 MB upload": (
        {"photos": "12MB"},
        "photos",
        "the limit is 10 MB",
    ),
    "a point off the earth": ({"lon": "999", "lat": "999"}, "lon", "not in China"),
    "a point in Paris": ({"lon": "2.3522", "lat": "48.8566"}, "lon", "not in China"),
    "a point in China outside every grid": (
        {"lon": "116.397", "lat": "39.909"},
        "lon",
        "outside every grid",
    ),
    "no place at all": ({"lon": "", "lat": ""}, "lon", "longitude and latitude"),
    "a missing description": ({"description": "  "}, "description", "describe the problem"),
    "a 3,000-character description": (
        {"description": "垃" * 3000},
        "description",
        "At most 2000 characters",
    ),
    "an unknown matter": ({"matter": "99999"}, "matter", "Choose a matter from the list"),
    "no matter": ({"matter": ""}, "matter", "Choose what the problem is about"),
    "a matter residents are not offered": (
        {"matter": "11016"},
        "matter",
        "Choose a matter from the list",
    ),
    "a retired matter": ({"matter": "RETIRED"}, "matter", "no longer in use"),
    "a required question unanswered": (
        {"matter": "06028", "answers.periods": ["day"]},
        "answers.source",
        "Please answer this question",
    ),
    "anonymous on a matter that forbids it": (
        {"matter": "11001", "anonymous": "on", "answers.account": "楼上每晚吵闹"},
        "anonymous",
        "cannot be reported anonymously",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gets_its_field_error_and_stores_nothing(
    client, catalogue, resident, media_root, name
):
    fields, field, message = BAD_INPUTS[name]
    if fields.get("matter") == "RETIRED":
        Matter.objects.filter(code="06010").update(is_active=False)
        fields = {"matter": "06010"}
    if fields.get("photos") == "12MB":
        size = 12 * 1024 * 1024
        assert size > settings.LINLI_MAX_IMAGE_BYTES
        fields = {"photos": [SimpleUploadedFile("big.jpg", b"\xff" * size, "image/jpeg")]}
    client.force_login(resident)

    response = post_report(client, **fields)

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in str(e) for e in errors[field]), errors
    assert message in response.content.decode()
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    assert CasePhoto.objects.count() == 0
    assert media_files(media_root) == []


def test_errors_speak_the_users_language(client, catalogue, resident):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(resident)
    html = post_report(client, description="", lon="2.3522", lat="48.8566").content.decode()
    assert "请描述问题。" in between(html, 'name="description"', "</div>")
    assert "该位置不在中国境内" in between(html, 'id="report-map"', "</fieldset>")
    assert Case.objects.count() == 0


def test_place_errors_stand_next_to_the_map(client, catalogue, resident):
    client.force_login(resident)
    html = post_report(client, lon="2.3522", lat="48.8566").content.decode()
    place = between(html, 'id="report-map"', "</fieldset>")
    assert "not in China" in place
    assert place.count("not in China") == 1  # said once for the pair


def test_an_unanswered_question_is_marked_at_the_question(client, catalogue, resident):
    client.force_login(resident)
    html = post_report(client, matter="06028", **{"answers.periods": ["day"]}).content.decode()
    source = between(html, 'id="question-source"', 'id="question-periods"')
    assert "Please answer this question." in source
    periods = between(html, 'id="question-periods"', 'id="question-since"')
    assert "Please answer" not in periods
    assert 'value="day" autocomplete="off" checked' in periods  # the answer given is kept


def test_a_refused_report_can_be_corrected_and_sent_with_the_same_form(client, catalogue, resident):
    client.force_login(resident)
    token = token_for(client)
    assert post_report(client, token=token, description="").status_code == 400
    response = post_report(client, token=token)
    assert response.status_code == 302
    assert Case.objects.count() == 1


def test_script_in_the_description_is_refused_and_angles_are_shown_escaped(
    client, catalogue, resident
):
    client.force_login(resident)
    refused = post_report(client, description="<script>alert('x')</script> 垃圾")
    assert refused.status_code == 400
    assert "looks like HTML" in refused.content.decode()
    assert "<script>alert" not in refused.content.decode()
    assert not Case.objects.exists()

    text = "温度<30度 'x' > 0 垃圾"
    post_report(client, description=text)
    case = Case.objects.get()
    assert case.description == text
    html = client.get(reverse("cases:mine")).content.decode()
    assert "温度&lt;30度 &#x27;x&#x27; &gt; 0 垃圾" in html


# --- staff variants ------------------------------------------------------------------------------


def test_a_grid_worker_files_a_patrol_report(client, catalogue, grid_worker):
    client.force_login(grid_worker)
    html = client.get(REPORT).content.decode()
    assert "Patrol report" in html and 'name="anonymous"' not in html
    response = post_report(client)
    case = Case.objects.get()
    assert (case.source, case.reporter) == ("grid_worker", grid_worker)
    assert response["Location"] == case_url(case)


def test_a_grid_worker_reporting_outside_their_grid_is_sent_back_to_the_form(
    client, catalogue, grid_worker
):
    client.force_login(grid_worker)
    response = post_report(client, lon=str(IN_G21[0]), lat=str(IN_G21[1]))
    case = Case.objects.get()
    assert case.grid.code == "370502003002001"
    assert response["Location"] == REPORT
    assert any(case.number in m for m in messages_of(response))


def test_a_dispatcher_files_a_hotline_call_with_the_callers_phone_sealed(
    client, catalogue, dispatcher
):
    client.force_login(dispatcher)
    html = client.get(REPORT).content.decode()
    assert 'name="contact_phone"' in html and 'name="urgency"' in html
    response = post_report(
        client,
        contact_name="王先生",
        contact_phone="138 1234 5678",
        urgency="urgent",
        external_ref="12345-2026-0001",
    )

    case = Case.objects.get()
    assert (case.source, case.reporter, case.urgency) == ("hotline", None, "urgent")
    # The timeline names the dispatcher who took the call; the caller hears by SMS.
    assert case.events.get().actor == dispatcher
    assert case.contact_name == "王先生"
    assert case.external_ref == "12345-2026-0001"
    assert "13812345678" not in case.contact_phone_encrypted
    assert decrypt(case.contact_phone_encrypted, context=CONTACT_PHONE_CONTEXT) == "+8613812345678"
    assert case.contact_phone_masked == "138****5678"
    said = " ".join(messages_of(response))
    assert "138****5678" in said and "13812345678" not in said


def test_a_dispatcher_gets_the_phone_error_next_to_the_phone(client, catalogue, dispatcher):
    client.force_login(dispatcher)
    response = post_report(client, contact_phone="12345")
    assert response.status_code == 400
    assert "Not a valid mainland phone number." in response.context["form"].errors["contact_phone"]
    assert Case.objects.count() == 0


@pytest.mark.parametrize("who", ["handler", "leader", "admin"])
def test_roles_that_do_not_file_reports_are_refused(client, catalogue, personas, who):
    client.force_login(personas[who])
    assert client.get(REPORT).status_code == 403
    assert client.post(REPORT, {"matter": "06010"}).status_code == 403
    assert Case.objects.count() == 0


# --- one case per form ---------------------------------------------------------------------------


def test_a_double_submit_files_one_case(client, catalogue, resident):
    client.force_login(resident)
    token = token_for(client)
    first = post_report(client, token=token)
    second = post_report(client, token=token)

    case = Case.objects.get()
    assert first["Location"] == second["Location"] == case_url(case)
    said = messages_of(second)
    assert any("already sent as case" in m and case.number in m for m in said), said
    assert CaseEvent.objects.count() == 1


def test_a_submit_while_the_first_is_still_being_filed_files_nothing(client, catalogue, resident):
    client.force_login(resident)
    token = token_for(client)
    cache.add(f"cases:report-token:{resident.pk}:{token}", "pending")
    response = post_report(client, token=token)
    assert response["Location"] == reverse("cases:mine")
    assert any("being sent" in m for m in messages_of(response))
    assert Case.objects.count() == 0


def test_a_form_token_this_session_never_issued_files_nothing(client, catalogue, resident):
    client.force_login(resident)
    response = post_report(client, token=uuid.uuid4().hex)
    assert response.status_code == 400
    assert "This form has expired" in response.content.decode()
    assert Case.objects.count() == 0
    # The page comes back with a fresh token that does file.
    fresh = client.session[TOKENS_KEY][-1]
    assert post_report(client, token=fresh).status_code == 302
    assert Case.objects.count() == 1


def test_another_users_token_does_not_reveal_their_case(client, catalogue, resident, neighbour):
    client.force_login(resident)
    token = token_for(client)
    post_report(client, token=token)
    client.force_login(neighbour)
    response = post_report(client, token=token)
    assert response.status_code == 400
    assert Case.objects.count() == 1


# --- the htmx helpers ----------------------------------------------------------------------------


def test_matter_search_finds_by_keyword_and_code_and_hides_staff_matters_from_residents(
    client, catalogue, resident, dispatcher
):
    url = reverse("cases:matter_search")
    client.force_login(resident)
    html = client.get(url, {"q": "噪音"}, headers={"HX-Request": "true"}).content.decode()
    assert 'data-matter-code="06028"' in html
    assert 'data-matter-code="06010"' in client.get(url, {"q": "0601"}).content.decode()
    assert "11016" not in client.get(url, {"q": "烟感"}).content.decode()
    assert "No matter matches" in client.get(url, {"q": "烟感"}).content.decode()
    client.force_login(dispatcher)
    assert 'data-matter-code="11016"' in client.get(url, {"q": "烟感"}).content.decode()


def test_the_questions_partial_renders_each_datatype(client, catalogue, resident):
    client.force_login(resident)
    leak = client.get(reverse("cases:matter_questions", args=["11010"])).content.decode()
    assert 'type="number"' in leak and 'name="answers.floor"' in leak
    assert 'type="datetime-local"' in leak and 'name="answers.since"' in leak
    assert leak.count('type="checkbox" class="btn-check" name="answers.where"') == 4
    assert 'name="anonymous"' not in leak and "cannot be reported anonymously" in leak
    dispute = client.get(reverse("cases:matter_questions", args=["11001"])).content.decode()
    assert '<textarea class="form-control" name="answers.account"' in dispute
    assert dispute.count('type="radio" class="btn-check" name="answers.mediated"') == 3
    noise = client.get(reverse("cases:matter_questions", args=["06028"])).content.decode()
    assert 'name="anonymous"' in noise
    lamp = client.get(reverse("cases:matter_questions", args=["01046"])).content.decode()
    assert 'type="text" maxlength="200"' in lamp and 'name="answers.equipment"' in lamp
    assert client.get(reverse("cases:matter_questions", args=["11016"])).status_code == 404
    assert client.get(reverse("cases:matter_questions", args=["99999"])).status_code == 404


def test_a_long_single_choice_is_a_drop_down_that_keeps_its_answer(client, catalogue, resident):
    question = MatterQuestion.objects.create(
        matter=Matter.objects.get(code="06010"),
        code="colour",
        prompt="Colour",
        datatype="singlevaluelist",
        required=True,
        order=5,
    )
    for i in range(7):
        MatterQuestionOption.objects.create(question=question, key=f"c{i}", name=f"C{i}", order=i)
    client.force_login(resident)
    html = client.get(reverse("cases:matter_questions", args=["06010"])).content.decode()
    assert '<select class="form-select" name="answers.colour"' in html
    response = post_report(client, description="", **{"answers.colour": "c3"})
    assert '<option value="c3" selected>C3</option>' in response.content.decode()
    assert post_report(client, **{"answers.colour": "c3"}).status_code == 302
    assert Case.objects.get().answers == {"colour": "c3"}


def _open_case(matter_code, reporter, point, description):
    return case_services.case_report(
        matter=Matter.objects.get(code=matter_code),
        description=description,
        lon=point[0],
        lat=point[1],
        source="resident",
        reporter=reporter,
    )


def test_the_duplicates_partial_finds_a_nearby_similar_case_and_not_a_far_one(
    client, catalogue, resident, neighbour
):
    near = _open_case("06010", neighbour, (118.6052, 37.4051), "路边有一堆垃圾没人清理")
    far = _open_case("06010", neighbour, IN_G21, "路边有一堆垃圾没人清理")
    client.force_login(resident)
    params = {
        "matter": "06010",
        "lon": IN_G11[0],
        "lat": IN_G11[1],
        "description": "路边有一堆垃圾",
    }
    html = client.post(reverse("cases:duplicates"), params).content.decode()
    assert near.number in html and far.number not in html
    assert "Is it one of these?" in html
    assert reverse("cases:me_too", args=[near.pk]) in html
    # Nothing is offered until matter, place and description are all known.
    partial = client.post(reverse("cases:duplicates"), params | {"description": ""})
    assert near.number not in partial.content.decode()


def test_staff_see_only_the_duplicates_in_their_scope(client, catalogue, neighbour, personas):
    near = _open_case("06010", neighbour, IN_G11, "路边有一堆垃圾没人清理")
    params = {
        "matter": "06010",
        "lon": IN_G11[0],
        "lat": IN_G11[1],
        "description": "路边有一堆垃圾",
    }
    client.force_login(personas["grid_worker"])
    html = client.post(reverse("cases:duplicates"), params).content.decode()
    assert near.number in html and "Me too" not in html
    client.force_login(personas["other_grid_worker"])
    assert near.number not in client.post(reverse("cases:duplicates"), params).content.decode()


# --- me too --------------------------------------------------------------------------------------


def test_me_too_twice_counts_once(client, catalogue, resident, neighbour):
    case = _open_case("06010", neighbour, IN_G11, "路边有一堆垃圾")
    url = reverse("cases:me_too", args=[case.pk])
    client.force_login(resident)

    first = client.post(url, {"next": REPORT})
    second = client.post(url, {"next": REPORT})

    assert CaseSupport.objects.filter(case=case).count() == 1
    assert first["Location"] == second["Location"] == REPORT
    assert any("you will hear its outcome" in m for m in messages_of(first))
    assert any("Already counted" in m for m in messages_of(second))
    html = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert "Already counted" in html and "1 other resident has this problem too." in html
    assert CaseSupport.objects.filter(case=case).count() == 1


def test_me_too_over_htmx_answers_with_the_new_count(client, catalogue, resident, neighbour):
    case = _open_case("06010", neighbour, IN_G11, "路边有一堆垃圾")
    client.force_login(resident)
    response = client.post(reverse("cases:me_too", args=[case.pk]), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 other resident has this problem too." in html
    assert f'id="me-too-{case.pk}"' in html


def test_me_too_is_refused_on_ones_own_case_a_closed_case_and_to_staff(
    client, catalogue, resident, neighbour, personas
):
    own = _open_case("06010", resident, IN_G11, "路边有一堆垃圾")
    client.force_login(resident)
    response = client.post(reverse("cases:me_too", args=[own.pk]))
    assert any("reported this case yourself" in m for m in messages_of(response))
    Case.objects.filter(pk=own.pk).update(status="rejected")
    response = client.post(reverse("cases:me_too", args=[own.pk]))
    assert any("no longer open" in m for m in messages_of(response))
    assert client.post(reverse("cases:me_too", args=[999999])).status_code == 404
    assert client.get(reverse("cases:me_too", args=[own.pk])).status_code == 405
    for who in ("grid_worker", "dispatcher", "handler"):
        client.force_login(personas[who])
        assert client.post(reverse("cases:me_too", args=[own.pk])).status_code == 403
    assert CaseSupport.objects.count() == 0


# --- my reports ----------------------------------------------------------------------------------


def test_my_reports_shows_only_the_users_reported_and_followed_cases(
    client, catalogue, resident, neighbour, django_assert_max_num_queries
):
    mine = _open_case("06010", resident, IN_G11, "我报的垃圾")
    theirs = _open_case("06010", neighbour, IN_G11, "邻居报的垃圾")
    followed = _open_case("06010", neighbour, IN_G11, "邻居报的另一堆垃圾")
    case_services.case_me_too(case=followed, user=resident)
    closed = _open_case("06010", resident, IN_G11, "已经清理的垃圾")
    Case.objects.filter(pk=closed.pk).update(
        status="closed", closed_at=closed.reported_at, verified_at=closed.reported_at
    )
    client.force_login(resident)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("cases:mine"))

    html = response.content.decode()
    assert html.count("<h1") == 1
    assert mine.number in html and followed.number in html and closed.number in html
    assert theirs.number not in html
    assert html.index(closed.number) < html.index(mine.number)  # newest first
    rate = between(html, f'id="case-{closed.pk}"', "</li>")
    assert "rate it" in rate and f"/cases/{closed.pk}/#rate" in rate
    assert "rate it" not in between(html, f'id="case-{mine.pk}"', "</li>")
    assert "you said “me too”" in between(html, f'id="case-{followed.pk}"', "</li>")


def test_my_reports_is_paginated(client, catalogue, resident):
    for i in range(23):
        _open_case("06010", resident, IN_G11, f"垃圾 {i}")
    client.force_login(resident)
    first = client.get(reverse("cases:mine")).content.decode()
    second = client.get(reverse("cases:mine"), {"page": 2}).content.decode()
    assert first.count('class="list-group-item" id="case-') == 20
    assert second.count('class="list-group-item" id="case-') == 3
    assert "23 in all" in first


def test_my_reports_is_for_residents(client, catalogue, personas):
    client.force_login(personas["dispatcher"])
    assert client.get(reverse("cases:mine")).status_code == 403


def test_an_uploaded_photo_never_keeps_its_original_bytes(client, catalogue, resident):
    client.force_login(resident)
    original = jpeg_bytes(gps=IN_G11)
    post_report(client, photos=[SimpleUploadedFile("p.jpg", original, "image/jpeg")])
    photo = CasePhoto.objects.get()
    stored = Path(photo.image.path).read_bytes()
    assert stored != original and b"PhoneMaker" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.getexif().get_ifd(0x8825) == {}
