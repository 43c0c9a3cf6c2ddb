"""The case workflow: the transition table walked pair by pair, the whole loop, deadlines by
the working-time calendar, who may move a case, and intake checks (case_services)."""

import itertools
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from linli.accounts.models import User
from linli.cases import case_services
from linli.cases.case_services import (
    case_accept,
    case_archive,
    case_dispatch,
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
    case_verify,
)
from linli.cases.models import Case, CaseAssignment, CaseEvent, Matter
from linli.cases.workflow import TRANSITIONS, Action, Status, allowed_actions
from linli.core.errors import DomainError
from linli.core.models import AppendOnlyError
from linli.core.testing import photo_upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_G11 = (118.605, 37.405)
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)  # a Monday


@pytest.fixture
def other_handler(catalogue):
    user = User(username="hw-handler", role="handler", department=catalogue["HW"])
    user.set_password("x")
    user.save()
    return user


@pytest.fixture
def actors(personas):
    """The right actor for every action on a case in grid g11 led by CG, reported by the
    resident."""
    centre, department = personas["dispatcher"], personas["handler"]
    return {
        "accept": centre,
        "reject": centre,
        "dispatch": centre,
        "park": centre,
        "resume": centre,
        "reopen": centre,
        "archive": centre,
        "merge": centre,
        "sign": department,
        "send_back": department,
        "start": department,
        "reply": department,
        "verify_pass": personas["grid_worker"],
        "verify_fail": personas["grid_worker"],
        "rate": personas["resident"],
    }


CALLS = {
    "accept": lambda c, a: case_accept(case=c, actor=a),
    "reject": lambda c, a: case_reject(case=c, actor=a, reason="Not a public matter."),
    "dispatch": lambda c, a: case_dispatch(case=c, actor=a),
    "sign": lambda c, a: case_sign(case=c, actor=a),
    "send_back": lambda c, a: case_send_back(
        case=c, actor=a, reason_code="not_ours", note="Not ours."
    ),
    "start": lambda c, a: case_start(case=c, actor=a),
    "reply": lambda c, a: case_reply(case=c, actor=a, note="Cleared."),
    "verify_pass": lambda c, a: case_verify(
        case=c, actor=a, passed=True, note="Clean now.", photos=[photo_upload()]
    ),
    "verify_fail": lambda c, a: case_verify(case=c, actor=a, passed=False, note="Still there."),
    "rate": lambda c, a: case_rate(case=c, actor=a, resolved=True, satisfaction="satisfied"),
    "reopen": lambda c, a: case_reopen(case=c, actor=a, note="Reporter not satisfied."),
    "archive": lambda c, a: case_archive(case=c, actor=a),
    "park": lambda c, a: case_park(case=c, actor=a, note="Needs next year's budget."),
    "resume": lambda c, a: case_resume(case=c, actor=a),
    "merge": lambda c, a: case_merge(case=c, actor=a, into=open_twin(c)),
}


def open_twin(case: Case) -> Case:
    """An accepted case like `case`, for a duplicate to be merged into."""
    return Case.objects.create(
        number=uuid.uuid4().hex,
        source=case.source,
        matter=case.matter,
        description=case.description,
        lon=case.lon,
        lat=case.lat,
        grid=case.grid,
        status="accepted",
    )


def case_in(status: str, *, matter, street, reporter) -> Case:
    """A fresh case put straight into `status`, with what that status implies."""
    closed = status in ("closed", "rated", "archived")
    rated = status in ("rated", "archived")
    return Case.objects.create(
        number=uuid.uuid4().hex,
        source="resident",
        matter=matter,
        description="垃圾堆在路边",
        lon=IN_G11[0],
        lat=IN_G11[1],
        grid=street["g11"],
        reporter=reporter,
        status=status,
        lead_department=street["dept"],
        deadline=T0 + timedelta(days=1),
        verified_at=T0 if closed else None,
        closed_at=T0 if closed else None,
        archived_at=T0 if status == "archived" else None,
        satisfaction="unsatisfied" if rated else None,
        resolved=False if rated else None,
        merged_into=open_twin_of(matter, street) if status == "merged" else None,
    )


def open_twin_of(matter, street) -> Case:
    return Case.objects.create(
        number=uuid.uuid4().hex,
        source="resident",
        matter=matter,
        description="垃圾堆在路边",
        lon=IN_G11[0],
        lat=IN_G11[1],
        grid=street["g11"],
        status="accepted",
    )


def report(matter, reporter, **extra) -> Case:
    values = {
        "matter": matter,
        "description": "路边有一堆垃圾",
        "lon": IN_G11[0],
        "lat": IN_G11[1],
        "source": "resident",
        "reporter": reporter,
        "at": T0,
    }
    return case_report(**(values | extra))


