"""The case page at its three levels, every action posted through it, refusals, and the
scoped photo view (linli/cases/views/case.py)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from linli.accounts.models import User
from linli.cases import case_services
from linli.cases.forms_case import SEND_BACK_LABELS
from linli.cases.models import Case, CaseEvent, CasePhoto, Extension, WhistleCall
from linli.cases.views.case import ACTS
from linli.cases.workflow import Action
from linli.core.testing import photo_upload

IN_G11 = (118.605, 37.405)
PHONE = "13812345678"
NAMES = {
    "resident": "赵居民",
    "dispatcher": "张调度",
    "handler": "李处置",
    "grid_worker": "王网格",
}


@pytest.fixture(autouse=True)
def english_pages(client):
    """Pages read the language cookie (like a street office's screens)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def people(personas):
    """The personas with display names that cannot turn up on a page by chance."""
    for key, name in NAMES.items():
        personas[key].name = name
        personas[key].save(update_fields=["name"])
    return personas


@pytest.fixture
def neighbour(street):
    """A resident who neither reported nor follows the case."""
    user = User(username="neighbour", role="resident", name="钱邻居")
    user.set_password("x")
    user.save()
    return user


@pytest.fixture
def other_handler(catalogue):
    user = User(username="hw-handler", role="handler", department=catalogue["HW"], name="孙环卫")
    user.set_password("x")
    user.save()
    return user


def report(matter, reporter, **extra) -> Case:
    values = {
        "matter": matter,
        "description": "小区门口路边有一堆生活垃圾",
        "lon": IN_G11[0],
        "lat": IN_G11[1],
        "source": "resident",
        "reporter": reporter,
        "address": "济南路12号门口",
        "answers": {"amount": "cart"},
        "photos": [photo_upload()],
        "contact_name": "赵先生",
        "contact_phone": PHONE,
    }
    return case_services.case_report(**(values | extra))


def handled(matter, people) -> Case:
    """A case reported by the resident, dispatched to CG, signed and being handled."""
    centre, department = people["dispatcher"], people["handler"]
    case = report(matter, people["resident"])
    case = case_services.case_accept(case=case, actor=centre)
    case = case_services.case_dispatch(case=case, actor=centre)
    case = case_services.case_sign(case=case, actor=department)
    return case_services.case_start(case=case, actor=department)


def closed(matter, people) -> Case:
    case = handled(matter, people)
    case = case_services.case_reply(
        case=case, actor=people["handler"], note="已清理干净。", photos=[photo_upload()]
    )
    return case_services.case_verify(
        case=case,
        actor=people["grid_worker"],
        passed=True,
        note="干净了。",
        photos=[photo_upload()],
    )


def page(client, user, case):
    client.force_login(user)
    return client.get(reverse("cases:case", args=[case.pk]))


def act(client, user, case, action, data=None, **extra):
    client.force_login(user)
    return client.post(reverse("cases:act", args=[case.pk, action]), data or {}, **extra)


def act_url(case, action) -> str:
    return reverse("cases:act", args=[case.pk, action])


def me_too_exists() -> bool:
    try:
        reverse("cases:me_too", args=[1])
    except NoReverseMatch:
        return False
    return True


# --- what each level sees -----------------------------------------------------------------------


def test_the_centre_sees_the_whole_case_and_its_next_moves(client, matter, people):
    case = report(matter, people["resident"])

    response = page(client, people["dispatcher"], case)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    for text in (case.number, "06010", "暴露垃圾", "小区门口路边有一堆生活垃圾", "济南路12号门口"):
        assert text in html
    assert NAMES["resident"] in html and "赵先生" in html
    assert case.contact_phone_masked in html and PHONE not in html
    # The answer under its question's prompt, the option by its name.
    assert "垃圾量" in html and "一车以内" in html
    photo = CasePhoto.objects.get(case=case)
    assert reverse("cases:photo", args=[photo.pk, "thumbnail"]) in html
    assert reverse("cases:photo", args=[photo.pk, "image"]) in html
    assert 'data-lon="118.605000"' in html and 'id="case-grid"' in html
    for action in ("accept", "reject", "merge"):
        assert act_url(case, action) in html
    assert act_url(case, "dispatch") not in html


def test_the_staff_page_shows_deadline_departments_counts_and_supervision(
    client, matter, people, catalogue, neighbour
):
    centre = people["dispatcher"]
    case = report(matter, people["resident"])
    case = case_services.case_accept(case=case, actor=centre)
    case = case_services.case_dispatch(case=case, actor=centre, co_departments=[catalogue["HW"]])
    case_services.case_me_too(case=case, user=neighbour)
    case_services.case_urge(case=case, actor=centre, note="请尽快处理。")
    Case.objects.filter(pk=case.pk).update(
        deadline=timezone.now() - timedelta(days=3), rework_count=2
    )

    html = page(client, centre, case).content.decode()

    assert "overdue by" in html
    assert "城管" in html and catalogue["HW"].name in html
    assert "2 / 0 / 0" in html
    assert "1 resident said “me too”" in html
    assert "Urged by the centre" in html and "请尽快处理。" in html
    assert NAMES["dispatcher"] in html
    assert act_url(case, "urge") in html and act_url(case, "whistle") in html


def test_a_case_on_time_shows_the_working_time_left(client, matter, people):
    centre = people["dispatcher"]
    case = report(matter, people["resident"])
    case = case_services.case_accept(case=case, actor=centre)
    case = case_services.case_dispatch(case=case, actor=centre)
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() + timedelta(days=30))

    html = page(client, centre, case).content.decode()

    assert "due in" in html and "overdue by" not in html


