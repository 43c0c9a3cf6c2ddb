from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from linli.core.errors import DomainError
from linli.core.models import AuditEvent
from linli.people import selectors, services
from linli.people.models import AccessLog, CorrectionRequest, Resident
from linli.people.tests.conftest import ID_A, ID_B, PHONE_A, PHONE_B
from linli.people.validation import id_number_make


def test_birth_date_and_gender_come_from_the_id_number(register):
    zhang = register["zhang"]
    assert zhang.birth_date == date(1950, 3, 1)
    assert zhang.gender == "M"
    assert register["li"].gender == "F"


def test_personal_data_is_masked_for_display(register):
    zhang = register["zhang"]
    assert zhang.id_number_masked == f"370502********{ID_A[-4:]}"
    assert zhang.phone_masked == "138****5678"


def test_the_raw_database_holds_no_plaintext_id_number_or_phone(
    register, grid_worker, resident, tags
):
    """Every table, after the register's writes: people, a reveal (access log and audit
    trail), a visit, a tag, and a correction proposing a new phone."""
    zhang = register["zhang"]
    services.resident_reveal(resident=zhang, viewer=grid_worker, field="id_number", reason="核对")
    services.resident_reveal(resident=zhang, viewer=grid_worker, field="phone", reason="回访")
    services.resident_tag_add(resident=zhang, tag=tags["elderly-alone"], actor=grid_worker)
    services.visit_create(resident=zhang, visitor=grid_worker, method="phone", findings="平安")
    services.resident_link_user(resident=zhang, user=resident)
    services.correction_request_create(
        resident=zhang, requested_by=resident, field="phone", proposed="13600009999"
    )
    needles = [ID_A, ID_B, PHONE_A, PHONE_B, "13600009999", ID_A[6:14], ID_B[6:14]]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump = repr(cursor.fetchall())
            for needle in needles:
                assert needle not in dump, (table, needle)


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        (ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1"), "check digit"),
        (ID_A[:17], "18 characters"),
        ("370502" + "19501301" + "0115", "date of birth"),
        ("999999" + ID_A[6:17], "area code"),
    ],
)
def test_a_bad_id_number_is_refused_with_the_reason(register, grid_worker, id_number, message):
    if message in ("area code", "date of birth"):
        from stdnum.cn import ric

        id_number = id_number[:17] + ric.calc_check_digit(id_number[:17] + "0")
    with pytest.raises(DomainError) as caught:
        services.resident_create(
            actor=grid_worker,
            household=register["home_a"],
            name="王五",
            relation="child",
            id_number=id_number,
        )
    assert "id_number" in caught.value.fields
    assert message in str(caught.value.message)
    assert Resident.objects.count() == 2


def test_a_birth_date_that_contradicts_the_id_number_is_refused(register, grid_worker):
    number = id_number_make("370502", date(2001, 5, 6), 31)
    with pytest.raises(DomainError) as caught:
        services.resident_create(
            actor=grid_worker,
            household=register["home_a"],
            name="王五",
            relation="child",
            id_number=number,
            birth_date=date(2001, 5, 7),
        )
    assert "birth_date" in caught.value.fields
    with pytest.raises(DomainError) as caught:
        services.resident_create(
            actor=grid_worker,
            household=register["home_a"],
            name="王五",
            relation="child",
            id_number=number,
            gender="F",
        )
    assert "gender" in caught.value.fields


def test_a_duplicate_id_number_is_refused_without_saying_where(register, grid_worker):
    with pytest.raises(DomainError) as caught:
        services.resident_create(
            actor=grid_worker,
            household=register["home_a"],
            name="李秀英",
            relation="spouse",
            id_number=ID_B.lower(),
        )
    assert caught.value.code == "duplicate"
    assert "西四路" not in str(caught.value.message)


def test_a_bad_phone_is_refused(register, grid_worker):
    with pytest.raises(DomainError) as caught:
        services.resident_update(resident=register["zhang"], actor=grid_worker, phone="1234")
    assert "phone" in caught.value.fields