def test_the_table_covers_only_known_states_and_actions():
    for (status, action), to in TRANSITIONS.items():
        assert status in Status.values
        assert action in Action.values
        assert to in Status.values
    assert allowed_actions("reported") == ["accept", "reject", "merge"]
    assert allowed_actions("handling") == ["reply", "park"]
    assert allowed_actions("archived") == []
    assert set(CALLS) == set(Action.values)


def test_every_state_and_action_pair_follows_the_table(matter, street, actors, personas):
    outcomes = []
    for status, action in itertools.product(Status.values, Action.values):
        case = case_in(status, matter=matter, street=street, reporter=personas["resident"])
        to = TRANSITIONS.get((status, action))
        if to is not None:
            moved = CALLS[action](case, actors[action])
            case.refresh_from_db()
            events = list(case.events.all())
            ok = (
                moved.status == case.status == to
                and len(events) == 1
                and (events[0].action, events[0].from_status, events[0].to_status)
                == (action, status, to)
            )
        else:
            with pytest.raises(DomainError) as refused:
                CALLS[action](case, actors[action])
            case.refresh_from_db()
            ok = (
                refused.value.code == "invalid_transition"
                and case.status == status
                and not case.events.exists()
            )
        outcomes.append((status, action, ok))
    assert [o for o in outcomes if not o[2]] == []
    assert sum(1 for s, a, _ in outcomes if (s, a) in TRANSITIONS) == len(TRANSITIONS)


def test_an_illegal_move_names_the_state_and_the_action(matter, street, personas):
    case = case_in("closed", matter=matter, street=street, reporter=personas["resident"])
    with pytest.raises(DomainError) as refused:
        case_accept(case=case, actor=personas["dispatcher"])
    assert refused.value.code == "invalid_transition"
    assert "closed" in str(refused.value.message)
    assert "accept" in str(refused.value.message)