def test_the_reporter_sees_the_public_side_without_staff_names(client, matter, people):
    case = closed(matter, people)

    response = page(client, people["resident"], case)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    for name in (NAMES["dispatcher"], NAMES["handler"], NAMES["grid_worker"]):
        assert name not in html
    assert "城管" in html  # the department's steps carry its name
    assert "dispatch centre" in html and "grid worker" in html
    assert "已清理干净。" in html  # the department's answer
    kinds = set(CasePhoto.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == {"report", "reply", "check"}
    for photo in CasePhoto.objects.filter(case=case):
        assert reverse("cases:photo", args=[photo.pk, "thumbnail"]) in html
    # Closed and theirs: the rating form, and nothing else.
    assert act_url(case, "rate") in html
    assert act_url(case, "archive") not in html
    assert PHONE not in html and case.contact_phone_masked not in html


def test_another_resident_sees_the_public_timeline_and_nothing_personal(
    client, matter, people, neighbour
):
    case = handled(matter, people)

    response = page(client, neighbour, case)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "暴露垃圾" in html and "小区门口路边有一堆生活垃圾" in html
    assert "胜园社区第1网格" in html and "胜园社区" in html
    assert "Signed for by the department" in html and "城管" in html
    for secret in (
        NAMES["resident"],
        NAMES["dispatcher"],
        NAMES["handler"],
        "赵先生",
        case.contact_phone_masked,
        PHONE,
        "济南路12号门口",
        "/cases/photos/",
        "/act/",
    ):
        assert secret not in html, secret
    if me_too_exists():
        assert reverse("cases:me_too", args=[case.pk]) in html


def test_a_closed_case_offers_no_me_too(client, matter, people, neighbour):
    case = closed(matter, people)
    html = page(client, neighbour, case).content.decode()
    assert "no longer open" in html
    if me_too_exists():
        assert reverse("cases:me_too", args=[case.pk]) not in html


def test_a_follower_sees_the_case_but_may_not_rate_it(client, matter, people, neighbour):
    case = handled(matter, people)
    case_services.case_me_too(case=case, user=neighbour)
    case = case_services.case_reply(case=case, actor=people["handler"], note="已清理。")
    case = case_services.case_verify(
        case=case, actor=people["grid_worker"], passed=True, note="好了。", photos=[photo_upload()]
    )

    html = page(client, neighbour, case).content.decode()

    assert "/cases/photos/" in html  # a follower sees the photos
    assert act_url(case, "rate") not in html
    response = act(
        client, neighbour, case, "rate", {"resolved": "yes", "satisfaction": "satisfied"}
    )
    assert response.status_code == 403
    assert Case.objects.get(pk=case.pk).status == "closed"


@pytest.mark.parametrize("who", ["other_handler", "other_grid_worker"])
def test_staff_outside_the_case_get_a_404(who, client, matter, people, other_handler):
    case = handled(matter, people)
    user = other_handler if who == "other_handler" else people["other_grid_worker"]
    assert page(client, user, case).status_code == 404
    assert act(client, user, case, "reply", {"note": "x"}).status_code == 404


def test_a_leader_sees_the_case_but_has_no_action_forms(client, matter, people):
    case = handled(matter, people)
    response = page(client, people["leader"], case)
    html = response.content.decode()
    assert response.status_code == 200
    assert NAMES["handler"] in html
    assert "/act/" not in html and "/decide/" not in html
    assert "Nothing for you to do" in html


def test_a_handler_sees_only_the_department_moves(client, matter, people):
    case = handled(matter, people)
    html = page(client, people["handler"], case).content.decode()
    assert act_url(case, "reply") in html
    assert act_url(case, "extension_request") in html
    assert act_url(case, "park") not in html and act_url(case, "urge") not in html


def test_an_anonymous_visitor_is_sent_to_sign_in(client, matter, people):
    case = report(matter, people["resident"])
    photo = CasePhoto.objects.get(case=case)
    for url in (
        reverse("cases:case", args=[case.pk]),
        reverse("cases:photo", args=[photo.pk, "image"]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(act_url(case, "accept"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Case.objects.get(pk=case.pk).status == "reported"


def test_a_missing_case_is_a_404(client, people, db):
    client.force_login(people["dispatcher"])
    assert client.get(reverse("cases:case", args=[999999])).status_code == 404


# --- the actions --------------------------------------------------------------------------------


def test_the_whole_loop_runs_through_the_page(client, matter, people):
    resident, centre = people["resident"], people["dispatcher"]
    department, worker = people["handler"], people["grid_worker"]
    case = report(matter, resident)
    steps = [
        (centre, "accept", {"note": "立案。"}, "accepted", "Case accepted."),
        (
            centre,
            "dispatch",
            {"department": matter.lead_department_id, "urgency": "urgent", "note": ""},
            "dispatched",
            "Case dispatched.",
        ),
        (department, "sign", {}, "signed", "Case signed for."),
        (department, "start", {}, "handling", "Handling started."),
        (
            department,
            "reply",
            {"note": "已清理。", "photos": [photo_upload("a.jpg"), photo_upload("b.jpg")]},
            "replied",
            "Reply sent",
        ),
        (worker, "verify_fail", {"note": "还有残留。"}, "handling", "Check failed"),
        (department, "reply", {"note": "已彻底清理。"}, "replied", "Reply sent"),
        (
            worker,
            "verify_pass",
            {"note": "干净了。", "photos": [photo_upload("c.jpg")]},
            "closed",
            "Check passed",
        ),
        (resident, "rate", {"resolved": "yes", "satisfaction": "satisfied"}, "rated", "Rating"),
        (centre, "archive", {}, "archived", "Case archived."),
    ]
    for user, action, data, status, message in steps:
        html = page(client, user, case).content.decode()
        assert act_url(case, action) in html, action
        client.force_login(user)
        response = client.post(act_url(case, action), data, follow=True)
        assert response.status_code == 200, (action, response.status_code)
        assert response.redirect_chain[-1][0] == reverse("cases:case", args=[case.pk])
        assert message in response.content.decode(), action
        assert Case.objects.get(pk=case.pk).status == status, action

    case.refresh_from_db()
    assert (case.urgency, case.rework_count, case.satisfaction, case.resolved) == (
        "urgent",
        1,
        "satisfied",
        True,
    )
    assert [e.action for e in case.events.order_by("created_at", "id")] == [
        "report",
        "accept",
        "dispatch",
        "sign",
        "start",
        "reply",
        "verify_fail",
        "reply",
        "verify_pass",
        "rate",
        "archive",
    ]
    photos = list(case.photos.values_list("kind", flat=True))
    assert sorted(photos) == ["check", "reply", "reply", "report"]
    first_reply = case.events.filter(action="reply").order_by("id").first()
    assert first_reply.photos.count() == 2


def test_a_double_submit_is_refused_and_changes_nothing(client, matter, people):
    case = report(matter, people["resident"])
    assert act(client, people["dispatcher"], case, "accept").status_code == 302
    events = CaseEvent.objects.filter(case=case).count()

    response = act(client, people["dispatcher"], case, "accept")

    assert response.status_code == 400
    html = response.content.decode()
    assert "is not possible now" in html
    assert html.count("<h1") == 1
    case.refresh_from_db()
    assert case.status == "accepted"
    assert CaseEvent.objects.filter(case=case).count() == events


def test_a_missing_reason_is_a_field_error_next_to_its_form(client, matter, people):
    case = report(matter, people["resident"])

    response = act(client, people["dispatcher"], case, "reject", {"reason": "  "})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_reject_reason"' in html and "invalid-feedback" in html
    assert '<details class="border rounded px-2 py-1 mb-2" open>' in html
    assert Case.objects.get(pk=case.pk).status == "reported"


def test_a_check_without_the_photo_the_matter_needs_is_refused(client, matter, people):
    case = handled(matter, people)
    case = case_services.case_reply(case=case, actor=people["handler"], note="已清理。")
    html = page(client, people["grid_worker"], case).content.decode()
    assert "needs at least one photo taken at the check" in html

    response = act(client, people["grid_worker"], case, "verify_pass", {"note": "好了。"})

    assert response.status_code == 400
    assert "needs a photo taken at the check" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == "replied"


def test_a_file_that_is_not_a_photo_is_refused_and_stores_nothing(client, matter, people):
    case = handled(matter, people)
    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg")

    response = act(client, people["handler"], case, "reply", {"note": "好了。", "photos": [fake]})

    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "handling"
    assert not case.photos.filter(kind="reply").exists()
    assert not case.events.filter(action="reply").exists()


def test_a_handler_sends_a_case_back_with_a_reason(client, matter, people):
    centre = people["dispatcher"]
    case = report(matter, people["resident"])
    case = case_services.case_accept(case=case, actor=centre)
    case = case_services.case_dispatch(case=case, actor=centre)
    html = page(client, people["handler"], case).content.decode()
    assert str(SEND_BACK_LABELS["wrong_area"]) in html

    response = act(
        client,
        people["handler"],
        case,
        "send_back",
        {"reason_code": "wrong_area", "note": "不归我们。"},
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.sendback_count, case.lead_department) == ("accepted", 1, None)
    event = case.events.get(action="send_back")
    assert event.data["reason_code"] == "wrong_area"
    html = page(client, centre, case).content.decode()
    assert str(SEND_BACK_LABELS["wrong_area"]) in html


def test_dispatch_with_co_handlers_and_the_matters_department_by_default(
    client, matter, people, catalogue
):
    centre = people["dispatcher"]
    case = report(matter, people["resident"])
    case = case_services.case_accept(case=case, actor=centre)
    html = page(client, centre, case).content.decode()
    assert f'<option value="{matter.lead_department_id}" selected>' in html

    response = act(
        client,
        centre,
        case,
        "dispatch",
        {
            "department": matter.lead_department_id,
            "co_departments": [catalogue["HW"].pk],
            "urgency": "normal",
        },
    )

    assert response.status_code == 302
    roles = set(Case.objects.get(pk=case.pk).assignments.values_list("department__code", "role"))
    assert roles == {("CG", "lead"), ("HW", "co_handler")}


def test_park_and_resume(client, matter, people):
    centre = people["dispatcher"]
    case = handled(matter, people)

    assert act(client, centre, case, "park", {"note": ""}).status_code == 400
    assert Case.objects.get(pk=case.pk).status == "handling"
    assert act(client, centre, case, "park", {"note": "需要明年预算。"}).status_code == 302
    assert Case.objects.get(pk=case.pk).status == "parked"
    assert act(client, centre, case, "resume").status_code == 302
    assert Case.objects.get(pk=case.pk).status == "accepted"


def test_an_unsatisfied_callback_and_a_reopen(client, matter, people):
    centre = people["dispatcher"]
    case = closed(matter, people)

    response = act(client, centre, case, "rate", {"resolved": "no", "satisfaction": "unsatisfied"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.resolved, case.satisfaction) == ("rated", False, "unsatisfied")
    assert act(client, centre, case, "reopen", {"note": "又堆上了。"}).status_code == 302
    case.refresh_from_db()
    assert (case.status, case.reopen_count) == ("dispatched", 1)


def test_a_rating_needs_both_answers(client, matter, people):
    case = closed(matter, people)
    response = act(client, people["resident"], case, "rate", {"resolved": "yes"})
    assert response.status_code == 400
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_merge_into_an_offered_duplicate_or_a_typed_number(client, matter, people, neighbour):
    centre = people["dispatcher"]
    first = report(matter, people["resident"])
    case_services.case_accept(case=first, actor=centre)
    twin = report(matter, neighbour, photos=[])
    third = report(matter, neighbour, photos=[], description="别的描述完全不同的事情")

    html = page(client, centre, twin).content.decode()
    assert f'value="{first.pk}"' in html and f'value="{twin.pk}"' not in html

    response = act(client, centre, twin, "merge", {"into": first.pk})
    assert response.status_code == 302
    twin.refresh_from_db()
    assert (twin.status, twin.merged_into_id) == ("merged", first.pk)
    assert first.supports.filter(user=neighbour, kind="merged").exists()
    html = page(client, centre, first).content.decode()
    assert twin.number in html
    html = page(client, neighbour, twin).content.decode()
    assert reverse("cases:case", args=[first.pk]) in html and first.number in html

    response = act(client, centre, third, "merge", {"number": "2000-00000000"})
    assert response.status_code == 400
    assert "No other case with this number" in response.content.decode()
    response = act(client, centre, third, "merge", {"number": first.number})
    assert response.status_code == 302
    assert Case.objects.get(pk=third.pk).merged_into_id == first.pk


def test_an_extension_is_asked_for_and_answered(client, matter, people):
    centre, department = people["dispatcher"], people["handler"]
    case = handled(matter, people)
    Case.objects.filter(pk=case.pk).update(deadline=timezone.now() + timedelta(days=2))

    response = act(
        client,
        department,
        case,
        "extension_request",
        {"amount": "2", "unit": "days", "reason": "等配件。"},
    )
    assert response.status_code == 302
    extension = Extension.objects.get(case=case)
    assert extension.status == "pending"
    html = page(client, department, case).content.decode()
    assert act_url(case, "extension_request") not in html  # one pending at a time
    html = page(client, centre, case).content.decode()
    decide = reverse("cases:extension_decide", args=[extension.pk])
    assert decide in html and "等配件。" in html

    client.force_login(department)
    assert client.post(decide, {"approve": "yes"}).status_code == 403  # the centre decides
    client.force_login(centre)
    response = client.post(decide, {"approve": "no", "note": ""})
    assert response.status_code == 400
    assert Extension.objects.get(pk=extension.pk).status == "pending"
    response = client.post(decide, {"approve": "yes"}, follow=True)
    assert "Extension approved" in response.content.decode()
    extension.refresh_from_db()
    assert extension.status == "approved"
    assert Case.objects.get(pk=case.pk).deadline == extension.new_deadline
    response = client.post(decide, {"approve": "yes"})
    assert response.status_code == 400
    assert "already been answered" in response.content.decode()


def test_a_whistle_summons_departments_and_they_report_in(
    client, matter, people, catalogue, other_handler
):
    centre = people["dispatcher"]
    case = handled(matter, people)

    response = act(client, centre, case, "whistle", {"note": "联合处置。"})
    assert response.status_code == 400  # no department chosen
    response = act(
        client, centre, case, "whistle", {"departments": [catalogue["HW"].pk], "note": "联合处置。"}
    )
    assert response.status_code == 302
    call = WhistleCall.objects.get(whistle__case=case)
    html = page(client, centre, case).content.decode()
    assert "still waiting" in html

    html = page(client, other_handler, case).content.decode()
    report_in = reverse("cases:report_in", args=[call.pk])
    assert report_in in html
    client.force_login(people["handler"])  # CG, not summoned
    assert client.post(report_in).status_code == 403
    client.force_login(other_handler)
    response = client.post(report_in, {"note": "已到场。"}, follow=True)
    assert "reported in" in response.content.decode()
    call.refresh_from_db()
    assert call.reported_by == other_handler
    html = page(client, centre, case).content.decode()
    assert "reported in after 0 minutes" in html
    client.force_login(other_handler)
    assert client.post(report_in).status_code == 400


def test_urging_a_case(client, matter, people):
    case = handled(matter, people)
    assert act(client, people["dispatcher"], case, "urge", {"note": "加快。"}).status_code == 302
    assert case.events.filter(action="urge").count() == 1
    case = case_services.case_reply(case=case, actor=people["handler"], note="好了。")
    response = act(client, people["dispatcher"], case, "urge")
    assert response.status_code == 400
    assert case.events.filter(action="urge").count() == 1


def test_a_move_someone_else_owns_is_forbidden(client, matter, people):
    case = report(matter, people["resident"])
    assert act(client, people["grid_worker"], case, "accept").status_code == 403
    assert act(client, people["resident"], case, "accept").status_code == 403
    assert Case.objects.get(pk=case.pk).status == "reported"


def test_unknown_actions_wrong_methods_and_missing_csrf_are_refused(client, matter, people):
    case = report(matter, people["resident"])
    assert act(client, people["dispatcher"], case, "explode").status_code == 404
    assert act(client, people["dispatcher"], case, "comment").status_code == 404
    client.force_login(people["dispatcher"])
    assert client.get(act_url(case, "accept")).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people["dispatcher"])
    assert strict.post(act_url(case, "accept")).status_code == 403
    assert Case.objects.get(pk=case.pk).status == "reported"


def test_htmx_gets_the_panel_with_errors_or_a_client_redirect(client, matter, people):
    case = report(matter, people["resident"])

    response = act(client, people["dispatcher"], case, "reject", {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="case-panel"') and "<h1" not in html

    response = act(client, people["dispatcher"], case, "accept", {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("cases:case", args=[case.pk])
    assert Case.objects.get(pk=case.pk).status == "accepted"


def test_every_move_and_note_action_has_a_form():
    assert set(Action.values) <= set(ACTS)
    assert set(ACTS) - set(Action.values) == {"urge", "extension_request", "whistle"}


# --- photos -------------------------------------------------------------------------------------


def test_photos_are_served_only_to_those_who_may_see_them(
    client, matter, people, neighbour, other_handler
):
    case = report(matter, people["resident"])
    photo = CasePhoto.objects.get(case=case)
    url = reverse("cases:photo", args=[photo.pk, "thumbnail"])
    for user in (people["dispatcher"], people["grid_worker"], people["resident"], people["leader"]):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, user
        assert response["Cache-Control"] == "private, max-age=3600"
        assert response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    for user in (neighbour, people["other_grid_worker"], other_handler, people["handler"]):
        client.force_login(user)
        assert client.get(url).status_code == 404, user
    client.force_login(people["dispatcher"])
    assert client.get(reverse("cases:photo", args=[photo.pk, "exif"])).status_code == 404
    assert client.get(reverse("cases:photo", args=[999999, "image"])).status_code == 404


def test_the_staff_page_does_not_grow_queries_with_the_timeline(client, matter, people):
    centre = people["dispatcher"]
    case = handled(matter, people)
    client.force_login(centre)
    url = reverse("cases:case", args=[case.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(5):
        case_services.case_urge(case=case, actor=centre, note=f"第{i}次")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_the_case_page_is_where_notifications_link(matter, people):
    from linli.cases import notices

    case = report(matter, people["resident"])
    assert reverse("cases:case", args=[case.pk]) == notices.case_link(case)
