"""The register pages: who may open them, that personal data stays masked until a logged
reveal, that forms put service errors on their fields, and that lists keep their query
count however many people they show."""

from datetime import date

import pytest
from django.urls import reverse

from linli.core.models import AuditEvent
from linli.people import services
from linli.people.models import AccessLog, Household, Resident, ResidentTag, Talent
from linli.people.tests.conftest import ID_A, ID_B, PHONE_A, PHONE_B
from linli.people.validation import id_number_make

HTMX = {"HTTP_HX_REQUEST": "true"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _zhang_pages(register) -> list[str]:
    zhang, home_a = register["zhang"], register["home_a"]
    return [
        reverse("people:resident", args=[zhang.pk]),
        reverse("people:resident_edit", args=[zhang.pk]),
        reverse("people:talent_edit", args=[zhang.pk]),
        reverse("people:household", args=[home_a.pk]),
        reverse("people:household_edit", args=[home_a.pk]),
        reverse("people:resident_new", args=[home_a.pk]),
    ]


LISTS = ["people:home", "people:residents", "people:households", "people:talents"]


# --- the ladder ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, register):
    for url in [*_zhang_pages(register), *(reverse(n) for n in LISTS)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]
    response = client.post(reverse("people:resident_reveal", args=[register["zhang"].pk]))
    assert response.status_code == 302


@pytest.mark.parametrize("persona", ["resident", "handler", "leader"])
def test_roles_outside_the_register_are_refused(client, register, personas, persona):
    client.force_login(personas[persona])
    for url in [*_zhang_pages(register), *(reverse(n) for n in LISTS)]:
        assert client.get(url).status_code == 403, url
    response = client.post(
        reverse("people:resident_reveal", args=[register["zhang"].pk]),
        {"field": "id_number", "reason": "checking"},
    )
    assert response.status_code == 403
    assert AccessLog.objects.count() == 0


def test_a_grid_worker_of_another_grid_gets_404_for_this_grids_people(
    client, register, other_grid_worker
):
    client.force_login(other_grid_worker)
    for url in _zhang_pages(register):
        assert client.get(url).status_code == 404, url
    zhang = register["zhang"]
    for name in ("people:resident_reveal", "people:resident_move_out", "people:resident_tag"):
        response = client.post(
            reverse(name, args=[zhang.pk]), {"field": "id_number", "reason": "checking"}
        )
        assert response.status_code == 404, name
    assert AccessLog.objects.count() == 0
    assert Resident.objects.get(pk=zhang.pk).moved_out_on is None


def test_a_grid_worker_of_another_grid_does_not_find_this_grids_people(
    client, register, other_grid_worker
):
    client.force_login(other_grid_worker)
    html = client.get(reverse("people:residents")).content.decode()
    assert "李秀英" in html
    assert "张建国" not in html
    html = client.get(reverse("people:residents"), {"q": ID_A}).content.decode()
    assert "张建国" not in html
    html = client.get(reverse("people:households")).content.decode()
    assert register["home_a"].number not in html


def test_the_grid_worker_sees_their_people_masked(client, register, grid_worker):
    zhang = register["zhang"]
    client.force_login(grid_worker)
    for url in (reverse("people:residents"), reverse("people:resident", args=[zhang.pk])):
        html = client.get(url).content.decode()
        assert "张建国" in html
        assert zhang.id_number_masked in html
        assert zhang.phone_masked in html
        assert ID_A not in html
        assert PHONE_A not in html
        assert "301室" not in html
    html = client.get(reverse("people:household", args=[register["home_a"].pk])).content.decode()
    assert "济南路12号1号楼2单元" in html
    assert "301室" not in html


def test_the_edit_form_is_never_prefilled_with_a_number(client, register, grid_worker):
    client.force_login(grid_worker)
    zhang = register["zhang"]
    html = client.get(reverse("people:resident_edit", args=[zhang.pk])).content.decode()
    assert "张建国" in html
    assert ID_A not in html
    assert PHONE_A not in html
    # Birth date and gender follow the ID number and would give its hidden digits away.
    assert "1950-03-01" not in html
    html = client.get(
        reverse("people:household_edit", args=[register["home_a"].pk])
    ).content.decode()
    assert "301室" not in html


# --- the reveal ----------------------------------------------------------------------------


def test_a_reveal_without_a_reason_shows_nothing_and_logs_nothing(client, register, grid_worker):
    client.force_login(grid_worker)
    url = reverse("people:resident_reveal", args=[register["zhang"].pk])
    response = client.post(url, {"field": "id_number", "reason": " "}, **HTMX, **EN)
    html = response.content.decode()
    assert ID_A not in html
    assert "Say why" in html
    assert AccessLog.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="people.access").exists()