def test_a_case_goes_from_report_to_archive_with_one_rework(matter, personas):
    resident, centre = personas["resident"], personas["dispatcher"]
    department, worker = personas["handler"], personas["grid_worker"]
    step = iter(T0 + timedelta(minutes=10 * i) for i in range(1, 20))

    case = report(matter, resident)
    assert case.number == f"2026-{case.pk:08d}"
    assert case.grid.code == "370502003001001"
    case = case_accept(case=case, actor=centre, at=next(step))
    case = case_dispatch(case=case, actor=centre, at=next(step))
    case = case_sign(case=case, actor=department, at=next(step))
    case = case_start(case=case, actor=department, at=next(step))
    case = case_reply(case=case, actor=department, note="已清理。", at=next(step))
    case = case_verify(case=case, actor=worker, passed=False, note="还有残留。", at=next(step))
    case = case_reply(case=case, actor=department, note="已彻底清理。", at=next(step))
    case = case_verify(
        case=case,
        actor=worker,
        passed=True,
        note="干净了。",
        photos=[photo_upload()],
        at=next(step),
    )
    case = case_rate(case=case, actor=resident, resolved=True, satisfaction="satisfied")
    case = case_archive(case=case, actor=centre)

    case.refresh_from_db()
    assert case.status == "archived"
    assert (case.rework_count, case.sendback_count, case.reopen_count) == (1, 0, 0)
    assert (case.satisfaction, case.resolved) == ("satisfied", True)
    assert case.lead_department.code == "CG"
    assert case.accepted_at and case.signed_at and case.verified_at and case.closed_at
    assert case.archived_at
    events = list(case.events.order_by("created_at", "id"))
    assert [e.action for e in events] == [
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
    assert events[0].from_status == ""
    for before, after in itertools.pairwise(events):
        assert after.from_status == before.to_status
    assert [e.action for e in events if not e.public] == ["verify_fail"]
    assert CaseAssignment.objects.get(case=case).role == "lead"


def test_an_unsatisfied_rating_reopens_the_case_with_a_new_deadline(matter, personas):
    resident, centre = personas["resident"], personas["dispatcher"]
    department, worker = personas["handler"], personas["grid_worker"]
    case = report(matter, resident)
    case = case_accept(case=case, actor=centre, at=T0)
    case = case_dispatch(case=case, actor=centre, at=T0)
    first_deadline = case.deadline
    case_sign(case=case, actor=department, at=T0)
    case_start(case=case, actor=department, at=T0)
    case_reply(case=case, actor=department, note="已清理。", at=T0)
    case_verify(
        case=case, actor=worker, passed=True, note="干净了。", photos=[photo_upload()], at=T0
    )
    case = case_rate(case=case, actor=resident, resolved=False, satisfaction="unsatisfied")
    assert case.status == "rated"

    later = T0 + timedelta(days=2)  # Wednesday 09:00; 4 working hours span the lunch break
    case = case_reopen(case=case, actor=centre, note="又堆上了。", at=later)

    case.refresh_from_db()
    assert case.status == "dispatched"
    assert case.reopen_count == 1
    assert case.deadline == datetime(2026, 6, 3, 14, 30, tzinfo=SHANGHAI) != first_deadline
    assert case.closed_at is None and case.satisfaction is None
    event = case.events.get(action="reopen")
    assert event.data["satisfaction"] == "unsatisfied"


def test_a_satisfied_case_is_not_reopened(matter, street, personas):
    case = case_in("rated", matter=matter, street=street, reporter=personas["resident"])
    Case.objects.filter(pk=case.pk).update(satisfaction="satisfied", resolved=True)
    with pytest.raises(DomainError) as refused:
        case_reopen(case=case, actor=personas["dispatcher"], note="Why not.")
    assert refused.value.code == "invalid"
    assert Case.objects.get(pk=case.pk).status == "rated"


def test_the_deadline_skips_the_national_day_holiday(matter, street, personas):
    case = case_in("accepted", matter=matter, street=street, reporter=personas["resident"])
    at = datetime(2026, 9, 30, 16, 0, tzinfo=SHANGHAI)

    case = case_dispatch(case=case, actor=personas["dispatcher"], at=at)

    case.refresh_from_db()
    assert case.deadline == datetime(2026, 10, 8, 11, 0, tzinfo=SHANGHAI)
    assert case.dispatched_at == at
    assert case.events.get().data["deadline"] == "2026-10-08T11:00:00+08:00"


def test_the_deadline_follows_the_chosen_urgency(matter, street, personas):
    case = case_in("accepted", matter=matter, street=street, reporter=personas["resident"])
    case = case_dispatch(case=case, actor=personas["dispatcher"], urgency="critical", at=T0)
    assert case.urgency == "critical"
    assert case.deadline == T0 + timedelta(hours=1)


def test_dispatch_sends_to_the_matters_department_and_records_co_handlers(
    matter, street, personas, catalogue
):
    case = case_in("accepted", matter=matter, street=street, reporter=personas["resident"])
    Case.objects.filter(pk=case.pk).update(lead_department=None)
    co = [catalogue["HW"], catalogue["HW"], street["dept"]]

    case = case_dispatch(case=case, actor=personas["dispatcher"], co_departments=co, at=T0)

    roles = set(case.assignments.values_list("department__code", "role"))
    assert roles == {("CG", "lead"), ("HW", "co_handler")}
    assert case.events.get().data["co_departments"] == ["HW"]


def test_dispatch_needs_a_department(matter, street, personas):
    case = case_in("accepted", matter=matter, street=street, reporter=personas["resident"])
    Matter.objects.filter(pk=matter.pk).update(lead_department=None)
    with pytest.raises(DomainError) as refused:
        case_dispatch(case=case, actor=personas["dispatcher"], at=T0)
    assert "department" in refused.value.fields
    assert Case.objects.get(pk=case.pk).status == "accepted"


@pytest.mark.parametrize(
    "who", ["resident", "other_grid_worker", "grid_worker", "other_handler", "handler"]
)
def test_only_the_centre_of_the_area_dispatches(who, matter, street, personas, other_handler):
    actor = other_handler if who == "other_handler" else personas[who]
    case = case_in("accepted", matter=matter, street=street, reporter=personas["resident"])
    with pytest.raises(DomainError) as refused:
        case_dispatch(case=case, actor=actor, at=T0)
    assert refused.value.code == "forbidden"
    case.refresh_from_db()
    assert (case.status, case.events.count()) == ("accepted", 0)


def test_a_community_dispatcher_dispatches_in_the_community_but_not_outside(
    matter, street, personas, community_worker
):
    inside = case_in("accepted", matter=matter, street=street, reporter=personas["resident"])
    outside = case_in("accepted", matter=matter, street=street, reporter=personas["resident"])
    Case.objects.filter(pk=outside.pk).update(grid=street["g21"])

    assert case_dispatch(case=inside, actor=community_worker, at=T0).status == "dispatched"
    with pytest.raises(DomainError) as refused:
        case_dispatch(case=outside, actor=community_worker, at=T0)
    assert refused.value.code == "forbidden"


@pytest.mark.parametrize(
    "who", ["resident", "other_grid_worker", "grid_worker", "other_handler", "dispatcher"]
)
def test_only_the_lead_department_replies(who, matter, street, personas, other_handler):
    actor = other_handler if who == "other_handler" else personas[who]
    case = case_in("handling", matter=matter, street=street, reporter=personas["resident"])
    with pytest.raises(DomainError) as refused:
        case_reply(case=case, actor=actor, note="Done.")
    assert refused.value.code == "forbidden"
    case.refresh_from_db()
    assert (case.status, case.replied_at, case.events.count()) == ("handling", None, 0)
    assert case_reply(case=case, actor=personas["handler"], note="Done.").status == "replied"


def test_a_grid_worker_of_another_grid_cannot_verify(matter, street, personas):
    case = case_in("replied", matter=matter, street=street, reporter=personas["resident"])
    with pytest.raises(DomainError) as refused:
        case_verify(case=case, actor=personas["other_grid_worker"], passed=True, note="ok")
    assert refused.value.code == "forbidden"
    assert Case.objects.get(pk=case.pk).status == "replied"


def test_a_pass_needs_a_note(matter, street, personas):
    case = case_in("replied", matter=matter, street=street, reporter=personas["resident"])
    with pytest.raises(DomainError) as refused:
        case_verify(case=case, actor=personas["dispatcher"], passed=True, note="  ")
    assert "note" in refused.value.fields
    assert Case.objects.get(pk=case.pk).status == "replied"


def test_intake_outside_every_grid_is_refused_on_the_coordinates(matter, personas):
    with pytest.raises(DomainError) as refused:
        report(matter, personas["resident"], lon=118.70, lat=37.40)
    assert "lon" in refused.value.fields
    assert "outside every grid" in str(refused.value.fields["lon"][0])
    assert not Case.objects.exists()


def test_intake_with_swapped_coordinates_is_refused(matter, personas):
    with pytest.raises(DomainError) as refused:
        report(matter, personas["resident"], lon=37.405, lat=118.605)
    assert "lon" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        report(matter, personas["resident"], lon="east", lat=37.4)
    assert "lon" in refused.value.fields
    assert not Case.objects.exists()


def test_intake_checks_description_and_matter(matter, personas):
    Matter.objects.filter(pk=matter.pk).update(is_active=False)
    matter.refresh_from_db()
    with pytest.raises(DomainError) as refused:
        report(matter, personas["resident"], description=" ")
    assert {"matter", "description"} <= set(refused.value.fields)
    assert not Case.objects.exists()


def test_a_matter_that_forbids_anonymity_refuses_an_anonymous_report(catalogue, personas):
    dispute = Matter.objects.get(code="11001")
    answers = {"account": "楼上装修噪声"}
    with pytest.raises(DomainError) as refused:
        report(dispute, personas["resident"], anonymous=True, answers=answers)
    assert "anonymous" in refused.value.fields
    assert not Case.objects.exists()
    case = report(dispute, personas["resident"], anonymous=False, answers=answers)
    assert case.answers == answers


def test_answers_are_checked_against_the_matters_questions(catalogue, personas):
    cover = Matter.objects.get(code="01001")  # 供水井盖: two required single choices
    with pytest.raises(DomainError) as refused:
        report(cover, personas["resident"], answers={"cover_state": "gone", "colour": "red"})
    assert set(refused.value.fields) == {
        "answers.cover_state",
        "answers.anyone_hurt",
        "answers.colour",
    }
    assert not Case.objects.exists()

    case = report(
        cover, personas["resident"], answers={"cover_state": "missing", "anyone_hurt": "no"}
    )
    assert case.answers == {"cover_state": "missing", "anyone_hurt": "no"}


def test_numbers_times_and_multiple_choices_are_parsed(catalogue, personas):
    leak = Matter.objects.get(code="11010")  # floor (number), since (datetime), where (multi)
    with pytest.raises(DomainError) as refused:
        report(
            leak,
            personas["resident"],
            answers={"floor": "high", "since": "yesterday", "where": ["ceiling", "roof"]},
        )
    assert set(refused.value.fields) == {"answers.floor", "answers.since", "answers.where"}

    case = report(
        leak,
        personas["resident"],
        answers={"floor": "6", "since": "2026-05-30T20:00", "where": ["wall", "ceiling"]},
    )
    assert case.answers == {
        "floor": 6,
        "since": "2026-05-30T20:00:00",
        "where": ["wall", "ceiling"],
    }


def test_a_department_sends_back_at_most_three_times(matter, street, personas, monkeypatch):
    centre, department = personas["dispatcher"], personas["handler"]
    case = case_in("accepted", matter=matter, street=street, reporter=personas["resident"])
    for _ in range(3):
        case_dispatch(case=case, actor=centre, at=T0)
        case = case_send_back(case=case, actor=department, reason_code="wrong_area", note="Not us.")
        assert (case.status, case.lead_department, case.deadline) == ("accepted", None, None)
    case_dispatch(case=case, actor=centre, at=T0)

    with pytest.raises(DomainError) as refused:
        case_send_back(case=case, actor=department, reason_code="wrong_area", note="Not us.")

    assert refused.value.code == "send_back_limit"
    assert "centre must decide" in str(refused.value.message)
    case.refresh_from_db()
    assert (case.status, case.sendback_count) == ("dispatched", 3)
    assert case.events.filter(action="send_back").count() == 3
    assert not case.events.filter(action="send_back", public=True).exists()

    monkeypatch.setattr(case_services, "MAX_SEND_BACKS", 4)
    assert (
        case_send_back(
            case=case, actor=department, reason_code="unclear", note="Still not us."
        ).sendback_count
        == 4
    )


def test_a_send_back_needs_a_known_reason_and_a_note(matter, street, personas):
    case = case_in("dispatched", matter=matter, street=street, reporter=personas["resident"])
    with pytest.raises(DomainError) as refused:
        case_send_back(case=case, actor=personas["handler"], reason_code="lazy", note="x")
    assert "reason_code" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        case_send_back(case=case, actor=personas["handler"], reason_code="not_ours", note="")
    assert "note" in refused.value.fields
    assert Case.objects.get(pk=case.pk).sendback_count == 0


def test_the_handler_who_replied_cannot_rate_even_as_the_reporter(matter, personas):
    centre, department = personas["dispatcher"], personas["handler"]
    case = report(matter, department, source="grid_worker")
    case_accept(case=case, actor=centre)
    case_dispatch(case=case, actor=centre)
    case_sign(case=case, actor=department)
    case_start(case=case, actor=department)
    case_reply(case=case, actor=department, note="已清理。")
    case_verify(case=case, actor=centre, passed=True, note="干净了。", photos=[photo_upload()])

    with pytest.raises(DomainError) as refused:
        case_rate(case=case, actor=department, resolved=True, satisfaction="satisfied")
    assert refused.value.code == "forbidden"
    case.refresh_from_db()
    assert (case.status, case.satisfaction) == ("closed", None)

    case = case_rate(case=case, actor=centre, resolved=True, satisfaction="basic")
    assert (case.status, case.satisfaction) == ("rated", "basic")


def test_a_resident_rates_only_their_own_case(matter, street, personas):
    someone = User.objects.create(username="neighbour", role="resident")
    case = case_in("closed", matter=matter, street=street, reporter=personas["resident"])
    with pytest.raises(DomainError) as refused:
        case_rate(case=case, actor=someone, resolved=True, satisfaction="satisfied")
    assert refused.value.code == "forbidden"
    rated = case_rate(case=case, actor=personas["resident"], resolved=True, satisfaction="basic")
    assert rated.status == "rated"


def test_parking_stops_the_clock_and_resuming_needs_a_new_dispatch(matter, street, personas):
    centre = personas["dispatcher"]
    case = case_in("handling", matter=matter, street=street, reporter=personas["resident"])
    case = case_park(case=case, actor=centre, note="等明年预算。")
    assert (case.status, case.deadline) == ("parked", None)
    case = case_resume(case=case, actor=centre)
    assert (case.status, case.lead_department) == ("accepted", None)
    case = case_dispatch(case=case, actor=centre, at=T0)
    assert case.deadline == datetime(2026, 6, 1, 14, 30, tzinfo=SHANGHAI)


def test_timeline_events_are_append_only(matter, personas):
    case = report(matter, personas["resident"])
    event = case.events.get()
    event.note = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert CaseEvent.objects.get(pk=event.pk).note == ""


def test_the_database_refuses_a_closed_case_without_a_check(matter, street, personas):
    case = case_in("replied", matter=matter, street=street, reporter=personas["resident"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status="closed")
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status="lost")


def test_a_case_number_is_unique(matter, street, personas):
    case = case_in("reported", matter=matter, street=street, reporter=personas["resident"])
    again = case_in("reported", matter=matter, street=street, reporter=personas["resident"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=again.pk).update(number=case.number)


def test_every_timeline_action_fits_its_column():
    """PostgreSQL enforces the length that SQLite ignores."""
    from linli.cases.workflow import Note

    limit = CaseEvent._meta.get_field("action").max_length
    assert max(len(v) for v in [*Action.values, *Note.values, "report"]) <= limit