def test_a_grid_worker_cannot_register_people_in_another_grid(register, grid_worker):
    with pytest.raises(DomainError) as caught:
        services.resident_create(
            actor=grid_worker, household=register["home_b"], name="赵六", relation="child",
            birth_date=date(2010, 1, 1), gender="M",
        )  # fmt: skip
    assert caught.value.code == "forbidden"


def test_exact_lookup_by_full_id_or_phone_works_through_the_blind_index(register, grid_worker):
    found = selectors.resident_list_for(viewer=grid_worker, q=ID_A.lower())
    assert list(found) == [register["zhang"]]
    assert list(selectors.resident_list_for(viewer=grid_worker, q="138 1234 5678")) == [
        register["zhang"]
    ]
    assert list(selectors.resident_list_for(viewer=grid_worker, q="1381234")) == []
    assert list(selectors.resident_list_for(viewer=grid_worker, q="建国")) == [register["zhang"]]


def test_a_grid_worker_sees_only_their_grid(register, grid_worker, other_grid_worker):
    assert list(selectors.resident_list_for(viewer=grid_worker)) == [register["zhang"]]
    assert list(selectors.resident_list_for(viewer=other_grid_worker)) == [register["li"]]
    assert selectors.resident_detail_for(viewer=grid_worker, pk=register["li"].pk) is None
    assert selectors.household_detail_for(viewer=grid_worker, pk=register["home_b"].pk) is None
    # Searching by the other grid's person's full ID finds nothing either.
    assert list(selectors.resident_list_for(viewer=grid_worker, q=ID_B)) == []


def test_handlers_leaders_and_residents_see_no_one(register, handler, leader, resident):
    for viewer in (handler, leader, resident):
        assert list(selectors.resident_list_for(viewer=viewer)) == []