@pytest.mark.parametrize(
    ("field", "expected"),
    [("id_number", ID_A), ("phone", PHONE_A), ("address", "济南路12号1号楼2单元301室")],
)
def test_a_reveal_with_a_reason_shows_the_value_and_writes_one_log_row(
    client, register, grid_worker, field, expected
):
    client.force_login(grid_worker)
    zhang = register["zhang"]
    url = reverse("people:resident_reveal", args=[zhang.pk])
    response = client.post(url, {"field": field, "reason": "home visit call"}, **HTMX)
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    log = AccessLog.objects.get()
    assert (log.viewer, log.resident_id, log.field, log.reason) == (
        grid_worker,
        zhang.pk,
        field,
        "home visit call",
    )


def test_a_reveal_without_htmx_answers_the_whole_person_page(client, register, grid_worker):
    client.force_login(grid_worker)
    url = reverse("people:resident_reveal", args=[register["zhang"].pk])
    response = client.post(url, {"field": "phone", "reason": "to call him"})
    html = response.content.decode()
    assert response.status_code == 200
    assert PHONE_A in html
    assert ID_A not in html
    assert html.count("<h1") == 1


def test_a_reveal_is_refused_to_a_role_that_may_not_reveal(client, register, grid_worker, settings):
    settings.LINLI_REVEAL_ROLES = ["admin"]
    client.force_login(grid_worker)
    url = reverse("people:resident_reveal", args=[register["zhang"].pk])
    response = client.post(url, {"field": "id_number", "reason": "checking"}, **HTMX)
    assert response.status_code == 403
    assert AccessLog.objects.count() == 0
    html = client.get(reverse("people:resident", args=[register["zhang"].pk])).content.decode()
    assert reverse("people:resident_reveal", args=[register["zhang"].pk]) not in html


def test_a_reveal_of_an_unknown_field_is_a_bad_request(client, register, grid_worker):
    client.force_login(grid_worker)
    url = reverse("people:resident_reveal", args=[register["zhang"].pk])
    response = client.post(url, {"field": "name", "reason": "checking"})
    assert response.status_code == 400
    assert AccessLog.objects.count() == 0


def test_the_reveal_only_answers_post(client, register, grid_worker):
    client.force_login(grid_worker)
    url = reverse("people:resident_reveal", args=[register["zhang"].pk])
    assert client.get(url).status_code == 405


# --- residents: search, forms, tags, moving out ---------------------------------------------


def test_search_by_full_id_number_or_phone_finds_the_person(client, register, grid_worker):
    client.force_login(grid_worker)
    url = reverse("people:residents")
    for q in (ID_A, PHONE_A, "张建"):
        assert "张建国" in client.get(url, {"q": q}).content.decode(), q
    # Part of a number matches nothing: only a blind index of the whole number is stored.
    for q in (ID_A[:10], PHONE_A[-4:]):
        assert "张建国" not in client.get(url, {"q": q}).content.decode(), q


def test_the_list_answers_htmx_with_the_rows_only(client, register, grid_worker):
    client.force_login(grid_worker)
    response = client.get(reverse("people:residents"), {"q": "张"}, **HTMX)
    html = response.content.decode()
    assert "张建国" in html
    assert "<h1" not in html
    assert "<tbody>" in html


