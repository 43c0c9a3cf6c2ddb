"""The demo street's register (linli/people/demo.py), built at the small size."""

import random
from collections import Counter
from datetime import date

import pytest
from django.db import connection, transaction
from django.utils import timezone

from linli.accounts.models import User
from linli.areas.models import Area
from linli.core.crypto import blind_index, decrypt, mask_id_number, mask_phone
from linli.demo.services import demo_build
from linli.people import demo, selectors, services
from linli.people.models import (
    ID_NUMBER_CONTEXT,
    PHONE_CONTEXT,
    Household,
    Resident,
    ResidentTag,
    Talent,
    Visit,
)
from linli.people.validation import check_id_number, check_phone, id_number_make


def build(tmp_path, seed=2026):
    return demo_build(seed=seed, size="small", progress=False, accounts_path=tmp_path / "a.json")


@pytest.fixture
def small_demo(db, tmp_path):
    return build(tmp_path)


def decrypted(column, context):
    return {
        pk: decrypt(token, context=context)
        for pk, token in Resident.objects.exclude(**{column: ""}).values_list("pk", column)
    }


def age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def test_the_small_street_gets_a_few_hundred_households_and_the_counts_add_up(small_demo):
    counts = small_demo.counts
    assert counts["households"] == Household.objects.count() == demo.HOUSEHOLDS["small"]
    assert counts["residents"] == Resident.objects.count()
    assert 2.5 < counts["residents"] / counts["households"] < 3.3
    assert counts["visits"] == Visit.objects.count() > 0
    assert counts["talents"] == Talent.objects.count()
    assert counts["tagged"] == ResidentTag.objects.values("resident").distinct().count() > 0


def test_every_id_number_is_valid_unique_and_agrees_with_birth_date_and_gender(small_demo):
    numbers = decrypted("id_number_encrypted", ID_NUMBER_CONTEXT)
    residents = Resident.objects.all()
    assert len(numbers) == residents.count()
    assert len(set(numbers.values())) == len(numbers)
    areas = Counter()
    for resident in residents:
        number = numbers[resident.pk]
        parsed = check_id_number(number)
        assert (parsed.birth_date, parsed.gender) == (resident.birth_date, resident.gender)
        assert resident.id_number_masked == mask_id_number(number)
        assert resident.id_number_index == blind_index(number, context=ID_NUMBER_CONTEXT)
        areas[number[:6]] += 1
    assert set(areas) <= set(demo.LOCAL_BIRTH_AREAS) | set(demo.MIGRANT_BIRTH_AREAS)
    assert areas.most_common(1)[0][0] == demo.LOCAL_AREA


def test_every_birth_place_code_is_known_to_stdnum():
    for area in [*demo.LOCAL_BIRTH_AREAS, *demo.MIGRANT_BIRTH_AREAS]:
        check_id_number(id_number_make(area, date(1980, 1, 1), 1))


def test_phones_are_valid_mobiles_for_most_adults_and_for_no_children(small_demo):
    phones = decrypted("phone_encrypted", PHONE_CONTEXT)
    today = timezone.localdate()
    adults = children = 0
    for resident in Resident.objects.all():
        if age(resident.birth_date, today) >= 18:
            adults += 1
        else:
            children += 1
            assert resident.pk not in phones
    assert 0.75 < len(phones) / adults < 0.95
    assert children
    for pk in random.Random(1).sample(sorted(phones), 100):
        e164 = phones[pk]
        assert check_phone(e164) == e164
        resident = Resident.objects.get(pk=pk)
        assert resident.phone_masked == mask_phone(e164)
        assert resident.phone_index == blind_index(e164, context=PHONE_CONTEXT)


def test_the_raw_tables_hold_no_plaintext_id_number_or_phone(small_demo):
    needles = [
        *decrypted("id_number_encrypted", ID_NUMBER_CONTEXT).values(),
        *(
            phone.removeprefix("+86")
            for phone in decrypted("phone_encrypted", PHONE_CONTEXT).values()
        ),
    ]
    with connection.cursor() as cursor:
        for model in (Resident, Household, Visit, Talent, ResidentTag):
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608 - model tables
            dump = repr(cursor.fetchall())
            assert not [n for n in needles if n in dump], model