def test_a_reveal_needs_a_reason_and_writes_an_access_log_row(register, grid_worker, rf):
    zhang = selectors.resident_detail_for(viewer=grid_worker, pk=register["zhang"].pk)
    with pytest.raises(DomainError) as caught:
        services.resident_reveal(resident=zhang, viewer=grid_worker, field="id_number", reason="")
    assert "reason" in caught.value.fields
    assert AccessLog.objects.count() == 0

    request = rf.get("/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="phone")
    value = services.resident_reveal(
        resident=zhang,
        viewer=grid_worker,
        field="id_number",
        reason="办理高龄补贴",
        request=request,
    )
    assert value == ID_A
    log = AccessLog.objects.get()
    assert (log.viewer, log.resident, log.field, log.reason, log.ip) == (
        grid_worker,
        zhang,
        "id_number",
        "办理高龄补贴",
        "10.1.2.3",
    )
    assert (
        services.resident_reveal(resident=zhang, viewer=grid_worker, field="phone", reason="回访")
        == PHONE_A
    )
    assert AccessLog.objects.count() == 2
    assert AuditEvent.objects.filter(action="people.access.id_number").exists()


def test_access_log_rows_cannot_be_changed_or_deleted(register, grid_worker):
    services.resident_reveal(
        resident=register["zhang"], viewer=grid_worker, field="phone", reason="回访"
    )
    log = AccessLog.objects.get()
    log.reason = "nothing to see"
    with pytest.raises(Exception, match="cannot be changed"):
        log.save()
    with pytest.raises(Exception, match="cannot be deleted"):
        log.delete()


def test_leaders_and_handlers_may_not_reveal(register, leader, handler):
    for viewer in (leader, handler):
        with pytest.raises(DomainError):
            services.resident_reveal(
                resident=register["zhang"], viewer=viewer, field="phone", reason="看看"
            )
    assert AccessLog.objects.count() == 0


def test_a_worker_of_another_grid_may_not_reveal(register, other_grid_worker):
    with pytest.raises(DomainError) as caught:
        services.resident_reveal(
            resident=register["zhang"], viewer=other_grid_worker, field="phone", reason="看看"
        )
    assert caught.value.code == "forbidden"
    assert AccessLog.objects.count() == 0


def test_sensitive_tags_are_hidden_from_ordinary_grid_workers(
    register, grid_worker, admin_user, tags
):
    zhang = register["zhang"]
    services.resident_tag_add(resident=zhang, tag=tags["elderly-alone"], actor=grid_worker)
    with pytest.raises(DomainError):
        services.resident_tag_add(
            resident=zhang, tag=tags["disabled"], actor=grid_worker, grade="二级"
        )
    services.resident_tag_add(resident=zhang, tag=tags["disabled"], actor=admin_user, grade="二级")
    seen = selectors.resident_detail_for(viewer=grid_worker, pk=zhang.pk)
    assert [link.tag.code for link in seen.visible_tag_links] == ["elderly-alone"]
    seen = selectors.resident_detail_for(viewer=admin_user, pk=zhang.pk)
    assert sorted(link.tag.code for link in seen.visible_tag_links) == ["disabled", "elderly-alone"]
    assert list(selectors.resident_list_for(viewer=grid_worker, tag="disabled")) == []


def test_a_designated_grid_worker_sees_sensitive_tags(register, grid_worker, admin_user, tags):
    from django.contrib.auth.models import Permission

    services.resident_tag_add(resident=register["zhang"], tag=tags["dibao"], actor=admin_user)
    grid_worker.user_permissions.add(Permission.objects.get(codename="view_sensitive_tags"))
    grid_worker = type(grid_worker).objects.get(pk=grid_worker.pk)  # drop the perm cache
    assert list(selectors.resident_list_for(viewer=grid_worker, tag="dibao")) == [register["zhang"]]


def test_tags_set_the_next_visit_and_a_visit_moves_it_on(register, grid_worker, tags):
    zhang = register["zhang"]
    long_ago = timezone.localdate() - timedelta(days=30)
    services.resident_tag_add(
        resident=zhang, tag=tags["elderly-alone"], actor=grid_worker, since=long_ago
    )
    zhang.refresh_from_db()
    assert zhang.next_visit_due == long_ago + timedelta(days=7)
    assert list(selectors.overdue_visits_for(viewer=grid_worker)) == [zhang]

    services.visit_create(
        resident=zhang, visitor=grid_worker, method="home", findings="身体尚可，冰箱有菜"
    )
    zhang.refresh_from_db()
    assert zhang.next_visit_due == timezone.localdate() + timedelta(days=7)
    assert list(selectors.overdue_visits_for(viewer=grid_worker)) == []


def test_the_shortest_interval_wins_and_removing_the_tag_clears_it(register, grid_worker, tags):
    zhang = register["zhang"]
    services.resident_tag_add(resident=zhang, tag=tags["elderly-80"], actor=grid_worker)
    services.resident_tag_add(resident=zhang, tag=tags["elderly-alone"], actor=grid_worker)
    zhang.refresh_from_db()
    assert zhang.next_visit_due == timezone.localdate() + timedelta(days=7)
    services.resident_tag_remove(resident=zhang, tag=tags["elderly-alone"], actor=grid_worker)
    services.resident_tag_remove(resident=zhang, tag=tags["elderly-80"], actor=grid_worker)
    zhang.refresh_from_db()
    assert zhang.next_visit_due is None


def test_a_visit_refuses_bad_input_and_writes_nothing(register, grid_worker):
    with pytest.raises(DomainError) as caught:
        services.visit_create(
            resident=register["zhang"],
            visitor=grid_worker,
            method="telepathy",
            findings="",
            visited_at=timezone.now() + timedelta(days=1),
            photos=[b"not an image"],
        )
    assert set(caught.value.fields) == {"method", "findings", "visited_at"}
    with pytest.raises(DomainError) as caught:
        services.visit_create(
            resident=register["zhang"],
            visitor=grid_worker,
            method="home",
            findings="ok",
            photos=[b"GIF89a but not really"],
        )
    assert "photos" in caught.value.fields
    assert register["zhang"].visits.count() == 0


def test_a_visit_photo_is_re_encoded_without_exif(register, grid_worker, tmp_path, settings):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "red").save(buffer, format="JPEG", exif=exif)
    visit = services.visit_create(
        resident=register["zhang"],
        visitor=grid_worker,
        method="home",
        findings="ok",
        photos=[buffer.getvalue()],
    )
    photo = visit.photos.get()
    with Image.open(photo.image.path) as stored:
        assert dict(stored.getexif()) == {}
        assert stored.size == (800, 600)
    with Image.open(photo.thumbnail.path) as thumb:
        assert max(thumb.size) == 320


