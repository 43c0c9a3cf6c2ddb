"""The staff lists (linli/cases/views/lists.py): the case list with its filters and sorts,
the centre's queue with bulk accept and dispatch, the department inbox, the on-site checks
and the extension requests; who sees which cases, and what each page costs in queries."""

import itertools
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import User
from linli.cases import case_services
from linli.cases.models import Case, CaseAssignment, CaseEvent, Matter
from linli.core.navigation import nav_for
from linli.core.testing import photo_upload

IN = {"g11": (118.605, 37.405), "g12": (118.615, 37.405), "g21": (118.625, 37.405)}
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def english_pages(client):
    """Pages follow the language cookie (linli.core.middleware.LanguageMiddleware)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def orphan_matter(catalogue):
    """A matter outside class 06, with handling limits but no default lead department."""
    matter = Matter.objects.exclude(code__startswith="06").filter(limits__isnull=False).first()
    matter.lead_department = None
    matter.save()
    return matter


@pytest.fixture
def hw_handler(catalogue):
    user = User(username="hw-handler", role="handler", department=catalogue["HW"])
    user.set_password("x")
    user.save()
    return user


def make(status="reported", *, street, matter, grid="g11", department=None, **extra) -> Case:
    """A case straight in `status`; with `department`, assigned to it as lead."""
    lon, lat = IN[grid]
    values = {
        "number": f"2026-{next(_numbers):08d}",
        "source": "resident",
        "matter": matter,
        "description": "路边有一堆垃圾",
        "lon": lon,
        "lat": lat,
        "grid": street[grid],
        "status": status,
        "lead_department": department,
    }
    case = Case.objects.create(**(values | extra))
    if department is not None:
        CaseAssignment.objects.create(case=case, department=department, role="lead")
    return case


def link(case) -> str:
    return f'href="/cases/{case.pk}/"'


def page(client, user, name, **params):
    client.force_login(user)
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return response


def numbers(response) -> set[str]:
    return {case.number for case in response.context["page"].object_list}


# --- the case list: scope ---------------------------------------------------------------------


def test_a_handler_lists_only_their_departments_cases(client, street, matter, handler, catalogue):
    ours = make("dispatched", street=street, matter=matter, department=street["dept"])
    theirs = make("dispatched", street=street, matter=matter, department=catalogue["HW"])
    unassigned = make("reported", street=street, matter=matter)

    response = page(client, handler, "cases:list")

    assert numbers(response) == {ours.number}
    html = response.content.decode()
    assert link(ours) in html
    assert theirs.number not in html and unassigned.number not in html


def test_a_grid_worker_lists_only_their_grid(client, street, matter, grid_worker):
    mine = make(street=street, matter=matter, grid="g11")
    next_door = make(street=street, matter=matter, grid="g12")
    far = make(street=street, matter=matter, grid="g21")

    response = page(client, grid_worker, "cases:list")

    assert numbers(response) == {mine.number}
    assert next_door.number not in response.content.decode()
    assert far.number not in response.content.decode()


def test_a_community_dispatcher_lists_only_their_community(
    client, street, matter, community_worker
):
    g11 = make(street=street, matter=matter, grid="g11")
    g12 = make(street=street, matter=matter, grid="g12")
    make(street=street, matter=matter, grid="g21")

    response = page(client, community_worker, "cases:list")

    assert numbers(response) == {g11.number, g12.number}


def test_the_area_filter_offers_only_places_in_scope(client, street, matter, community_worker):
    make(street=street, matter=matter, grid="g21")
    response = page(client, community_worker, "cases:list")
    codes = {code for code, _label in response.context["form"].fields["area"].choices}
    assert codes == {"", street["c1"].code, street["g11"].code, street["g12"].code}

    # An area outside the scope is a field error, and lists nothing rather than everything.
    response = page(client, community_worker, "cases:list", area=street["g21"].code)
    assert "Community or grid: Select a valid choice." in response.content.decode()
    assert numbers(response) == set()


def test_residents_and_visitors_cannot_open_the_list(client, street, resident):
    response = client.get(reverse("cases:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(resident)
    assert client.get(reverse("cases:list")).status_code == 403


# --- the case list: filters, sorting, paging ------------------------------------------------------


def test_the_list_filters_by_each_field(client, street, matter, orphan_matter, dispatcher):
    now = timezone.now()
    late = make(
        "handling",
        street=street,
        matter=matter,
        department=street["dept"],
        deadline=now - timedelta(hours=2),
        source="hotline",
        address="济南路12号",
    )
    on_time = make(
        "handling",
        street=street,
        matter=matter,
        grid="g21",
        department=street["dept"],
        deadline=now + timedelta(days=1),
        description="井盖丢失",
    )
    reported = make(street=street, matter=orphan_matter, grid="g12", source="grid_worker")

    def listed(**params):
        return numbers(page(client, dispatcher, "cases:list", **params))

    everything = {late.number, on_time.number, reported.number}
    assert listed() == everything
    assert listed(status="handling") == {late.number, on_time.number}
    assert listed(status="open") == everything
    assert listed(status="closed") == set()
    assert listed(matter="06010") == {late.number, on_time.number}
    assert listed(matter="06") == {late.number, on_time.number}
    assert listed(matter=orphan_matter.code[:2]) == {reported.number}
    assert listed(area=street["c1"].code) == {late.number, reported.number}
    assert listed(area=street["g21"].code) == {on_time.number}
    assert listed(source="hotline") == {late.number}
    assert listed(department="CG") == {late.number, on_time.number}
    assert listed(overdue="yes") == {late.number}
    assert listed(overdue="no") == {on_time.number, reported.number}
    assert listed(q=late.number) == {late.number}
    assert listed(q="井盖") == {on_time.number}
    assert listed(q="济南路") == {late.number}
    assert listed(status="handling", area=street["c1"].code, overdue="yes") == {late.number}


def test_a_bad_filter_is_a_field_error(client, street, matter, dispatcher):
    make(street=street, matter=matter)
    response = page(client, dispatcher, "cases:list", overdue="maybe", sort="random")
    html = response.content.decode()
    assert "Overdue: Select a valid choice." in html
    assert "Sort: Select a valid choice." in html
    assert numbers(response) == set()


def test_the_list_sorts_by_deadline_newest_or_oldest(client, street, matter, dispatcher):
    now = timezone.now()
    dept = street["dept"]
    later = make(
        "signed",
        street=street,
        matter=matter,
        department=dept,
        deadline=now + timedelta(days=3),
        reported_at=now - timedelta(days=3),
    )
    sooner = make(
        "signed",
        street=street,
        matter=matter,
        department=dept,
        deadline=now + timedelta(hours=1),
        reported_at=now - timedelta(days=1),
    )
    waiting = make(street=street, matter=matter, reported_at=now - timedelta(days=2))

    def order(sort):
        response = page(client, dispatcher, "cases:list", sort=sort)
        return [case.number for case in response.context["page"].object_list]

    # Cases without a deadline come last, on SQLite as on PostgreSQL.
    assert order("deadline") == [sooner.number, later.number, waiting.number]
    assert order("-reported") == [sooner.number, waiting.number, later.number]
    assert order("reported") == [later.number, waiting.number, sooner.number]


def test_overdue_is_marked_only_while_a_department_works_on_the_case(
    client, street, matter, dispatcher
):
    past = timezone.now() - timedelta(hours=1)
    running = make("handling", street=street, matter=matter, deadline=past)
    replied = make("replied", street=street, matter=matter, deadline=past)

    response = page(client, dispatcher, "cases:list")

    flags = {case.number: case.is_overdue for case in response.context["page"].object_list}
    assert flags == {running.number: True, replied.number: False}
    assert response.content.decode().count(">overdue</span>") == 1


def test_pages_of_fifty_keep_the_filters_in_their_links(client, street, matter, dispatcher):
    for _ in range(51):
        make(street=street, matter=matter, source="hotline")
    make(street=street, matter=matter, source="resident")

    response = page(client, dispatcher, "cases:list", source="hotline")
    assert len(response.context["page"].object_list) == 50
    html = response.content.decode()
    assert "51 in all" in html
    assert 'href="?source=hotline&amp;page=2"' in html

    response = page(client, dispatcher, "cases:list", source="hotline", page=2)
    assert len(response.context["page"].object_list) == 1


def test_the_filters_answer_htmx_with_the_rows_only(client, street, matter, dispatcher):
    case = make(street=street, matter=matter)
    client.force_login(dispatcher)
    response = client.get(reverse("cases:list"), {"q": case.number}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert case.number in html
    assert "<h1" not in html and "<form" not in html


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_two_rows_or_fifty(
    client, street, matter, handler, dispatcher, django_assert_max_num_queries
):
    url = reverse("cases:list")
    for viewer in (dispatcher, handler):
        client.force_login(viewer)
        for _ in range(2):
            make("dispatched", street=street, matter=matter, department=street["dept"])
        few = _queries(client, url, {"sort": "deadline"})
        for _ in range(60):
            make("dispatched", street=street, matter=matter, department=street["dept"])
        many = _queries(client, url, {"sort": "deadline"})
        assert few == many
        with django_assert_max_num_queries(12):
            client.get(url, {"status": "open", "overdue": "no", "page": 2})


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_has_three_tabs_with_their_counts(client, street, matter, dispatcher):
    reported = [make(street=street, matter=matter) for _ in range(2)]
    accepted = make("accepted", street=street, matter=matter)
    replied = make("replied", street=street, matter=matter, department=street["dept"])
    make("handling", street=street, matter=matter, department=street["dept"])

    response = page(client, dispatcher, "cases:queue")
    counts = {tab.key: n for tab, n in response.context["tabs"]}
    assert counts == {"reported": 2, "accepted": 1, "replied": 1}
    assert numbers(response) == {c.number for c in reported}
    assert response.context["selectable"]

    response = page(client, dispatcher, "cases:queue", tab="accepted")
    assert numbers(response) == {accepted.number}
    response = page(client, dispatcher, "cases:queue", tab="replied")
    assert numbers(response) == {replied.number}
    assert not response.context["selectable"]
    assert 'name="ids"' not in response.content.decode()


def test_the_queue_opens_on_the_first_tab_with_work(client, street, matter, dispatcher):
    accepted = make("accepted", street=street, matter=matter)
    response = page(client, dispatcher, "cases:queue")
    assert response.context["tab"].key == "accepted"
    assert numbers(response) == {accepted.number}


def test_the_queue_is_only_the_viewers_scope(client, street, matter, community_worker):
    ours = make(street=street, matter=matter, grid="g12")
    make(street=street, matter=matter, grid="g21")
    response = page(client, community_worker, "cases:queue")
    assert numbers(response) == {ours.number}
    assert {tab.key: n for tab, n in response.context["tabs"]}["reported"] == 1


def test_the_queue_filters_by_text_and_place(client, street, matter, dispatcher):
    g11 = make(street=street, matter=matter, grid="g11", description="楼道堆放杂物")
    g21 = make(street=street, matter=matter, grid="g21")
    assert numbers(page(client, dispatcher, "cases:queue", area=street["g21"].code)) == {g21.number}
    assert numbers(page(client, dispatcher, "cases:queue", q="杂物")) == {g11.number}


def test_reported_rows_hint_at_earlier_open_cases_nearby(client, street, matter, dispatcher):
    now = timezone.now()
    first = make("accepted", street=street, matter=matter, reported_at=now - timedelta(hours=5))
    repeat = make(street=street, matter=matter, reported_at=now - timedelta(hours=1))
    elsewhere = make(street=street, matter=matter, grid="g21", reported_at=now - timedelta(hours=1))

    response = page(client, dispatcher, "cases:queue", tab="reported")

    hints = {c.number: [d.case.number for d in c.duplicates] for c in response.context["page"]}
    assert hints == {repeat.number: [first.number], elsewhere.number: []}
    assert "May repeat" in response.content.decode()


def test_the_queue_costs_the_same_queries_for_two_rows_or_fifty(client, street, matter, dispatcher):
    client.force_login(dispatcher)
    url = reverse("cases:queue")
    for _ in range(2):
        make(street=street, matter=matter)
    few = _queries(client, url, {"tab": "reported"})
    for _ in range(60):
        make(street=street, matter=matter)
    many = _queries(client, url, {"tab": "reported"})
    assert few == many


def test_only_the_centre_opens_the_queue(client, street, grid_worker, handler, leader):
    for user in (grid_worker, handler, leader):
        client.force_login(user)
        assert client.get(reverse("cases:queue")).status_code == 403


# --- bulk actions ---------------------------------------------------------------------------------


def bulk(client, user, action, cases, follow=True, **extra):
    client.force_login(user)
    ids = [c if isinstance(c, int) else c.pk for c in cases]
    data = {"action": action, "ids": ids, "tab": "reported"} | extra
    return client.post(reverse("cases:bulk"), data, follow=follow)


def statuses(*cases) -> list[str]:
    return [Case.objects.get(pk=c.pk).status for c in cases]


def test_bulk_accept_accepts_the_good_and_reports_each_refusal(
    client, street, matter, community_worker
):
    good = [make(street=street, matter=matter, grid=g) for g in ("g11", "g12", "g11")]
    done_already = make("accepted", street=street, matter=matter)
    outside = make(street=street, matter=matter, grid="g21")

    response = bulk(client, community_worker, "accept", [*good, done_already, outside, 987654])

    assert response.redirect_chain == [(reverse("cases:queue") + "?tab=reported", 302)]
    assert statuses(*good) == ["accepted"] * 3
    assert statuses(done_already, outside) == ["accepted", "reported"]
    assert not CaseEvent.objects.filter(case=outside).exists()
    assert not CaseEvent.objects.filter(case=done_already).exists()
    assert CaseEvent.objects.filter(action="accept", actor=community_worker).count() == 3
    result = response.context["bulk_result"]
    assert result["summary"] == "3 accepted; 3 refused:"
    assert result["done"] == [c.number for c in good]
    assert result["refused"] == [
        [done_already.number, "The case is accepted: “accept” is not possible now."],
        [f"#{outside.pk}", "No such case in your area."],
        ["#987654", "No such case in your area."],
    ]
    html = response.content.decode()
    assert "3 accepted; 3 refused:" in html
    # An out-of-scope case is not named: its number would tell the viewer it exists.
    assert outside.number not in html


def test_bulk_dispatch_sends_each_case_to_its_matters_department(
    client, street, matter, orphan_matter, dispatcher
):
    good = [make("accepted", street=street, matter=matter) for _ in range(2)]
    no_department = make("accepted", street=street, matter=orphan_matter)
    not_accepted = make(street=street, matter=matter)

    response = bulk(client, dispatcher, "dispatch", [*good, no_department, not_accepted])

    assert statuses(*good) == ["dispatched", "dispatched"]
    for case in good:
        case.refresh_from_db()
        assert case.lead_department == street["dept"]
        assert case.deadline is not None and case.deadline > case.dispatched_at
        assert list(case.assignments.values_list("department__code", "role")) == [("CG", "lead")]
    assert statuses(no_department, not_accepted) == ["accepted", "reported"]
    assert not CaseAssignment.objects.filter(case__in=[no_department, not_accepted]).exists()
    result = response.context["bulk_result"]
    assert result["summary"] == "2 dispatched; 2 refused:"
    assert result["refused"] == [
        [no_department.number, "Choose the department to lead on this case."],
        [not_accepted.number, "The case is reported: “dispatch” is not possible now."],
    ]


def test_bulk_dispatch_to_one_chosen_department_with_an_urgency(
    client, street, matter, orphan_matter, dispatcher, catalogue
):
    cases = [
        make("accepted", street=street, matter=matter),
        make("accepted", street=street, matter=orphan_matter),
    ]
    hw = catalogue["HW"]

    response = bulk(
        client,
        dispatcher,
        "dispatch",
        cases,
        department=hw.pk,
        urgency="urgent",
        note="先处理",
        tab="accepted",
    )

    assert response.redirect_chain[-1][0] == reverse("cases:queue") + "?tab=accepted"
    assert response.context["bulk_result"]["summary"] == "2 dispatched"
    for case in cases:
        case.refresh_from_db()
        assert (case.status, case.lead_department, case.urgency) == ("dispatched", hw, "urgent")
        event = case.events.get()
        assert (event.action, event.note, event.data["department"]) == ("dispatch", "先处理", "HW")


def test_a_second_submission_of_a_bulk_dispatch_changes_nothing(client, street, matter, dispatcher):
    cases = [make("accepted", street=street, matter=matter) for _ in range(3)]
    bulk(client, dispatcher, "dispatch", cases, follow=False)
    before = {c.pk: (c.status, c.deadline, c.updated_at) for c in Case.objects.all()}
    events = CaseEvent.objects.count()
    assignments = CaseAssignment.objects.count()

    response = bulk(client, dispatcher, "dispatch", cases)

    assert {c.pk: (c.status, c.deadline, c.updated_at) for c in Case.objects.all()} == before
    assert CaseEvent.objects.count() == events
    assert CaseAssignment.objects.count() == assignments
    result = response.context["bulk_result"]
    assert result["summary"] == "0 dispatched; 3 refused:"
    assert [reason for _n, reason in result["refused"]] == [
        "The case is dispatched: “dispatch” is not possible now."
    ] * 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "accept"}, "Cases: Tick at least one case."),
        ({"action": "accept", "ids": ["x1"]}, "Cases: Tick cases from the list."),
        ({"action": "accept", "ids": ["0"]}, "Tick cases from the list."),
        ({"action": "close", "ids": ["1"]}, "Action: Select a valid choice."),
        ({"action": "dispatch", "ids": ["1"], "urgency": "now"}, "Urgency: Select a valid choice."),
        (
            {"action": "accept", "ids": [str(i) for i in range(1, 52)]},
            "Cases: At most 50 cases at a time.",
        ),
    ],
)
def test_bad_bulk_input_is_explained_and_changes_nothing(
    client, street, matter, dispatcher, data, message
):
    case = make(street=street, matter=matter)
    client.force_login(dispatcher)

    response = client.post(reverse("cases:bulk"), data, follow=True)

    result = response.context["bulk_result"]
    assert result["summary"].startswith("Nothing was done: ")
    assert message in result["summary"]
    assert statuses(case) == ["reported"]
    assert not CaseEvent.objects.exists()


def test_only_the_centre_may_bulk_act(client, street, matter, grid_worker, handler, leader):
    case = make(street=street, matter=matter)
    for user in (grid_worker, handler, leader):
        response = bulk(client, user, "accept", [case], follow=False)
        assert response.status_code == 403
    client.force_login(handler)
    assert client.get(reverse("cases:bulk")).status_code == 405
    assert statuses(case) == ["reported"]


def test_a_bulk_action_returns_to_the_queue_as_filtered(client, street, matter, dispatcher):
    g11 = make(street=street, matter=matter)
    g21 = make(street=street, matter=matter, grid="g21")
    client.force_login(dispatcher)
    queue = client.get(reverse("cases:queue"), {"area": street["g11"].code})
    assert f'name="area" value="{street["g11"].code}"' in queue.content.decode()

    response = bulk(client, dispatcher, "accept", [g11], area=street["g11"].code)

    assert response.redirect_chain == [
        (f"{reverse('cases:queue')}?tab=reported&area={street['g11'].code}", 302)
    ]
    assert response.context["tab"].key == "reported"
    assert numbers(response) == set()  # nothing left to accept in g11
    assert statuses(g11, g21) == ["accepted", "reported"]


def test_the_result_is_shown_once(client, street, matter, dispatcher):
    case = make(street=street, matter=matter)
    response = bulk(client, dispatcher, "accept", [case])
    assert response.context["bulk_result"]["summary"] == "1 accepted"
    again = client.get(reverse("cases:queue"))
    assert again.context["bulk_result"] is None


# --- the inbox ------------------------------------------------------------------------------------


def test_the_inbox_groups_the_departments_cases_overdue_first(
    client, street, matter, handler, hw_handler, catalogue
):
    now = timezone.now()
    dept = street["dept"]
    due_later = make("dispatched", street=street, matter=matter, department=dept)
    due_later.deadline = now + timedelta(days=2)
    due_later.save()
    overdue = make(
        "dispatched",
        street=street,
        matter=matter,
        department=dept,
        deadline=now - timedelta(hours=3),
    )
    due_soon = make(
        "dispatched",
        street=street,
        matter=matter,
        department=dept,
        deadline=now + timedelta(hours=1),
    )
    handling = make("handling", street=street, matter=matter, department=dept, deadline=now)
    make("signed", street=street, matter=matter, department=dept, deadline=now)
    make("replied", street=street, matter=matter, department=dept, deadline=now)
    make("parked", street=street, matter=matter, department=dept)
    make("closed", street=street, matter=matter, department=dept, closed_at=now, verified_at=now)
    co = make("dispatched", street=street, matter=matter, department=catalogue["HW"])
    CaseAssignment.objects.create(case=co, department=dept, role="co_handler")
    co.deadline = now + timedelta(days=5)
    co.save()
    make("dispatched", street=street, matter=matter, department=catalogue["HW"])

    response = page(client, handler, "cases:inbox")

    counts = {tab.key: n for tab, n in response.context["tabs"]}
    assert counts == {"dispatched": 4, "handling": 2, "replied": 1, "parked": 1}
    rows = list(response.context["page"].object_list)
    assert [c.number for c in rows] == [
        overdue.number,
        due_soon.number,
        due_later.number,
        co.number,
    ]
    assert [c.is_overdue for c in rows] == [True, False, False, False]
    html = response.content.decode()
    assert html.count("co-handling") == 1

    response = page(client, handler, "cases:inbox", tab="handling")
    assert handling.number in numbers(response)

    response = page(client, hw_handler, "cases:inbox")
    assert {tab.key: n for tab, n in response.context["tabs"]}["dispatched"] == 2


def test_only_handlers_have_an_inbox(client, street, dispatcher, grid_worker):
    for user in (dispatcher, grid_worker):
        client.force_login(user)
        assert client.get(reverse("cases:inbox")).status_code == 403


# --- on-site checks -------------------------------------------------------------------------------


def test_the_grid_worker_sees_the_replies_to_check_in_their_grid(
    client, street, matter, grid_worker, other_grid_worker, handler
):
    dept = street["dept"]
    case = make("handling", street=street, matter=matter, department=dept, address="济南路12号")
    case_services.case_reply(case=case, actor=handler, note="已清运", photos=[photo_upload()])
    case_services.case_verify(case=case, actor=grid_worker, passed=False, note="还有残留")
    case_services.case_reply(
        case=case, actor=handler, note="已清运完毕，路面冲洗干净", photos=[photo_upload()]
    )
    latest = case.photos.filter(kind="reply").order_by("-id").first()
    elsewhere = make("replied", street=street, matter=matter, grid="g21", department=dept)
    make("handling", street=street, matter=matter, department=dept)

    response = page(client, grid_worker, "cases:verify")

    assert numbers(response) == {case.number}
    html = response.content.decode()
    assert [row.reply.note for row in response.context["page"]] == ["已清运完毕，路面冲洗干净"]
    assert "已清运完毕，路面冲洗干净" in html
    assert "济南路12号" in html
    assert link(case) in html
    # Only the photos of the reply to check now, through the scoped photo view.
    assert html.count('src="/cases/photos/') == 1
    assert f'src="{reverse("cases:photo", args=[latest.pk, "thumbnail"])}"' in html
    assert numbers(page(client, other_grid_worker, "cases:verify")) == {elsewhere.number}


def test_the_check_list_costs_the_same_queries_for_two_rows_or_fifty(
    client, street, matter, dispatcher, handler
):
    client.force_login(dispatcher)
    url = reverse("cases:verify")

    def add(n):
        for _ in range(n):
            case = make("replied", street=street, matter=matter, department=street["dept"])
            CaseEvent.objects.create(
                case=case, actor=handler, action="reply", from_status="handling",
                to_status="replied", note="done",
            )  # fmt: skip

    add(2)
    few = _queries(client, url)
    add(60)
    assert _queries(client, url) == few


# --- extension requests ---------------------------------------------------------------------------


def ask(case, handler, reason="需要协调物业"):
    return case_services.extension_request(
        case=case, actor=handler, amount=2, unit="days", reason=reason
    )


def test_the_centre_lists_the_extension_requests_in_its_scope(
    client, street, matter, handler, community_worker, dispatcher
):
    soon = timezone.now() + timedelta(hours=4)
    dept = street["dept"]
    ours = make("handling", street=street, matter=matter, department=dept, deadline=soon)
    theirs = make(
        "handling", street=street, matter=matter, grid="g21", department=dept, deadline=soon
    )
    ask(ours, handler, reason="需要协调物业")
    ask(theirs, handler, reason="等待配件")
    answered = ask(
        make("handling", street=street, matter=matter, department=dept, deadline=soon), handler
    )
    case_services.extension_decide(extension=answered, actor=dispatcher, approve=False, note="不行")

    response = page(client, community_worker, "cases:extensions")
    html = response.content.decode()
    assert [e.case.number for e in response.context["page"]] == [ours.number]
    assert "需要协调物业" in html and "等待配件" not in html
    assert link(ours) in html

    response = page(client, dispatcher, "cases:extensions")
    assert [e.case.number for e in response.context["page"]] == [ours.number, theirs.number]

    queue = page(client, dispatcher, "cases:queue")
    assert "2 extension requests" in queue.content.decode()


def test_the_decision_forms_post_what_the_decide_view_reads(
    client, street, matter, handler, dispatcher
):
    soon = timezone.now() + timedelta(hours=4)
    dept = street["dept"]
    approve = ask(
        make("handling", street=street, matter=matter, department=dept, deadline=soon), handler
    )
    refuse = ask(
        make("handling", street=street, matter=matter, department=dept, deadline=soon), handler
    )

    html = page(client, dispatcher, "cases:extensions").content.decode()
    for ext in (approve, refuse):
        assert f'action="{reverse("cases:extension_decide", args=[ext.pk])}"' in html
    assert 'name="approve" value="yes"' in html and 'name="approve" value="no"' in html

    decide = reverse("cases:extension_decide", args=[approve.pk])
    assert client.post(decide, {"approve": "yes", "note": ""}).status_code == 302
    decide = reverse("cases:extension_decide", args=[refuse.pk])
    assert client.post(decide, {"approve": "no", "note": "先按原期限办"}).status_code == 302
    approve.refresh_from_db()
    refuse.refresh_from_db()
    assert (approve.status, refuse.status) == ("approved", "refused")
    assert approve.case.deadline == approve.new_deadline
    assert page(client, dispatcher, "cases:extensions").context["page"].paginator.count == 0


# --- navigation -----------------------------------------------------------------------------------


def test_the_navigation_offers_each_role_its_lists(street, personas):
    lists = {"cases:list", "cases:queue", "cases:inbox", "cases:verify"}
    offered = {
        persona: {item["name"] for item in nav_for(user)} & lists
        for persona, user in personas.items()
    }
    assert offered == {
        "resident": set(),
        "grid_worker": {"cases:list", "cases:verify"},
        "other_grid_worker": {"cases:list", "cases:verify"},
        "dispatcher": {"cases:list", "cases:queue", "cases:verify"},
        "handler": {"cases:list", "cases:inbox"},
        "leader": {"cases:list"},
        "admin": {"cases:list", "cases:queue", "cases:verify"},
    }