def test_every_household_is_in_a_grid_and_its_building_in_that_grid(small_demo):
    households = Household.objects.select_related("grid", "building")
    levels = Counter()
    for household in households:
        grid = household.grid
        levels[grid.level] += 1
        assert grid.level in (Area.Level.GRID, Area.Level.MICROGRID)
        # Buildings belong to unit grids; a household may be filed in one of its lanes.
        assert household.building.grid_id in (grid.pk, grid.parent_id)
        assert household.address == household.building.address
        assert household.number.startswith(f"{grid.code}-")
        assert household.unit and household.room
    assert levels[Area.Level.GRID] and levels[Area.Level.MICROGRID]
    places = households.values_list("building_id", "unit", "room")
    assert len(set(places)) == len(places)
    assert Household.objects.filter(members__relation="head").distinct().count() == len(places)


def test_the_same_seed_gives_the_same_people(db, tmp_path):
    def snapshot():
        return list(
            Resident.objects.order_by("pk").values_list(
                "name", "id_number_masked", "phone_masked", "birth_date", "next_visit_due"
            )
        )

    with transaction.atomic():
        build(tmp_path)
        first = snapshot()
        transaction.set_rollback(True)
    with transaction.atomic():
        build(tmp_path, seed=7)
        other = snapshot()
        transaction.set_rollback(True)
    build(tmp_path)
    assert snapshot() == first
    assert [row[0] for row in other] != [row[0] for row in first]


def test_next_visit_due_is_what_the_services_compute(small_demo):
    due = Resident.objects.filter(next_visit_due__isnull=False)
    assert due.exists()
    sample = [*due.order_by("?")[:60], *Resident.objects.filter(next_visit_due=None)[:20]]
    for resident in sample:
        assert resident.next_visit_due == services.visit_due_compute(resident), resident.pk


def test_visits_are_by_the_grid_worker_in_the_past_and_some_people_are_overdue(small_demo):
    now = timezone.now()
    visits = Visit.objects.select_related("visitor__area", "resident__household__grid")
    for visit in visits:
        grid = visit.resident.household.grid
        unit_grid = grid if grid.level == Area.Level.GRID else grid.parent
        assert visit.visitor.role == "grid_worker" and visit.visitor.area_id == unit_grid.pk
        assert visit.visited_at < now and visit.created_at >= visit.visited_at
        assert visit.findings
        assert (now - visit.visited_at).days <= demo.VISIT_WINDOW_DAYS
    due = Resident.objects.filter(next_visit_due__isnull=False).count()
    overdue = Resident.objects.filter(next_visit_due__lt=timezone.localdate()).count()
    assert 0.02 < overdue / due < 0.2
    worker = User.objects.get(username="w001001")
    assert selectors.overdue_visits_for(viewer=worker).exists()


def test_tags_fit_the_people_and_come_in_believable_shares(small_demo):
    today = timezone.localdate()
    people = {r.pk: r for r in Resident.objects.filter(moved_out_on=None)}
    adults = [r for r in people.values() if age(r.birth_date, today) >= 18]
    over_60 = [r for r in people.values() if age(r.birth_date, today) >= 60]
    assert 0.12 < len(over_60) / len(people) < 0.3
    by_tag: dict[str, list] = {}
    for link in ResidentTag.objects.select_related("tag", "resident__household"):
        by_tag.setdefault(link.tag.code, []).append(link)
        assert link.since <= today
        assert link.added_by.role == "grid_worker"
        assert bool(link.grade) == link.tag.has_grade
    for link in by_tag["elderly-alone"]:
        assert age(link.resident.birth_date, today) >= 65
        assert link.resident.household.members.filter(moved_out_on=None).count() == 1
    for link in by_tag["elderly-80"]:
        assert age(link.resident.birth_date, today) >= 80
    for link in by_tag["disabled"]:
        assert link.grade in demo.DISABILITY_GRADES
    for code in ("party-member", "volunteer", "chronic-illness"):
        assert all(age(link.resident.birth_date, today) >= 18 for link in by_tag[code])
    assert 0.03 < len(by_tag["party-member"]) / len(adults) < 0.12
    assert 0.02 < len(by_tag["volunteer"]) / len(adults) < 0.1
    assert 0.02 < len(by_tag["disabled"]) / len(people) < 0.1
    talents = Talent.objects.all()
    assert talents.filter(willing_to_serve=True, consent_at=None).count() == 0
    assert talents.exclude(consent_at=None).count() >= talents.filter(consent_at=None).count()


def test_the_demo_resident_login_sees_a_household_of_three(small_demo):
    user = User.objects.get(username="resident1")
    me, members = selectors.my_household_for(user=user)
    assert me is not None and me.name == user.name
    assert len(members) == 3
    assert {m.relation for m in members} == {"head", "spouse", "child"}
