"""The case services beyond the main loop (case_services): merge and "me too",
extensions, urging, the SLA sweep and its command, the whistle, photos at every step,
external references, the caller's phone, and who is told what (notices) — in-app rows in
the move's transaction, email and SMS only after it commits. Every refusal is checked
against a snapshot of the whole database and the media directory."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import Max
from PIL import Image

from linli.accounts.models import User
from linli.accounts.services import user_set_phone
from linli.accounts.sms import LocmemSmsBackend
from linli.cases import selectors
from linli.cases.case_services import (
    ESCALATE_WORKING_DAYS,
    REMIND_WORKING_HOURS,
    case_accept,
    case_dispatch,
    case_me_too,
    case_merge,
    case_park,
    case_rate,
    case_reject,
    case_reopen,
    case_reply,
    case_report,
    case_resume,
    case_send_back,
    case_sign,
    case_start,
    case_urge,
    case_verify,
    extension_decide,
    extension_request,
    sla_sweep,
    whistle_blow,
    whistle_report_in,
)
from linli.cases.models import (
    CONTACT_PHONE_CONTEXT,
    Case,
    CaseAlert,
    CaseAssignment,
    CaseEvent,
    CasePhoto,
    CaseSupport,
    Extension,
    Matter,
    Whistle,
    WhistleCall,
)
from linli.core import workcal
from linli.core.crypto import blind_index, decrypt
from linli.core.errors import DomainError
from linli.core.testing import jpeg_bytes, photo_upload
from linli.notifications.models import Notification

SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_G11 = (118.605, 37.405)
IN_G21 = (118.625, 37.405)
MON = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
WED = datetime(2026, 6, 3, 9, 0, tzinfo=SHANGHAI)
# 恶臭异味 dispatched on Wednesday 09:00 is due in 2 working days: Friday at 17:30.
SMELL_DUE = datetime(2026, 6, 5, 17, 30, tzinfo=SHANGHAI)
CALLER = "13812345678"
CALLER_E164 = "+8613812345678"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# --- the database before and after ---------------------------------------------------------------

WATCHED = (
    Case,
    CaseEvent,
    CaseAssignment,
    CasePhoto,
    CaseSupport,
    Extension,
    CaseAlert,
    Whistle,
    WhistleCall,
    Notification,
)


def snapshot(media_root) -> dict:
    """Every row of the case tables (with updated_at, so any save shows) and every file
    under MEDIA_ROOT: a refused call must leave all of it as it was."""
    state = {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}
    state["files"] = (
        sorted(
            str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file()
        )
        if media_root.exists()
        else []
    )
    return state


def refused(call, media_root, *, code: str | None = None) -> DomainError:
    """Run `call`, which must raise a DomainError, and show it changed nothing."""
    before = snapshot(media_root)
    with pytest.raises(DomainError) as problem:
        call()
    assert snapshot(media_root) == before
    if code is not None:
        assert problem.value.code == code, problem.value.message
    return problem.value


class Told:
    """The notifications written since it was made (or last read)."""

    def __init__(self):
        self.last = Notification.objects.aggregate(last=Max("pk"))["last"] or 0

    def new(self) -> set[tuple[str, str]]:
        rows = list(Notification.objects.filter(pk__gt=self.last).select_related("recipient"))
        if rows:
            self.last = max(row.pk for row in rows)
        return {(row.recipient.username, row.kind) for row in rows}


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def sms(settings):
    settings.LINLI_SMS_BACKEND = "linli.accounts.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    yield LocmemSmsBackend.outbox
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def garbage(matter):
    """暴露垃圾 (conftest's `matter`): 4 working hours, a check photo to close."""
    return matter


@pytest.fixture
def smell(catalogue):
    """恶臭异味: 2 working days at normal urgency, 4 working hours critical, no check photo,
    led by 城管."""
    matter = Matter.objects.get(code="06024")
    assert matter.lead_department.code == "CG" and not matter.needs_check_photo
    return matter


def _user(username, role, **extra) -> User:
    user = User(username=username, role=role, name=username, **extra)
    user.set_password("x")
    user.save()
    return user


@pytest.fixture
def people(personas, catalogue, community_worker):
    """The personas plus a neighbour, handlers of 环卫, 住建 and 公安, and the community's
    dispatcher."""
    return personas | {
        "neighbour": _user("neighbour", "resident"),
        "community": community_worker,
        "hw": _user("hw", "handler", department=catalogue["HW"]),
        "zj": _user("zj", "handler", department=catalogue["ZJ"]),
        "ga": _user("ga", "handler", department=catalogue["GA"]),
    }


def report(matter, reporter=None, *, at=MON, **extra) -> Case:
    values = {
        "matter": matter,
        "description": "路边有一堆垃圾，气味很大",
        "lon": IN_G11[0],
        "lat": IN_G11[1],
        "source": "resident" if reporter else "hotline",
        "reporter": reporter,
        "at": at,
    }
    return case_report(**(values | extra))


def running(matter, people, *, at=WED, status="handling", reporter="resident", **extra) -> Case:
    """A case taken through the services to dispatched, signed or handling at `at`."""
    centre, department = people["dispatcher"], people["handler"]
    case = report(matter, people.get(reporter), at=at, **extra)
    case_accept(case=case, actor=centre, at=at)
    case = case_dispatch(case=case, actor=centre, at=at)
    if status in ("signed", "handling"):
        case = case_sign(case=case, actor=department, at=at)
    if status == "handling":
        case = case_start(case=case, actor=department, at=at)
    return case


def closed(case, people, *, at) -> Case:
    department = people["handler"]
    case = case_reply(case=case, actor=department, note="已处理。", at=at)
    return case_verify(
        case=case,
        actor=people["grid_worker"],
        passed=True,
        note="现场已干净。",
        photos=[photo_upload(size=(64, 48))],
        at=at,
    )


# --- extensions ----------------------------------------------------------------------------------


def test_an_approved_extension_moves_the_deadline_by_working_time(smell, people):
    case = running(smell, people)
    assert case.deadline == SMELL_DUE

    ext = extension_request(
        case=case, actor=people["handler"], amount=3, unit="hours", reason="等配件。", at=WED
    )
    # Friday 17:30 + 3 working hours: over the weekend to Monday 11:30.
    assert ext.new_deadline == local(2026, 6, 8, 11, 30)
    assert (ext.status, ext.old_deadline, ext.department.code) == ("pending", SMELL_DUE, "CG")
    assert Case.objects.get(pk=case.pk).deadline == SMELL_DUE

    extension_decide(extension=ext, actor=people["dispatcher"], approve=True, at=WED)

    case.refresh_from_db()
    ext.refresh_from_db()
    assert case.deadline == local(2026, 6, 8, 11, 30)
    assert (ext.status, ext.decided_by, ext.decided_at) == ("approved", people["dispatcher"], WED)
    events = list(case.events.filter(action__startswith="extension").order_by("id"))
    assert [(e.action, e.public) for e in events] == [
        ("extension_request", False),
        ("extension_approve", True),
    ]
    assert datetime.fromisoformat(events[1].data["deadline"]) == local(2026, 6, 8, 11, 30)

    again = extension_request(
        case=case, actor=people["handler"], amount=2, unit="days", reason="还要两天。", at=WED
    )
    assert again.new_deadline == workcal.add_working_days(local(2026, 6, 8, 11, 30), 2)
    assert again.new_deadline == local(2026, 6, 10, 17, 30)


def test_an_extension_must_be_asked_before_the_deadline(smell, people, media_root):
    case = running(smell, people)
    problem = refused(
        lambda: extension_request(
            case=case, actor=people["handler"], amount=1, unit="days", reason="晚了。", at=SMELL_DUE
        ),
        media_root,
        code="invalid",
    )
    assert "before" in str(problem.message)
    just_before = SMELL_DUE - timedelta(minutes=1)
    extension_request(
        case=case, actor=people["handler"], amount=1, unit="days", reason="来得及。", at=just_before
    )
    assert Extension.objects.filter(case=case, status="pending").count() == 1


def test_only_one_extension_waits_at_a_time(smell, people, media_root):
    case = running(smell, people)
    first = extension_request(
        case=case, actor=people["handler"], amount=1, unit="days", reason="一。", at=WED
    )
    problem = refused(
        lambda: extension_request(
            case=case, actor=people["handler"], amount=2, unit="days", reason="二。", at=WED
        ),
        media_root,
        code="invalid",
    )
    assert "already waiting" in str(problem.message)
    extension_decide(extension=first, actor=people["dispatcher"], approve=False, note="不行。")
    second = extension_request(
        case=case, actor=people["handler"], amount=2, unit="days", reason="二。", at=WED
    )
    assert second.old_deadline == SMELL_DUE  # the refusal left the deadline alone


@pytest.mark.parametrize(
    "who", ["resident", "grid_worker", "dispatcher", "leader", "hw", "other_grid_worker"]
)
def test_only_the_lead_department_asks_for_an_extension(who, smell, people, media_root):
    case = running(smell, people)
    refused(
        lambda: extension_request(
            case=case, actor=people[who], amount=1, unit="days", reason="请延期。", at=WED
        ),
        media_root,
        code="forbidden",
    )


@pytest.mark.parametrize(
    ("amount", "unit", "reason", "fields"),
    [
        (0, "days", "理由", {"amount"}),
        (41, "hours", "理由", {"amount"}),
        (31, "days", "理由", {"amount"}),
        (True, "days", "理由", {"amount"}),
        (1.5, "days", "理由", {"amount"}),
        (1, "weeks", "理由", {"unit"}),
        (1, "days", "   ", {"reason"}),
        (0, "weeks", "", {"amount", "unit", "reason"}),
    ],
)
def test_an_extension_request_checks_its_amount_unit_and_reason(
    amount, unit, reason, fields, smell, people, media_root
):
    case = running(smell, people)
    problem = refused(
        lambda: extension_request(
            case=case, actor=people["handler"], amount=amount, unit=unit, reason=reason, at=WED
        ),
        media_root,
        code="invalid",
    )
    assert set(problem.fields) == fields


@pytest.mark.parametrize("status", ["reported", "accepted", "replied", "parked"])
def test_only_a_case_being_worked_on_can_be_extended(status, smell, people, media_root):
    centre = people["dispatcher"]
    case = running(smell, people)
    if status == "replied":
        case = case_reply(case=case, actor=people["handler"], note="好了。", at=WED)
    elif status == "parked":
        case = case_park(case=case, actor=centre, note="等预算。", at=WED)
    elif status in ("reported", "accepted"):
        case = report(smell, people["resident"], at=WED)
        if status == "accepted":
            case = case_accept(case=case, actor=centre, at=WED)
        # The lead department is known before dispatch only by the matter.
        Case.objects.filter(pk=case.pk).update(lead_department=people["handler"].department)
    refused(
        lambda: extension_request(
            case=case, actor=people["handler"], amount=1, unit="days", reason="请延期。", at=WED
        ),
        media_root,
        code="invalid",
    )


def test_refusing_an_extension_needs_a_note(smell, people, media_root):
    case = running(smell, people)
    ext = extension_request(
        case=case, actor=people["handler"], amount=1, unit="days", reason="等配件。", at=WED
    )
    problem = refused(
        lambda: extension_decide(extension=ext, actor=people["dispatcher"], approve=False),
        media_root,
        code="invalid",
    )
    assert set(problem.fields) == {"note"}
    refused(
        lambda: extension_decide(extension=ext, actor=people["dispatcher"], approve="yes"),
        media_root,
        code="invalid",
    )

    extension_decide(extension=ext, actor=people["dispatcher"], approve=False, note="先处理。")
    ext.refresh_from_db()
    assert (ext.status, ext.decision_note) == ("refused", "先处理。")
    assert Case.objects.get(pk=case.pk).deadline == SMELL_DUE
    assert case.events.filter(action="extension_refuse", public=False).count() == 1


@pytest.mark.parametrize("who", ["handler", "grid_worker", "leader", "resident", "community"])
def test_only_the_centre_of_the_area_decides_an_extension(who, smell, people, media_root):
    case = running(smell, people)
    Case.objects.filter(pk=case.pk).update(grid=people["other_grid_worker"].area)
    ext = extension_request(
        case=case, actor=people["handler"], amount=1, unit="days", reason="等配件。", at=WED
    )
    refused(
        lambda: extension_decide(extension=ext, actor=people[who], approve=True),
        media_root,
        code="forbidden",
    )


def test_an_extension_is_answered_once(smell, people, media_root):
    case = running(smell, people)
    ext = extension_request(
        case=case, actor=people["handler"], amount=1, unit="days", reason="等配件。", at=WED
    )
    extension_decide(extension=ext, actor=people["dispatcher"], approve=True, at=WED)
    for approve in (True, False):
        refused(
            lambda approve=approve: extension_decide(
                extension=ext, actor=people["dispatcher"], approve=approve, note="再来。"
            ),
            media_root,
            code="invalid",
        )


def test_an_approval_after_the_case_moved_on_is_refused(smell, people, media_root):
    centre, department = people["dispatcher"], people["handler"]
    case = running(smell, people)
    ext = extension_request(
        case=case, actor=department, amount=1, unit="days", reason="等配件。", at=WED
    )
    case_reply(case=case, actor=department, note="其实已处理好。", at=WED)

    problem = refused(
        lambda: extension_decide(extension=ext, actor=centre, approve=True, at=WED),
        media_root,
        code="invalid",
    )
    assert "moved on" in str(problem.message)
    extension_decide(extension=ext, actor=centre, approve=False, note="已答复，不需要。")
    assert Extension.objects.get(pk=ext.pk).status == "refused"


def test_an_approval_after_a_new_dispatch_is_refused(smell, people, media_root):
    centre, department = people["dispatcher"], people["handler"]
    case = running(smell, people, status="dispatched")
    ext = extension_request(
        case=case, actor=department, amount=1, unit="days", reason="等配件。", at=WED
    )
    case_send_back(case=case, actor=department, reason_code="not_ours", note="不归我们。", at=WED)
    later = WED + timedelta(hours=2)
    case_dispatch(case=case, actor=centre, at=later)  # a new deadline, the same department

    refused(
        lambda: extension_decide(extension=ext, actor=centre, approve=True, at=later),
        media_root,
        code="invalid",
    )


# --- merge and "me too" --------------------------------------------------------------------------


def test_merge_moves_the_reporter_and_followers_of_the_duplicate_to_the_case(garbage, people):
    centre, resident, neighbour = people["dispatcher"], people["resident"], people["neighbour"]
    target = case_accept(case=report(garbage, resident), actor=centre, at=MON)
    duplicate = report(garbage, neighbour, at=MON + timedelta(minutes=5))
    case_me_too(case=duplicate, user=people["grid_worker"])
    case_me_too(case=duplicate, user=resident)  # already the target's reporter

    merged = case_merge(case=duplicate, actor=centre, into=target, note="同一堆垃圾。", at=MON)

    assert (merged.status, merged.merged_into) == ("merged", target)
    followers = set(target.supports.values_list("user__username", "kind", "from_case"))
    assert followers == {("neighbour", "merged", duplicate.pk), ("worker", "merged", duplicate.pk)}
    event = merged.events.get(action="merge")
    assert (event.from_status, event.to_status, event.public) == ("reported", "merged", True)
    assert event.data == {"into": target.number}
    note = target.events.get(action="merged_in")
    assert (note.from_status, note.to_status, note.data) == (
        "accepted",
        "accepted",
        {"case": duplicate.number},
    )
    assert Case.objects.get(pk=target.pk).status == "accepted"
    # The duplicate's reporter now finds the case they joined among their own.
    assert set(selectors.my_reports(neighbour)) == {duplicate, target}
    view = selectors.case_view_for(neighbour, target.pk)
    assert view.level == "reporter"


def test_the_reporters_of_merged_cases_hear_the_outcome_when_the_case_closes(
    garbage, people, sms, mailoutbox, django_capture_on_commit_callbacks
):
    centre, resident, neighbour = people["dispatcher"], people["resident"], people["neighbour"]
    neighbour.email = "neighbour@example.org"
    neighbour.save()
    # The case everyone joins came in by the hotline: its caller has no account.
    target = report(garbage, contact_name="王先生", contact_phone=CALLER)
    by_resident = report(garbage, resident)
    by_neighbour = report(garbage, neighbour)
    # A second hotline caller, merged into the resident's duplicate before that one joined.
    by_caller = report(garbage, contact_phone="13900001111", external_ref="12345-77")
    case_merge(case=by_caller, actor=centre, into=by_resident, at=MON)
    case_accept(case=target, actor=centre, at=MON)
    case_merge(case=by_resident, actor=centre, into=target, at=MON)
    case_merge(case=by_neighbour, actor=centre, into=target, at=MON)
    case_dispatch(case=target, actor=centre, at=MON)
    case_sign(case=target, actor=people["handler"], at=MON)
    case_start(case=target, actor=people["handler"], at=MON)
    case_reply(case=target, actor=people["handler"], note="已清理。", at=MON)
    told = Told()
    sms.clear()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case_verify(
            case=target,
            actor=people["grid_worker"],
            passed=True,
            note="干净了。",
            photos=[photo_upload(size=(64, 48))],
            at=MON,
        )
    assert told.new() == {("resident", "case_closed"), ("neighbour", "case_closed")}
    assert (sms, mailoutbox) == ([], [])  # nothing leaves before the commit

    for callback in callbacks:
        callback()
    assert sorted(phone for phone, _text in sms) == [CALLER_E164, "+8613900001111"]
    assert all(target.number in text for _phone, text in sms)
    assert [m.to for m in mailoutbox] == [["neighbour@example.org"]]


def test_merging_into_the_same_or_an_ended_case_is_refused(garbage, smell, people, media_root):
    centre = people["dispatcher"]
    case = report(garbage, people["resident"])
    refused(lambda: case_merge(case=case, actor=centre, into=case), media_root, code="invalid")
    ended = case_reject(case=report(garbage, people["neighbour"]), actor=centre, reason="不属实。")
    problem = refused(
        lambda: case_merge(case=case, actor=centre, into=ended), media_root, code="invalid"
    )
    assert set(problem.fields) == {"into"}
    other = report(garbage, people["neighbour"])
    case_merge(case=other, actor=centre, into=case)
    # A merged case is no longer open: nothing joins it.
    third = report(garbage, people["neighbour"])
    refused(lambda: case_merge(case=third, actor=centre, into=other), media_root, code="invalid")
    # And a dispatched case is too far along to be merged away.
    busy = running(smell, people, status="dispatched")
    refused(
        lambda: case_merge(case=busy, actor=centre, into=case),
        media_root,
        code="invalid_transition",
    )


def test_merging_needs_the_centre_of_both_cases(garbage, people, media_root):
    centre, community = people["dispatcher"], people["community"]
    inside = report(garbage, people["resident"])
    outside = report(garbage, people["neighbour"], lon=IN_G21[0], lat=IN_G21[1])
    for who in ("resident", "handler", "grid_worker", "leader"):
        refused(
            lambda who=who: case_merge(case=inside, actor=people[who], into=outside),
            media_root,
            code="forbidden",
        )
    refused(lambda: case_merge(case=inside, actor=community, into=outside), media_root)
    refused(lambda: case_merge(case=outside, actor=community, into=inside), media_root)
    assert case_merge(case=outside, actor=centre, into=inside).status == "merged"


def test_me_too_twice_makes_one_row(garbage, people):
    case = report(garbage, people["resident"])
    support, created = case_me_too(case=case, user=people["neighbour"], at=MON)
    again, created_again = case_me_too(case=case, user=people["neighbour"], at=MON)
    assert (created, created_again) == (True, False)
    assert again.pk == support.pk
    assert list(case.supports.values_list("user__username", "kind")) == [("neighbour", "me_too")]
    assert not case.events.exclude(action="report").exists()
    assert selectors.case_view_for(people["neighbour"], case.pk).level == "reporter"


def test_me_too_is_refused_on_an_ended_case_for_the_reporter_and_when_signed_out(
    garbage, people, media_root
):
    from django.contrib.auth.models import AnonymousUser

    centre = people["dispatcher"]
    case = report(garbage, people["resident"])
    refused(lambda: case_me_too(case=case, user=people["resident"]), media_root, code="invalid")
    refused(lambda: case_me_too(case=case, user=AnonymousUser()), media_root, code="forbidden")
    refused(lambda: case_me_too(case=case, user=None), media_root, code="forbidden")
    User.objects.filter(pk=people["neighbour"].pk).update(is_active=False)
    people["neighbour"].refresh_from_db()
    refused(lambda: case_me_too(case=case, user=people["neighbour"]), media_root)
    ended = case_reject(case=report(garbage, people["resident"]), actor=centre, reason="不属实。")
    refused(lambda: case_me_too(case=ended, user=people["grid_worker"]), media_root)


# --- urging ------------------------------------------------------------------------------------


def test_the_centre_urges_a_running_case_and_the_department_hears_it(
    smell, people, sms, django_capture_on_commit_callbacks
):
    user_set_phone(user=people["handler"], phone="13700000001")
    case = running(smell, people, status="signed")
    told = Told()
    with django_capture_on_commit_callbacks(execute=True):
        event = case_urge(case=case, actor=people["dispatcher"], note="请加快。", at=WED)
    assert (event.action, event.from_status, event.to_status) == ("urge", "signed", "signed")
    assert (event.actor, event.note, event.public) == (people["dispatcher"], "请加快。", False)
    assert told.new() == {("handler", "case_urged")}
    assert [phone for phone, _text in sms] == ["+8613700000001"]


@pytest.mark.parametrize("who", ["handler", "grid_worker", "resident", "leader", "community"])
def test_only_the_centre_of_the_area_urges(who, smell, people, media_root):
    case = running(smell, people)
    Case.objects.filter(pk=case.pk).update(grid=people["other_grid_worker"].area)
    refused(lambda: case_urge(case=case, actor=people[who]), media_root, code="forbidden")


def test_only_a_case_a_department_works_on_is_urged(smell, people, media_root):
    centre = people["dispatcher"]
    case = report(smell, people["resident"])
    refused(lambda: case_urge(case=case, actor=centre), media_root, code="invalid")
    case = running(smell, people)
    case_reply(case=case, actor=people["handler"], note="好了。", at=WED)
    refused(lambda: case_urge(case=case, actor=centre), media_root, code="invalid")
    refused(lambda: case_urge(case=case, actor=centre, note="x" * 1001), media_root)


# --- the SLA sweep -------------------------------------------------------------------------------


def alerts(case) -> list[tuple[str, datetime]]:
    return sorted(case.alerts.values_list("kind", "deadline"))


def test_the_sweep_reminds_within_four_working_hours_of_the_deadline(smell, people):
    assert REMIND_WORKING_HOURS == 4
    case = running(smell, people)
    assert sla_sweep(at=local(2026, 6, 5, 11, 59)) == {"remind": 0, "supervise": 0, "escalate": 0}
    # Friday 12:00: the lunch break does not count, so 4 working hours are left.
    assert sla_sweep(at=local(2026, 6, 5, 12, 0)) == {"remind": 1, "supervise": 0, "escalate": 0}
    assert alerts(case) == [("remind", SMELL_DUE)]
    event = case.events.get(action="remind")
    assert (event.actor, event.public, event.from_status, event.to_status) == (
        None,
        False,
        "handling",
        "handling",
    )
    assert event.data == {"working_hours_left": 4.0}
    assert event.created_at == local(2026, 6, 5, 12, 0)


def test_the_sweep_supervises_at_the_deadline_and_escalates_on_the_fifth_working_day(smell, people):
    assert ESCALATE_WORKING_DAYS == 5
    case = running(smell, people)
    assert sla_sweep(at=SMELL_DUE - timedelta(seconds=1))["supervise"] == 0
    assert sla_sweep(at=SMELL_DUE) == {"remind": 0, "supervise": 1, "escalate": 0}
    # Due Friday; Monday to Thursday are four working days late, across the weekend.
    assert sla_sweep(at=local(2026, 6, 11, 23, 59))["escalate"] == 0
    assert sla_sweep(at=local(2026, 6, 12, 9, 0)) == {"remind": 0, "supervise": 0, "escalate": 1}
    assert alerts(case) == [
        ("escalate", SMELL_DUE),
        ("remind", SMELL_DUE),
        ("supervise", SMELL_DUE),
    ]
    assert case.events.get(action="escalate").data == {"working_days_overdue": 5}


def test_a_first_sweep_long_after_the_deadline_takes_the_notice_and_the_escalation(smell, people):
    case = running(smell, people)
    assert sla_sweep(at=local(2026, 6, 15, 9, 0)) == {"remind": 0, "supervise": 1, "escalate": 1}
    assert alerts(case) == [("escalate", SMELL_DUE), ("supervise", SMELL_DUE)]


def test_escalation_counts_a_sunday_make_up_day_by_the_calendar(smell, people):
    """Sunday 2026-01-04 was a working day (调休); a case due then at 17:30 is five
    working days late on Friday the 9th, four days and some hours later."""
    case = running(smell, people, at=local(2026, 1, 2, 10, 0))
    due = local(2026, 1, 4, 17, 30)
    Case.objects.filter(pk=case.pk).update(deadline=due)
    assert sla_sweep(at=local(2026, 1, 8, 9, 0)) == {"remind": 0, "supervise": 1, "escalate": 0}
    assert sla_sweep(at=local(2026, 1, 9, 9, 0)) == {"remind": 0, "supervise": 0, "escalate": 1}
    assert workcal.working_days_between(due, local(2026, 1, 9, 9, 0)) == 5


def test_escalation_waits_out_the_national_day_holiday(smell, people):
    """Due on the eve of National Day 2026; 8, 9, 10 (a make-up Saturday), 12 and 13
    October are the five working days late."""
    case = running(smell, people, at=local(2026, 9, 28, 9, 0))
    due = local(2026, 9, 30, 17, 30)
    Case.objects.filter(pk=case.pk).update(deadline=due)
    assert sla_sweep(at=local(2026, 10, 7, 12, 0)) == {"remind": 0, "supervise": 1, "escalate": 0}
    assert sla_sweep(at=local(2026, 10, 12, 17, 0))["escalate"] == 0
    assert sla_sweep(at=local(2026, 10, 13, 0, 10))["escalate"] == 1


def test_a_second_sweep_at_the_same_time_adds_nothing(smell, garbage, people, media_root):
    running(smell, people)
    running(smell, people, status="dispatched")
    running(garbage, people, at=MON)
    at = local(2026, 6, 12, 10, 0)
    first = sla_sweep(at=at)
    assert first == {"remind": 0, "supervise": 3, "escalate": 3}
    before = snapshot(media_root)
    assert sla_sweep(at=at) == {"remind": 0, "supervise": 0, "escalate": 0}
    assert sla_sweep(at=at + timedelta(days=3)) == {"remind": 0, "supervise": 0, "escalate": 0}
    assert snapshot(media_root) == before


def test_a_new_deadline_from_an_extension_allows_new_alerts(smell, people):
    centre = people["dispatcher"]
    case = running(smell, people)
    assert sla_sweep(at=local(2026, 6, 5, 14, 0))["remind"] == 1
    ext = extension_request(
        case=case,
        actor=people["handler"],
        amount=1,
        unit="days",
        reason="等配件。",
        at=local(2026, 6, 5, 14, 10),
    )
    extension_decide(extension=ext, actor=centre, approve=True, at=local(2026, 6, 5, 14, 20))
    new_due = local(2026, 6, 8, 17, 30)
    assert Case.objects.get(pk=case.pk).deadline == new_due

    # The old deadline passes without a notice: it is no longer the case's deadline.
    assert sla_sweep(at=SMELL_DUE) == {"remind": 0, "supervise": 0, "escalate": 0}
    assert sla_sweep(at=local(2026, 6, 8, 14, 0))["remind"] == 1
    assert sla_sweep(at=new_due)["supervise"] == 1
    assert alerts(case) == [("remind", SMELL_DUE), ("remind", new_due), ("supervise", new_due)]


def test_a_reopened_case_is_supervised_against_its_new_deadline(smell, people):
    centre = people["dispatcher"]
    case = closed(running(smell, people), people, at=WED)
    case_rate(case=case, actor=people["resident"], resolved=False, satisfaction="unsatisfied")
    assert sla_sweep(at=local(2026, 6, 8, 9, 0))["supervise"] == 0  # closed: not running
    case = case_reopen(case=case, actor=centre, note="还是很臭。", at=local(2026, 6, 8, 9, 0))
    assert case.deadline == local(2026, 6, 10, 17, 30)
    assert sla_sweep(at=local(2026, 6, 10, 17, 30))["supervise"] == 1


def test_the_sweep_leaves_cases_nobody_is_running_against_a_deadline(smell, people):
    centre = people["dispatcher"]
    report(smell, people["resident"], at=WED)
    case_accept(case=report(smell, people["resident"], at=WED), actor=centre, at=WED)
    replied = running(smell, people)
    case_reply(case=replied, actor=people["handler"], note="好了。", at=WED)
    case_park(case=running(smell, people), actor=centre, note="等预算。", at=WED)
    case_send_back(
        case=running(smell, people, status="dispatched"),
        actor=people["handler"],
        reason_code="not_ours",
        note="不归我们。",
        at=WED,
    )
    assert sla_sweep(at=local(2026, 6, 30, 9, 0)) == {"remind": 0, "supervise": 0, "escalate": 0}
    assert not CaseAlert.objects.exists()


def test_the_sweep_tells_the_department_then_the_leaders(
    smell, people, sms, mailoutbox, django_capture_on_commit_callbacks
):
    people["handler"].email = "cg@example.org"
    people["handler"].save()
    people["leader"].email = "leader@example.org"
    people["leader"].save()
    user_set_phone(user=people["handler"], phone="13700000001")
    case = running(smell, people)
    told = Told()

    sla_sweep(at=local(2026, 6, 5, 15, 0))
    assert told.new() == {("handler", "case_deadline_near")}
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep(at=SMELL_DUE)
    assert told.new() == {("handler", "case_overdue")}
    assert [m.to for m in mailoutbox] == [["cg@example.org"]]
    assert [phone for phone, _text in sms] == ["+8613700000001"]
    sla_sweep(at=local(2026, 6, 12, 9, 0))
    # The leaders and the dispatchers whose area holds the grid; not the other community's.
    assert told.new() == {
        ("leader", "case_escalated"),
        ("dispatcher", "case_escalated"),
        ("community", "case_escalated"),
    }
    notification = Notification.objects.filter(kind="case_escalated").first()
    assert (notification.link, notification.object_ref) == (f"/cases/{case.pk}/", f"case:{case.pk}")


def test_the_sla_sweep_command_prints_what_it_did_and_a_second_run_adds_nothing(smell, people):
    running(smell, people)
    out = io.StringIO()
    call_command("sla_sweep", "--at", "2026-06-12T09:00", stdout=out)
    assert out.getvalue().strip() == (
        "SLA sweep at 2026-06-12 09:00: 0 reminders, 1 overdue notices, 1 escalations."
    )
    out = io.StringIO()
    call_command("sla_sweep", "--at", "2026-06-12T01:00:00+00:00", stdout=out)
    assert "0 reminders, 0 overdue notices, 0 escalations" in out.getvalue()
    assert CaseAlert.objects.count() == 2
    with pytest.raises(CommandError, match="Not a date and time"):
        call_command("sla_sweep", "--at", "next friday")


def test_the_sla_sweep_command_sweeps_now_without_at(smell, people):
    running(smell, people, at=local(2024, 6, 3, 9, 0))
    out = io.StringIO()
    call_command("sla_sweep", stdout=out)
    assert "1 overdue notices, 1 escalations" in out.getvalue()


# --- the whistle ---------------------------------------------------------------------------------


def test_a_whistle_makes_the_summoned_departments_co_handlers_who_see_the_case(
    smell, people, catalogue
):
    centre = people["dispatcher"]
    case = running(smell, people)
    assert case not in selectors.cases_for(people["hw"])
    told = Told()

    whistle = whistle_blow(
        case=case,
        actor=centre,
        departments=[catalogue["HW"], catalogue["ZJ"], catalogue["HW"], catalogue["CG"]],
        note="联合处置恶臭。",
        at=WED,
    )

    assert sorted(whistle.calls.values_list("department__code", flat=True)) == ["CG", "HW", "ZJ"]
    roles = set(case.assignments.values_list("department__code", "role"))
    assert roles == {("CG", "lead"), ("HW", "co_handler"), ("ZJ", "co_handler")}
    for who in ("hw", "zj", "handler"):
        assert case in selectors.cases_for(people[who])
        assert case in selectors.department_inbox(people[who])
        assert selectors.case_for(people[who], case.pk) == case
    assert case not in selectors.cases_for(people["ga"])
    assert selectors.case_view_for(people["ga"], case.pk) is None
    event = case.events.get(action="whistle")
    assert (event.from_status, event.to_status) == ("handling", "handling")
    assert event.data == {"whistle": whistle.pk, "departments": ["HW", "ZJ", "CG"]}
    assert told.new() == {
        ("hw", "case_whistle"),
        ("zj", "case_whistle"),
        ("handler", "case_whistle"),
    }
    # Co-handlers see the case but the lead answers for it.
    with pytest.raises(DomainError):
        case_reply(case=case, actor=people["hw"], note="我们弄好了。")


def test_a_whistle_on_an_accepted_case_lets_the_departments_see_it_before_dispatch(
    smell, people, catalogue
):
    centre = people["dispatcher"]
    case = case_accept(case=report(smell, people["resident"], at=WED), actor=centre, at=WED)
    whistle_blow(case=case, actor=centre, departments=[catalogue["GA"]], note="到场。", at=WED)
    assert not case.assignments.exists()
    assert case in selectors.cases_for(people["ga"])


def test_a_summoned_department_reports_in_once_with_its_response_time(
    smell, people, catalogue, media_root
):
    centre = people["dispatcher"]
    case = running(smell, people)
    whistle = whistle_blow(
        case=case,
        actor=centre,
        departments=[catalogue["HW"], catalogue["ZJ"]],
        note="联合。",
        at=WED,
    )
    call = whistle.calls.get(department__code="HW")
    told = Told()

    call = whistle_report_in(
        call=call, actor=people["hw"], note="已到。", at=WED + timedelta(minutes=25)
    )

    call.refresh_from_db()
    assert (call.reported_at, call.reported_by, call.note) == (
        WED + timedelta(minutes=25),
        people["hw"],
        "已到。",
    )
    assert call.response_time == timedelta(minutes=25)
    event = case.events.get(action="report_in")
    assert event.data == {"whistle": whistle.pk, "department": "HW", "minutes": 25}
    assert told.new() == {("dispatcher", "case_reported_in")}
    problem = refused(
        lambda: whistle_report_in(call=call, actor=people["hw"], at=WED + timedelta(hours=1)),
        media_root,
        code="invalid",
    )
    assert "already reported in" in str(problem.message)
    assert whistle.calls.get(department__code="ZJ").reported_at is None


@pytest.mark.parametrize("who", ["handler", "zj", "dispatcher", "resident", "grid_worker"])
def test_only_a_handler_of_the_summoned_department_reports_in(
    who, smell, people, catalogue, media_root
):
    case = running(smell, people)
    whistle = whistle_blow(
        case=case, actor=people["dispatcher"], departments=[catalogue["HW"]], note="到场。", at=WED
    )
    call = whistle.calls.get()
    refused(lambda: whistle_report_in(call=call, actor=people[who]), media_root, code="forbidden")


def test_a_whistle_needs_departments_a_note_and_an_open_accepted_case(
    smell, people, catalogue, media_root
):
    centre = people["dispatcher"]
    case = running(smell, people)
    problem = refused(
        lambda: whistle_blow(case=case, actor=centre, departments=[], note=" "),
        media_root,
        code="invalid",
    )
    assert set(problem.fields) == {"departments", "note"}
    catalogue["GA"].is_active = False
    catalogue["GA"].save()
    refused(
        lambda: whistle_blow(case=case, actor=centre, departments=[catalogue["GA"]], note="来。"),
        media_root,
    )
    for who in ("handler", "leader", "grid_worker", "resident"):
        refused(
            lambda who=who: whistle_blow(
                case=case, actor=people[who], departments=[catalogue["HW"]], note="来。"
            ),
            media_root,
            code="forbidden",
        )
    fresh = report(smell, people["resident"])
    ended = closed(running(smell, people), people, at=WED)
    for not_now in (fresh, ended):
        refused(
            lambda not_now=not_now: whistle_blow(
                case=not_now, actor=centre, departments=[catalogue["HW"]], note="来。"
            ),
            media_root,
            code="invalid",
        )


# --- photos --------------------------------------------------------------------------------------


def fake_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.jpg", b"#!/bin/sh\necho not a photo\n", "image/jpeg")


def stored_files(media_root) -> list:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def test_a_fake_image_refuses_the_report_and_writes_nothing(garbage, people, media_root):
    problem = refused(
        lambda: report(garbage, people["resident"], photos=[photo_upload(), fake_image()]),
        media_root,
        code="invalid",
    )
    assert "photos" in problem.fields
    assert "not a readable image" in str(problem.fields["photos"][0])
    assert not Case.objects.exists()
    assert stored_files(media_root) == []


def test_report_photos_are_stored_without_exif_and_with_a_thumbnail(garbage, people, media_root):
    upload = SimpleUploadedFile(
        "IMG_0001.JPG", jpeg_bytes((1200, 900), gps=(118.605, 37.405)), "image/jpeg"
    )
    case = report(garbage, people["resident"], photos=[upload, photo_upload(size=(64, 48))])

    photos = list(case.photos.order_by("id"))
    assert [(p.kind, p.event.action) for p in photos] == [("report", "report")] * 2
    first = photos[0]
    assert (first.width, first.height) == (1200, 900)
    for field in (first.image, first.thumbnail):
        with Image.open(field.path) as image:
            assert image.format == "JPEG"
            assert not image.getexif()
            assert "exif" not in image.info
        assert str(media_root) in field.path
    with Image.open(first.thumbnail.path) as thumb:
        assert max(thumb.size) <= 320
    assert len(stored_files(media_root)) == 4


def test_a_photos_gps_places_a_report_without_coordinates(garbage, people):
    upload = SimpleUploadedFile("gps.jpg", jpeg_bytes((64, 48), gps=IN_G21), "image/jpeg")
    case = report(garbage, people["resident"], lon=None, lat="", photos=[upload])
    assert case.grid.code == "370502003002001"
    assert (round(case.lon, 4), round(case.lat, 4)) == IN_G21
    # Given coordinates win over the photo's.
    upload = SimpleUploadedFile("gps.jpg", jpeg_bytes((64, 48), gps=IN_G21), "image/jpeg")
    case = report(garbage, people["resident"], photos=[upload])
    assert case.grid.code == "370502003001001"


def test_without_coordinates_or_a_photo_position_the_report_is_refused(garbage, people, media_root):
    problem = refused(
        lambda: report(garbage, people["resident"], lon=None, lat=None, photos=[photo_upload()]),
        media_root,
        code="invalid",
    )
    assert set(problem.fields) == {"lon", "lat"}
    outside = SimpleUploadedFile("gps.jpg", jpeg_bytes((64, 48), gps=(118.9, 37.4)), "image/jpeg")
    problem = refused(
        lambda: report(garbage, people["resident"], lon=None, lat=None, photos=[outside]),
        media_root,
    )
    assert "outside every grid" in str(problem.fields["lon"][0])


def test_at_most_six_photos_a_step(garbage, people, media_root):
    photos = [photo_upload(size=(32, 24)) for _ in range(7)]
    problem = refused(lambda: report(garbage, people["resident"], photos=photos), media_root)
    assert "At most 6 photos" in str(problem.fields["photos"][0])


def test_a_reply_keeps_its_after_photos_and_a_bad_one_changes_nothing(smell, people, media_root):
    case = running(smell, people)
    refused(
        lambda: case_reply(
            case=case, actor=people["handler"], note="好了。", photos=[fake_image()], at=WED
        ),
        media_root,
        code="invalid_image",
    )
    assert Case.objects.get(pk=case.pk).status == "handling"

    case = case_reply(
        case=case,
        actor=people["handler"],
        note="好了。",
        photos=[photo_upload(size=(64, 48)), photo_upload(size=(48, 64))],
        at=WED,
    )
    event = case.events.get(action="reply")
    assert list(event.photos.values_list("kind", "width", "height")) == [
        ("reply", 64, 48),
        ("reply", 48, 64),
    ]
    assert len(stored_files(media_root)) == 4


def test_a_check_photo_is_needed_to_close_a_matter_that_asks_for_one(
    garbage, smell, people, media_root
):
    worker, department = people["grid_worker"], people["handler"]
    case = running(garbage, people, at=MON)
    case_reply(case=case, actor=department, note="已清理。", at=MON)
    problem = refused(
        lambda: case_verify(case=case, actor=worker, passed=True, note="干净了。", at=MON),
        media_root,
        code="invalid",
    )
    assert set(problem.fields) == {"photos"}
    refused(
        lambda: case_verify(
            case=case, actor=worker, passed=True, note="干净了。", photos=[fake_image()], at=MON
        ),
        media_root,
    )
    # A failed check needs no photo.
    case = case_verify(case=case, actor=worker, passed=False, note="还有。", at=MON)
    assert (case.status, case.rework_count) == ("handling", 1)
    case_reply(case=case, actor=department, note="再清理。", at=MON)
    case = case_verify(
        case=case,
        actor=worker,
        passed=True,
        note="干净了。",
        photos=[photo_upload(size=(64, 48))],
        at=MON,
    )
    assert case.status == "closed"
    check = case.photos.get()
    assert (check.kind, check.event.action) == ("check", "verify_pass")

    # A matter that does not ask for one closes on the note alone.
    other = running(smell, people)
    case_reply(case=other, actor=department, note="已处理。", at=WED)
    assert case_verify(case=other, actor=worker, passed=True, note="没味了。").status == "closed"


# --- external references and the caller's phone ---------------------------------------------------


def test_an_order_is_taken_in_once_per_source(garbage, media_root):
    first = report(garbage, external_ref=" 12345-2026-0001 ")
    assert first.external_ref == "12345-2026-0001"
    problem = refused(
        lambda: report(garbage, external_ref="12345-2026-0001"), media_root, code="invalid"
    )
    assert set(problem.fields) == {"external_ref"}
    # Another system may use the same reference for its own record.
    sensor = report(garbage, source="sensor", external_ref="12345-2026-0001")
    assert sensor.external_ref == first.external_ref
    # Reports without a reference never collide.
    assert report(garbage).external_ref == report(garbage).external_ref == ""
    refused(lambda: report(garbage, external_ref="x" * 65), media_root, code="invalid")


def test_a_callers_phone_is_sealed_indexed_and_masked(garbage, media_root):
    case = report(garbage, contact_name=" 王先生 ", contact_phone="138 1234 5678")
    case.refresh_from_db()
    assert case.contact_name == "王先生"
    assert CALLER not in case.contact_phone_encrypted
    assert decrypt(case.contact_phone_encrypted, context=CONTACT_PHONE_CONTEXT) == CALLER_E164
    assert case.contact_phone_index == blind_index(CALLER_E164, context=CONTACT_PHONE_CONTEXT)
    assert case.contact_phone_masked == "138****5678"
    # A landline of a mainland caller is kept too; a foreign or made-up number is not.
    landline = report(garbage, contact_phone="0546-8221234")
    assert landline.contact_phone_masked.endswith("1234")
    for bad in ("12345", "+1 202 555 0100", "phone"):
        problem = refused(lambda bad=bad: report(garbage, contact_phone=bad), media_root)
        assert set(problem.fields) == {"contact_phone"}
    assert not report(garbage).contact_phone_encrypted


# --- who is told what ----------------------------------------------------------------------------


def test_each_move_tells_the_people_it_concerns(
    garbage, people, catalogue, sms, mailoutbox, django_capture_on_commit_callbacks
):
    resident, neighbour = people["resident"], people["neighbour"]
    centre, department, worker = people["dispatcher"], people["handler"], people["grid_worker"]
    resident.email = "resident@example.org"
    resident.save()
    user_set_phone(user=resident, phone="13600000001")
    told = Told()

    def step(call):
        with django_capture_on_commit_callbacks(execute=True):
            call()
        return told.new()

    case = report(garbage, resident, contact_phone=CALLER)
    assert told.new() == set()
    case_me_too(case=case, user=neighbour)

    sms.clear()
    assert step(lambda: case_accept(case=case, actor=centre, at=MON)) == {
        ("resident", "case_accepted"),
        ("neighbour", "case_accepted"),
    }
    assert [m.to for m in mailoutbox] == [["resident@example.org"]]
    assert sorted(phone for phone, _ in sms) == ["+8613600000001", CALLER_E164]

    assert step(
        lambda: case_dispatch(case=case, actor=centre, co_departments=[catalogue["HW"]], at=MON)
    ) == {("handler", "case_dispatched"), ("hw", "case_dispatched")}
    assert step(
        lambda: case_send_back(case=case, actor=department, reason_code="unclear", note="?", at=MON)
    ) == {("dispatcher", "case_sent_back"), ("community", "case_sent_back")}
    assert step(lambda: case_dispatch(case=case, actor=centre, at=MON)) == {
        ("handler", "case_dispatched")
    }
    assert step(lambda: case_sign(case=case, actor=department, at=MON)) == set()
    assert step(lambda: case_start(case=case, actor=department, at=MON)) == set()

    ask = {}
    assert step(
        lambda: ask.update(
            e=extension_request(
                case=case, actor=department, amount=2, unit="hours", reason="车坏了。", at=MON
            )
        )
    ) == {("dispatcher", "case_extension_asked"), ("community", "case_extension_asked")}
    assert step(
        lambda: extension_decide(extension=ask["e"], actor=centre, approve=False, note="不行。")
    ) == {("handler", "case_extension_answered")}
    ask["e"] = extension_request(
        case=case, actor=department, amount=2, unit="hours", reason="车坏了。", at=MON
    )
    told.new()
    sms.clear()
    assert step(lambda: extension_decide(extension=ask["e"], actor=centre, approve=True)) == {
        ("resident", "case_extended"),
        ("neighbour", "case_extended"),
        ("handler", "case_extension_answered"),
    }
    # The caller without an account hears of the extra time by text; the account holder
    # reads it in the app.
    assert [phone for phone, _ in sms] == [CALLER_E164]

    assert step(lambda: case_urge(case=case, actor=centre, at=MON)) == {("handler", "case_urged")}
    assert step(lambda: case_reply(case=case, actor=department, note="已清理。", at=MON)) == {
        ("worker", "case_to_verify")
    }
    assert step(
        lambda: case_verify(case=case, actor=worker, passed=False, note="还有。", at=MON)
    ) == {("handler", "case_rework")}
    case_reply(case=case, actor=department, note="再清理。", at=MON)
    told.new()
    mailoutbox.clear()
    sms.clear()
    assert step(lambda: closed_check(case, worker)) == {
        ("resident", "case_closed"),
        ("neighbour", "case_closed"),
    }
    assert [m.to for m in mailoutbox] == [["resident@example.org"]]
    assert sorted(phone for phone, _ in sms) == ["+8613600000001", CALLER_E164]
    assert (
        step(
            lambda: case_rate(case=case, actor=resident, resolved=False, satisfaction="unsatisfied")
        )
        == set()
    )
    assert step(lambda: case_reopen(case=case, actor=centre, note="又有了。", at=MON)) == {
        ("handler", "case_reopened")
    }
    assert step(lambda: case_park(case=case, actor=centre, note="等预算。", at=MON)) == {
        ("resident", "case_parked"),
        ("neighbour", "case_parked"),
    }
    assert step(lambda: case_resume(case=case, actor=centre, at=MON)) == set()

    rejected = report(garbage, neighbour)
    assert step(lambda: case_reject(case=rejected, actor=centre, reason="不属实。")) == {
        ("neighbour", "case_rejected")
    }
    duplicate = report(garbage, neighbour, contact_phone="13900001111")
    target = report(garbage, resident)
    sms.clear()
    assert step(lambda: case_merge(case=duplicate, actor=centre, into=target)) == {
        ("neighbour", "case_merged")
    }
    assert [phone for phone, _ in sms] == ["+8613900001111"]
    rows = Notification.objects.filter(kind="case_merged").get()
    assert rows.params["into"] == target.number
    assert rows.link == f"/cases/{duplicate.pk}/"


def closed_check(case, worker):
    return case_verify(
        case=case,
        actor=worker,
        passed=True,
        note="干净了。",
        photos=[photo_upload(size=(64, 48))],
        at=MON,
    )


def test_inactive_people_are_not_told(garbage, people):
    User.objects.filter(pk=people["neighbour"].pk).update(is_active=False)
    case = report(garbage, people["resident"])
    CaseSupport.objects.create(case=case, user=people["neighbour"], kind="me_too")
    told = Told()
    case_accept(case=case, actor=people["dispatcher"], at=MON)
    assert told.new() == {("resident", "case_accepted")}