def test_moving_out_keeps_the_person_but_drops_them_from_lists(register, grid_worker):
    services.resident_move_out(resident=register["zhang"], actor=grid_worker, reason="迁往外地")
    assert list(selectors.resident_list_for(viewer=grid_worker)) == []
    assert selectors.resident_detail_for(viewer=grid_worker, pk=register["zhang"].pk) is not None
    with pytest.raises(DomainError):
        services.resident_move_out(resident=register["zhang"], actor=grid_worker)


def test_a_resident_asks_for_a_correction_and_the_grid_worker_applies_it(
    register, grid_worker, resident
):
    zhang = register["zhang"]
    services.resident_link_user(resident=zhang, user=resident)
    correction = services.correction_request_create(
        resident=zhang, requested_by=resident, field="name", proposed="张建民", explanation="错字"
    )
    with pytest.raises(DomainError):
        services.correction_request_create(
            resident=register["li"], requested_by=resident, field="name", proposed="x"
        )
    services.correction_request_answer(correction=correction, actor=grid_worker, approve=True)
    zhang.refresh_from_db()
    assert zhang.name == "张建民"
    correction.refresh_from_db()
    assert correction.status == CorrectionRequest.Status.APPROVED
    with pytest.raises(DomainError):
        services.correction_request_answer(correction=correction, actor=grid_worker, approve=True)


def test_updating_a_phone_re_encrypts_it_and_keeps_the_id(register, grid_worker):
    zhang = register["zhang"]
    before = Resident.objects.get(pk=zhang.pk)
    services.resident_update(resident=zhang, actor=grid_worker, phone="13900001111")
    after = Resident.objects.get(pk=zhang.pk)
    assert after.id_number_encrypted == before.id_number_encrypted
    assert after.phone_masked == "139****1111"
    assert list(selectors.resident_list_for(viewer=grid_worker, q="13900001111")) == [after]


def test_the_overview_counts_people_by_tag_per_grid(register, grid_worker, leader, tags):
    services.resident_tag_add(
        resident=register["zhang"], tag=tags["party-member"], actor=grid_worker
    )
    overview = selectors.tag_counts_for(viewer=leader, level="community")
    c1 = next(a for a in overview["areas"] if a.code.endswith("001"))
    assert overview["counts"][(c1.pk, tags["party-member"].pk)] == 1
    assert overview["people"][c1.pk] == 1
    assert all(not t.is_sensitive for t in overview["tags"])


def test_reveals_beyond_the_hourly_limit_are_refused_and_audited(register, grid_worker, settings):
    settings.LINLI_REVEALS_PER_HOUR = 2
    zhang = register["zhang"]
    for field in ("phone", "id_number"):
        services.resident_reveal(resident=zhang, viewer=grid_worker, field=field, reason="回访")
    with pytest.raises(DomainError) as caught:
        services.resident_reveal(resident=zhang, viewer=grid_worker, field="phone", reason="回访")
    assert caught.value.code == "rate_limited"
    assert AccessLog.objects.count() == 2
    refusal = AuditEvent.objects.get(action="people.access.refused")
    assert (refusal.actor, refusal.success) == (grid_worker, False)