def test_creating_a_resident_with_a_bad_check_digit_shows_the_field_error(
    client, register, grid_worker
):
    client.force_login(grid_worker)
    good = id_number_make("370502", date(2012, 4, 5), 51)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    url = reverse("people:resident_new", args=[register["home_a"].pk])
    response = client.post(
        url, {"name": "张小明", "id_number": bad, "relation": "grandchild"}, **EN
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "check digit" in " ".join(form.errors["id_number"])
    assert Resident.objects.count() == 2
    assert not AuditEvent.objects.filter(action="resident.create", target_id="3").exists()


def test_creating_a_resident_registers_them_and_opens_their_page(client, register, grid_worker):
    client.force_login(grid_worker)
    number = id_number_make("370502", date(2012, 4, 5), 51)
    url = reverse("people:resident_new", args=[register["home_a"].pk])
    response = client.post(
        url,
        {
            "name": "张小明",
            "id_number": number,
            "phone": "139 1234 5678",
            "relation": "grandchild",
            "ethnicity": "汉族",
        },
    )
    person = Resident.objects.get(name="张小明")
    assert response.status_code == 302
    assert response["Location"] == reverse("people:resident", args=[person.pk])
    assert (person.birth_date, person.gender, person.household) == (
        date(2012, 4, 5),
        "M",
        register["home_a"],
    )
    assert person.phone_masked == "139****5678"


def test_a_duplicate_id_number_is_refused_without_saying_where(client, register, grid_worker):
    client.force_login(grid_worker)
    url = reverse("people:resident_new", args=[register["home_a"].pk])
    response = client.post(url, {"name": "冒名", "id_number": ID_B, "relation": "relative"})
    assert response.status_code == 400
    assert "id_number" in response.context["form"].errors
    assert "李秀英" not in response.content.decode()
    assert Resident.objects.count() == 2


def test_editing_with_blank_numbers_keeps_the_stored_ones(client, register, grid_worker):
    client.force_login(grid_worker)
    zhang = register["zhang"]
    before = Resident.objects.get(pk=zhang.pk)
    response = client.post(
        reverse("people:resident_edit", args=[zhang.pk]),
        {"name": "张建国", "relation": "head", "ethnicity": "回族", "id_number": "", "phone": ""},
    )
    assert response.status_code == 302
    after = Resident.objects.get(pk=zhang.pk)
    assert after.ethnicity == "回族"
    assert after.id_number_encrypted == before.id_number_encrypted
    assert after.phone_encrypted == before.phone_encrypted


def test_editing_can_replace_or_remove_the_phone(client, register, grid_worker):
    client.force_login(grid_worker)
    zhang = register["zhang"]
    url = reverse("people:resident_edit", args=[zhang.pk])
    data = {"name": "张建国", "relation": "head", "ethnicity": "汉族"}
    client.post(url, {**data, "phone": "13700001111"})
    assert Resident.objects.get(pk=zhang.pk).phone_masked == "137****1111"
    client.post(url, {**data, "phone_remove": "on"})
    assert Resident.objects.get(pk=zhang.pk).phone_masked == ""


def test_a_bad_phone_on_edit_is_a_field_error_and_changes_nothing(client, register, grid_worker):
    client.force_login(grid_worker)
    zhang = register["zhang"]
    response = client.post(
        reverse("people:resident_edit", args=[zhang.pk]),
        {"name": "张建", "relation": "head", "ethnicity": "汉族", "phone": "12345"},
    )
    assert response.status_code == 400
    assert "phone" in response.context["form"].errors
    assert Resident.objects.get(pk=zhang.pk).name == "张建国"


def test_sensitive_tags_are_hidden_from_the_grid_worker(
    client, register, grid_worker, admin_user, tags
):
    zhang = register["zhang"]
    services.resident_tag_add(resident=zhang, tag=tags["dibao"], actor=admin_user)
    services.resident_tag_add(resident=zhang, tag=tags["elderly-alone"], actor=grid_worker)
    client.force_login(grid_worker)
    for url in (
        reverse("people:residents"),
        reverse("people:resident", args=[zhang.pk]),
        reverse("people:home"),
    ):
        html = client.get(url).content.decode()
        assert "独居老人" in html, url
        assert "低保" not in html, url
    # Nor may they name it in a filter or a form.
    response = client.get(reverse("people:residents"), {"tag": "dibao"})
    assert "低保" not in response.content.decode()
    client.post(
        reverse("people:resident_tag", args=[zhang.pk]), {"action": "remove", "tag": "dibao"}
    )
    assert ResidentTag.objects.filter(resident=zhang, tag=tags["dibao"]).exists()
    client.force_login(admin_user)
    assert "低保" in client.get(reverse("people:resident", args=[zhang.pk])).content.decode()


def test_the_tag_filter_lists_only_people_with_the_tag(client, register, grid_worker, tags):
    zhang = register["zhang"]
    other = services.resident_create(
        actor=grid_worker,
        household=register["home_a"],
        name="王桂兰",
        relation="spouse",
        birth_date=date(1952, 2, 2),
        gender="F",
    )
    services.resident_tag_add(resident=zhang, tag=tags["elderly-alone"], actor=grid_worker)
    client.force_login(grid_worker)
    html = client.get(reverse("people:residents"), {"tag": "elderly-alone"}).content.decode()
    assert zhang.name in html
    assert other.name not in html


def test_tags_are_added_and_removed_from_the_person_page(client, register, grid_worker, tags):
    client.force_login(grid_worker)
    zhang = register["zhang"]
    url = reverse("people:resident_tag", args=[zhang.pk])
    response = client.post(url, {"action": "add", "tag": "elderly-alone", "note": "子女在外地"})
    assert response.status_code == 302
    link = ResidentTag.objects.get(resident=zhang)
    assert (link.tag.code, link.note, link.added_by) == ("elderly-alone", "子女在外地", grid_worker)
    assert Resident.objects.get(pk=zhang.pk).next_visit_due is not None
    client.post(url, {"action": "remove", "tag": "elderly-alone"})
    assert not ResidentTag.objects.filter(resident=zhang).exists()


def test_moving_out_marks_the_person_and_hides_them_from_the_list(client, register, grid_worker):
    client.force_login(grid_worker)
    zhang = register["zhang"]
    response = client.post(
        reverse("people:resident_move_out", args=[zhang.pk]), {"reason": "随子女迁居"}
    )
    assert response.status_code == 302
    zhang.refresh_from_db()
    assert zhang.moved_out_on is not None
    assert zhang.moved_out_reason == "随子女迁居"
    page = client.get(reverse("people:residents")).context["page"]
    assert [p.name for p in page] == []
    page = client.get(reverse("people:residents"), {"moved_out": "on"}).context["page"]
    assert [p.name for p in page] == ["张建国"]


def test_a_move_out_in_the_future_is_refused(client, register, grid_worker):
    client.force_login(grid_worker)
    zhang = register["zhang"]
    client.post(reverse("people:resident_move_out", args=[zhang.pk]), {"on": "2999-01-01"})
    zhang.refresh_from_db()
    assert zhang.moved_out_on is None


# --- households ----------------------------------------------------------------------------


def test_a_household_is_added_in_a_grid_of_ones_scope(client, register, grid_worker, street):
    client.force_login(grid_worker)
    building = street["g11"].buildings.first()
    response = client.post(
        reverse("people:household_new"),
        {
            "grid": street["g11"].pk,
            "building": building.pk,
            "address": "济南路14号",
            "room": "502室",
            "tenure": "rented",
            "registration": "migrant",
        },
    )
    household = Household.objects.get(address="济南路14号")
    assert response.status_code == 302
    assert response["Location"] == reverse("people:resident_new", args=[household.pk])
    assert (household.grid, household.building, household.room) == (
        street["g11"],
        building,
        "502室",
    )


def test_a_household_cannot_be_put_in_a_grid_outside_ones_scope(
    client, register, grid_worker, street
):
    client.force_login(grid_worker)
    response = client.post(
        reverse("people:household_new"),
        {
            "grid": street["g21"].pk,
            "address": "西四路10号",
            "tenure": "owned",
            "registration": "registered",
        },
    )
    assert response.status_code == 400
    assert "grid" in response.context["form"].errors
    assert not Household.objects.filter(address="西四路10号").exists()


def test_the_building_choices_follow_the_chosen_grid(client, register, dispatcher, street):
    client.force_login(dispatcher)
    response = client.get(reverse("people:household_new"), {"grid": street["g21"].pk})
    buildings = response.context["form"].fields["building"].queryset
    assert [b.grid for b in buildings] == [street["g21"]]
    # The grid select asks for this same page again and swaps in its building field.
    assert b'hx-select="#building-field"' in response.content
    assert b'id="building-field"' in response.content
    # With no grid chosen yet, a street user is not sent every building of the street.
    response = client.get(reverse("people:household_new"))
    assert list(response.context["form"].fields["building"].queryset) == []


def test_editing_a_household_keeps_the_room_when_left_blank(client, register, grid_worker):
    client.force_login(grid_worker)
    home = register["home_a"]
    response = client.post(
        reverse("people:household_edit", args=[home.pk]),
        {
            "grid": home.grid_id,
            "building": home.building_id,
            "address": "济南路12号1号楼",
            "unit": "3单元",
            "room": "",
            "tenure": "rented",
            "registration": "registered",
        },
    )
    assert response.status_code == 302
    home.refresh_from_db()
    assert (home.unit, home.room, home.tenure) == ("3单元", "301室", "rented")


# --- overview, talents, access log ---------------------------------------------------------


def test_the_overview_counts_by_community_for_street_users(
    client, register, leader, street, tags, grid_worker
):
    services.resident_tag_add(
        resident=register["zhang"], tag=tags["elderly-alone"], actor=grid_worker
    )
    client.force_login(leader)
    response = client.get(reverse("people:overview"))
    rows = {row["area"].code: row for row in response.context["rows"]}
    assert set(rows) == {street["c1"].code, street["c2"].code}
    assert rows[street["c1"].code]["people"] == 1
    tag_names = [t.name for t in response.context["tags"]]
    assert rows[street["c1"].code]["counts"][tag_names.index("独居老人")] == 1
    assert "低保" not in tag_names
    assert "张建国" not in response.content.decode()
    assert b'id="tag-chart-data"' in response.content
    grids = client.get(reverse("people:overview"), {"level": "grid"}).context["rows"]
    assert {row["area"].code for row in grids} == {
        street["g11"].code,
        street["g12"].code,
        street["g21"].code,
    }


def test_the_overview_counts_by_grid_for_a_grid_worker(client, register, grid_worker, street):
    client.force_login(grid_worker)
    response = client.get(reverse("people:overview"), {"level": "community"})
    assert [row["area"] for row in response.context["rows"]] == [street["g11"]]


def test_the_talent_pool_lists_consenting_people_willing_ones_first(client, register, grid_worker):
    zhang = register["zhang"]
    other = services.resident_create(
        actor=grid_worker,
        household=register["home_a"],
        name="王桂兰",
        relation="spouse",
        birth_date=date(1952, 2, 2),
        gender="F",
    )
    client.force_login(grid_worker)
    url = reverse("people:talent_edit", args=[zhang.pk])
    # Willing to serve without consent is refused on the consent field.
    response = client.post(url, {"skill": "electrician", "willing_to_serve": "on"})
    assert response.status_code == 400
    assert "consent" in response.context["form"].errors
    assert not Talent.objects.exists()
    client.post(url, {"skill": "repair", "consent": "on"})
    client.post(url, {"skill": "electrician", "willing_to_serve": "on", "consent": "on"})
    services.talent_save(resident=other, actor=grid_worker, skill="law")  # no consent
    page = client.get(reverse("people:talents")).context["page"]
    assert [(t.resident.name, t.skill) for t in page] == [
        ("张建国", "electrician"),
        ("张建国", "repair"),
    ]
    page = client.get(reverse("people:talents"), {"skill": "repair"}).context["page"]
    assert [t.skill for t in page] == ["repair"]


def test_the_access_log_is_for_administrators_only(
    client, register, grid_worker, dispatcher, admin_user
):
    services.resident_reveal(
        resident=register["zhang"], viewer=grid_worker, field="phone", reason="to call him"
    )
    client.force_login(dispatcher)
    assert client.get(reverse("people:access_log")).status_code == 403
    client.force_login(admin_user)
    response = client.get(reverse("people:access_log"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "to call him" in html
    assert PHONE_A not in html
    assert (
        list(client.get(reverse("people:access_log"), {"viewer": "nobody"}).context["page"]) == []
    )
    assert len(client.get(reverse("people:access_log"), {"field": "phone"}).context["page"]) == 1


def test_the_home_page_sums_up_the_grid(client, register, grid_worker, tags):
    services.resident_tag_add(
        resident=register["zhang"], tag=tags["elderly-alone"], actor=grid_worker
    )
    client.force_login(grid_worker)
    response = client.get(reverse("people:home"))
    assert (response.context["households"], response.context["people"]) == (1, 1)
    assert [(t.code, n) for t, n in response.context["tag_totals"]] == [("elderly-alone", 1)]
    assert not response.context["several_areas"]


def test_the_home_page_narrows_to_the_picked_area(client, register, dispatcher, street):
    client.force_login(dispatcher)
    response = client.get(reverse("people:home"))
    assert (response.context["households"], response.context["people"]) == (2, 2)
    response = client.get(reverse("people:home"), {"area": street["c2"].pk})
    assert (response.context["households"], response.context["people"]) == (1, 1)
    assert response.context["area"] == street["c2"]


# --- query counts --------------------------------------------------------------------------


def _add_people(household, actor, n: int) -> None:
    for i in range(n):
        services.resident_create(
            actor=actor,
            household=household,
            name=f"居民{i}",
            relation="relative",
            id_number=id_number_make("370502", date(1960, 1, 1 + i % 28), 100 + i),
            phone=f"1360000{i:04d}",
        )


def test_the_residents_list_does_not_query_per_row(
    client, register, grid_worker, tags, django_assert_max_num_queries
):
    client.force_login(grid_worker)
    url = reverse("people:residents")
    client.get(url)  # warm the session and caches
    with django_assert_max_num_queries(14) as one:
        client.get(url)
    _add_people(register["home_a"], grid_worker, 30)
    for person in Resident.objects.filter(household=register["home_a"])[:10]:
        services.resident_tag_add(resident=person, tag=tags["elderly-alone"], actor=grid_worker)
    with django_assert_max_num_queries(14) as many:
        response = client.get(url)
    assert len(response.context["page"]) == 31
    assert len(many.captured_queries) == len(one.captured_queries)


def test_the_households_list_does_not_query_per_row(
    client, register, grid_worker, street, django_assert_max_num_queries
):
    client.force_login(grid_worker)
    url = reverse("people:households")
    client.get(url)
    with django_assert_max_num_queries(14) as one:
        client.get(url)
    for i in range(20):
        services.household_create(
            actor=grid_worker,
            grid=street["g11"],
            address=f"济南路{20 + i}号",
            tenure="owned",
            registration="registered",
        )
    with django_assert_max_num_queries(14) as many:
        client.get(url)
    assert len(many.captured_queries) == len(one.captured_queries)


def test_no_page_shows_another_persons_plaintext(client, register, admin_user):
    client.force_login(admin_user)
    urls = [reverse(n) for n in LISTS] + _zhang_pages(register)
    for url in urls:
        html = client.get(url).content.decode()
        for needle in (ID_A, ID_B, PHONE_A, PHONE_B):
            assert needle not in html, (url, needle)


def test_the_pages_speak_chinese_by_default(client, register, grid_worker, settings):
    del client.cookies[settings.LANGUAGE_COOKIE_NAME]
    client.force_login(grid_worker)
    url = reverse("people:resident_reveal", args=[register["zhang"].pk])
    response = client.post(url, {"field": "phone", "reason": ""}, **HTMX)
    assert "请说明查看事由" in response.content.decode()
    page = client.get(reverse("people:resident", args=[register["zhang"].pk]))
    assert '<html lang="zh-hans">' in page.content.decode()
    assert AccessLog.objects.count() == 0
