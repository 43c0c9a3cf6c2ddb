"""Pages for visits and care, a resident's own record, and correction requests."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from linli.people import services
from linli.people.models import CorrectionRequest, Resident, Visit, VisitPhoto
from linli.people.tests.conftest import ID_A, ID_B, PHONE_A, PHONE_B

# Session and user (2), the session's expiry saved (3), the grids and the scope's area (2),
# permissions for sensitive tags (2), then count, rows, tags and counts per grid (4).
# 14 with the unread-notifications badge every page shows.
OVERDUE_PAGE_MAX_QUERIES = 14


def _jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "green").save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def _upload(name: str, content: bytes, content_type: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def _overdue(resident, actor, tag, days: int = 30):
    services.resident_tag_add(
        resident=resident,
        tag=tag,
        actor=actor,
        since=timezone.localdate() - timedelta(days=days),
    )


def _files_under(root) -> list:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def visit_g11(register, grid_worker, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return services.visit_create(
        resident=register["zhang"],
        visitor=grid_worker,
        method="home",
        findings="身体尚可",
        photos=[_jpeg_with_exif()],
    )


# --- the ladder ------------------------------------------------------------------------------


STAFF_PAGES = ["people:overdue", "people:visits", "people:corrections"]


@pytest.mark.parametrize("name", [*STAFF_PAGES, "people:mine", "people:correction_new"])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_resident_is_refused_every_staff_page(client, register, resident, visit_g11):
    photo = visit_g11.photos.get()
    client.force_login(resident)
    urls = [
        *(reverse(name) for name in STAFF_PAGES),
        reverse("people:visit_new", args=[register["zhang"].pk]),
        reverse("people:visit", args=[visit_g11.pk]),
        reverse("people:visit_photo", args=[photo.pk, "image"]),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("people:correction_answer", args=[1])).status_code == 403


def test_staff_are_refused_the_residents_own_pages(client, grid_worker):
    client.force_login(grid_worker)
    assert client.get(reverse("people:mine")).status_code == 403
    assert client.get(reverse("people:correction_new")).status_code == 403


def test_a_worker_of_another_grid_gets_404_for_this_grids_people(
    client, register, grid_worker, other_grid_worker, tags, visit_g11
):
    zhang = register["zhang"]
    photo = visit_g11.photos.get()
    _overdue(register["li"], other_grid_worker, tags["elderly-alone"])
    services.resident_tag_add(resident=zhang, tag=tags["elderly-alone"], actor=grid_worker)
    Resident.objects.filter(pk=zhang.pk).update(
        next_visit_due=timezone.localdate() - timedelta(days=3)
    )
    client.force_login(other_grid_worker)
    for url in [
        reverse("people:visit_new", args=[zhang.pk]),
        reverse("people:visit", args=[visit_g11.pk]),
        reverse("people:visit_photo", args=[photo.pk, "image"]),
        reverse("people:visit_photo", args=[photo.pk, "thumbnail"]),
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("people:visit_new", args=[zhang.pk]), {"method": "home", "findings": "x"}
    )
    assert response.status_code == 404
    assert zhang.visits.count() == 1

    page = client.get(reverse("people:overdue")).content.decode()
    assert "李秀英" in page
    assert "张建国" not in page
    assert "张建国" not in client.get(reverse("people:visits")).content.decode()

    client.force_login(grid_worker)
    page = client.get(reverse("people:overdue")).content.decode()
    assert "张建国" in page
    assert "李秀英" not in page


def test_the_grid_filter_offers_only_grids_in_scope(client, register, community_worker, street):
    client.force_login(community_worker)
    # The filter is refused outside the scope rather than widening it.
    response = client.get(reverse("people:overdue"), {"grid": street["g21"].pk})
    page = response.content.decode()
    assert response.status_code == 200
    assert street["g11"].name in page
    assert street["g21"].name not in page


# --- recording a visit -----------------------------------------------------------------------


def test_a_visit_form_is_built_for_a_phone_camera(client, register, grid_worker):
    client.force_login(grid_worker)
    response = client.get(reverse("people:visit_new", args=[register["zhang"].pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'capture="environment"' in page
    assert 'accept="image/*"' in page
    assert "multiple" in page
    assert page.count('type="radio"') == len(Visit.Method.choices)
    assert "<script>" not in page


def test_a_visit_recorded_through_the_page_stores_clean_photos_and_moves_the_due_date(
    client, register, grid_worker, tags, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    zhang = register["zhang"]
    _overdue(zhang, grid_worker, tags["elderly-alone"])
    zhang.refresh_from_db()
    assert zhang.next_visit_due < timezone.localdate()
    client.force_login(grid_worker)

    response = client.post(
        reverse("people:visit_new", args=[zhang.pk]),
        {
            "method": "home",
            "findings": "身体尚可，冰箱有菜",
            "follow_up_needed": "on",
            "follow_up_note": "下周送药",
            "photos": [
                _upload("a.jpg", _jpeg_with_exif(), "image/jpeg"),
                _upload("b.jpg", _jpeg_with_exif(), "image/jpeg"),
            ],
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("people:resident", args=[zhang.pk])
    visit = Visit.objects.get(resident=zhang)
    assert visit.visitor == grid_worker
    assert visit.follow_up_needed and visit.follow_up_note == "下周送药"
    assert visit.photos.count() == 2
    for photo in visit.photos.all():
        with Image.open(photo.image.path) as stored:
            assert dict(stored.getexif()) == {}
    zhang.refresh_from_db()
    assert zhang.next_visit_due == timezone.localdate() + timedelta(days=7)

    page = client.get(reverse("people:visit", args=[visit.pk])).content.decode()
    photo = visit.photos.first()
    assert reverse("people:visit_photo", args=[photo.pk, "thumbnail"]) in page
    assert "/media/" not in page
    served = client.get(reverse("people:visit_photo", args=[photo.pk, "image"]))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert "private" in served["Cache-Control"]
    assert b"".join(served.streaming_content) == photo.image.open("rb").read()
    assert client.get(reverse("people:visit_photo", args=[photo.pk, "raw"])).status_code == 404


def test_a_text_file_named_like_a_photo_is_refused_and_nothing_is_written(
    client, register, grid_worker, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path
    zhang = register["zhang"]
    client.force_login(grid_worker)

    response = client.post(
        reverse("people:visit_new", args=[zhang.pk]),
        {
            "method": "home",
            "findings": "ok",
            "photos": [
                _upload("good.jpg", _jpeg_with_exif(), "image/jpeg"),
                _upload("photo.jpg", b"just some text, not a picture", "image/jpeg"),
            ],
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors["photos"]
    assert 'class="invalid-feedback"' in response.content.decode()
    assert Visit.objects.count() == 0
    assert VisitPhoto.objects.count() == 0
    assert _files_under(tmp_path) == []


def test_bad_visit_input_comes_back_as_field_errors(client, register, grid_worker):
    client.force_login(grid_worker)
    response = client.post(
        reverse("people:visit_new", args=[register["zhang"].pk]),
        {
            "method": "home",
            "findings": "ok",
            "follow_up_needed": "on",
            "visited_at": (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"visited_at", "follow_up_note"}
    assert Visit.objects.count() == 0


def test_more_than_six_photos_are_refused(client, register, grid_worker, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(grid_worker)
    photos = [_upload(f"{i}.jpg", _jpeg_with_exif(), "image/jpeg") for i in range(7)]
    response = client.post(
        reverse("people:visit_new", args=[register["zhang"].pk]),
        {"method": "phone", "findings": "ok", "photos": photos},
    )
    assert response.status_code == 400
    assert "photos" in response.context["form"].errors
    assert Visit.objects.count() == 0


# --- the overdue list and recent visits ------------------------------------------------------


def test_the_overdue_list_shows_a_person_whose_tag_started_a_month_ago(
    client, register, grid_worker, tags
):
    _overdue(register["zhang"], grid_worker, tags["elderly-alone"], days=30)
    client.force_login(grid_worker)
    response = client.get(reverse("people:overdue"))
    page = response.content.decode()
    assert response.status_code == 200
    row = response.context["page"].object_list[0]
    assert row == register["zhang"]
    assert row.days_overdue == 30 - 7
    assert row.last_visit_at is None
    assert reverse("people:visit_new", args=[register["zhang"].pk]) in page
    assert tags["elderly-alone"].name in page
    # Masked address: the room is not shown; no ID number or phone at all.
    assert "301室" not in page
    assert ID_A not in page and PHONE_A not in page

    # The grid filter swaps only the rows (htmx): one URL, two renderings.
    partial = client.get(reverse("people:overdue"), headers={"HX-Request": "true"})
    assert "<h1" not in partial.content.decode()
    assert "张建国" in partial.content.decode()


def test_community_and_street_users_see_counts_per_grid(
    client, register, grid_worker, other_grid_worker, dispatcher, tags, street
):
    _overdue(register["zhang"], grid_worker, tags["elderly-alone"])
    _overdue(register["li"], other_grid_worker, tags["elderly-alone"])
    client.force_login(dispatcher)
    response = client.get(reverse("people:overdue"))
    counts = dict((area.code, n) for area, n in response.context["counts"])
    assert counts == {street["g11"].code: 1, street["g21"].code: 1}

    response = client.get(reverse("people:overdue"), {"grid": street["g21"].pk})
    assert [p.name for p in response.context["page"]] == ["李秀英"]

    client.force_login(grid_worker)
    assert client.get(reverse("people:overdue")).context["counts"] == []


def _overdue_people(n: int, household, actor, tag):
    for i in range(n):
        person = services.resident_create(
            actor=actor,
            household=household,
            name=f"测试{i}",
            relation="child",
            birth_date=timezone.localdate() - timedelta(days=365 * 20),
            gender="F",
        )
        _overdue(person, actor, tag)
        services.visit_create(
            resident=person,
            visitor=actor,
            method="phone",
            findings="ok",
            visited_at=timezone.now() - timedelta(days=60),
        )


def test_the_overdue_list_takes_the_same_queries_for_any_number_of_rows(
    client, register, grid_worker, dispatcher, tags, django_assert_max_num_queries
):
    client.force_login(dispatcher)
    _overdue_people(2, register["home_a"], grid_worker, tags["elderly-alone"])
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("people:overdue")).status_code == 200
    _overdue_people(15, register["home_a"], grid_worker, tags["elderly-alone"])
    with django_assert_max_num_queries(OVERDUE_PAGE_MAX_QUERIES):
        with CaptureQueriesContext(connection) as many:
            response = client.get(reverse("people:overdue"))
    assert len(response.context["page"].object_list) == 17
    assert len(many) == len(few)


def test_recent_visits_filter_by_follow_up(client, register, grid_worker):
    zhang = register["zhang"]
    services.visit_create(resident=zhang, visitor=grid_worker, method="home", findings="一切好")
    services.visit_create(
        resident=zhang,
        visitor=grid_worker,
        method="phone",
        findings="腿疼",
        follow_up_needed=True,
        follow_up_note="联系社区医生",
    )
    client.force_login(grid_worker)
    response = client.get(reverse("people:visits"))
    assert len(response.context["page"].object_list) == 2
    response = client.get(reverse("people:visits"), {"follow_up": "on"})
    assert [v.findings for v in response.context["page"]] == ["腿疼"]
    response = client.get(reverse("people:visits"), {"visitor": grid_worker.pk})
    assert len(response.context["page"].object_list) == 2


# --- the resident's own record and corrections -----------------------------------------------


def test_a_linked_resident_sees_the_household_masked_and_gets_a_correction_applied(
    client, register, resident, grid_worker, other_grid_worker, tags
):
    zhang = register["zhang"]
    services.resident_link_user(resident=zhang, user=resident, actor=grid_worker)
    services.resident_tag_add(resident=zhang, tag=tags["elderly-alone"], actor=grid_worker)
    client.force_login(resident)

    page = client.get(reverse("people:mine")).content.decode()
    assert "张建国" in page
    assert zhang.id_number_masked in page and zhang.phone_masked in page
    assert ID_A not in page and PHONE_A not in page
    assert tags["elderly-alone"].name in page
    assert "李秀英" not in page and ID_B not in page and PHONE_B not in page

    # Only members of one's own household can be chosen.
    response = client.post(
        reverse("people:correction_new"),
        {"resident": register["li"].pk, "field": "name", "proposed": "李秀"},
    )
    assert response.status_code == 400
    assert CorrectionRequest.objects.count() == 0

    response = client.post(
        reverse("people:correction_new"),
        {
            "resident": zhang.pk,
            "field": "phone",
            "proposed": "13900001111",
            "explanation": "换了新号",
        },
    )
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    page = client.get(reverse("people:mine")).content.decode()
    assert "139****1111" in page and "13900001111" not in page

    client.force_login(other_grid_worker)
    assert "换了新号" not in client.get(reverse("people:corrections")).content.decode()
    answer_url = reverse("people:correction_answer", args=[correction.pk])
    assert client.post(answer_url, {"approve": "1"}).status_code == 404

    client.force_login(grid_worker)
    page = client.get(reverse("people:corrections")).content.decode()
    assert "换了新号" in page and answer_url in page and "13900001111" not in page
    response = client.post(answer_url, {"approve": "1"})
    assert response.status_code == 302

    correction.refresh_from_db()
    zhang.refresh_from_db()
    assert correction.status == CorrectionRequest.Status.APPROVED
    assert correction.answered_by == grid_worker
    assert zhang.phone_masked == "139****1111"
    client.force_login(resident)
    page = client.get(reverse("people:mine")).content.decode()
    assert correction.get_status_display() in page


def test_a_worker_answers_a_request_without_changing_the_record(
    client, register, resident, grid_worker
):
    zhang = register["zhang"]
    services.resident_link_user(resident=zhang, user=resident, actor=grid_worker)
    correction = services.correction_request_create(
        resident=zhang, requested_by=resident, field="name", proposed="张建民"
    )
    client.force_login(grid_worker)
    url = reverse("people:correction_answer", args=[correction.pk])
    client.post(url, {"approve": "0", "answer": ""})
    correction.refresh_from_db()
    assert correction.status == CorrectionRequest.Status.OPEN

    client.post(url, {"approve": "0", "answer": "户口本上是张建国"})
    correction.refresh_from_db()
    zhang.refresh_from_db()
    assert correction.status == CorrectionRequest.Status.REJECTED
    assert zhang.name == "张建国"
    assert client.get(reverse("people:corrections")).context["page"].object_list == []
    response = client.get(reverse("people:corrections"), {"status": "rejected"})
    assert "户口本上是张建国" in response.content.decode()


def test_an_unlinked_resident_is_told_who_can_link_the_account(client, register, resident):
    client.force_login(resident)
    response = client.get(reverse("people:mine"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="not-linked"' in page
    assert "张建国" not in page
    assert reverse("areas:map") in page
    response = client.get(reverse("people:correction_new"))
    assert response.status_code == 200
    assert response.context["form"] is None


# --- the refresh_visit_due command -----------------------------------------------------------


def test_refresh_visit_due_checks_and_repairs_the_stored_dates(register, grid_worker, tags):
    zhang = register["zhang"]
    _overdue(zhang, grid_worker, tags["elderly-alone"])
    out = io.StringIO()
    call_command("refresh_visit_due", "--check", stdout=out)

    Resident.objects.filter(pk=zhang.pk).update(next_visit_due=timezone.localdate())
    Resident.objects.filter(pk=register["li"].pk).update(next_visit_due=timezone.localdate())
    with pytest.raises(CommandError) as caught:
        call_command("refresh_visit_due", "--check", stdout=out)
    assert caught.value.returncode == 1
    assert "2" in str(caught.value)

    out = io.StringIO()
    call_command("refresh_visit_due", stdout=out)
    assert "2" in out.getvalue()
    zhang.refresh_from_db()
    assert zhang.next_visit_due == timezone.localdate() - timedelta(days=30 - 7)
    assert Resident.objects.get(pk=register["li"].pk).next_visit_due is None
    call_command("refresh_visit_due", "--check", stdout=out)
