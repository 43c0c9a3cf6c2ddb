"""A year of cases on the demo street (linli/cases/demo_cases.py), built at the small size.

One build serves the whole module: it is read into plain data inside a transaction that is
then rolled back, after the database has checked every constraint (the deferred foreign
keys included). Each test replays what the services would have done against that data.
"""

import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
import shapely
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from shapely.geometry import shape

from linli.accounts.models import Department, User
from linli.areas.models import Area
from linli.cases import demo_cases
from linli.cases.case_services import answers_clean
from linli.cases.models import (
    CONTACT_PHONE_CONTEXT,
    Case,
    CaseAlert,
    CaseAssignment,
    CaseEvent,
    CaseSupport,
    Extension,
    Matter,
    SensorDevice,
    WhistleCall,
)
from linli.cases.workflow import CLOSED_STATUSES, TRANSITIONS
from linli.core import workcal
from linli.core.crypto import blind_index, decrypt
from linli.demo.services import demo_build
from linli.notifications.models import Notification

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday in June: the year behind it spans the Spring Festival and two Golden Weeks.
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=SHANGHAI)
MOVES = {action for _status, action in TRANSITIONS}
CENTRE = {"accept", "reject", "dispatch", "park", "resume", "reopen", "archive", "merge"}
CENTRE |= {"urge", "extension_approve", "extension_refuse", "whistle", "merged_in"}
DEPARTMENT = {"sign", "send_back", "start", "reply", "extension_request"}
SWEEP = {"remind", "supervise", "escalate"}
BACKLOG = ["reported", "accepted", "dispatched", "signed", "handling", "replied", "parked"]


def build(tmp_path):
    with override_settings(LINLI_DEMO_NOW=NOW):
        return demo_build(size="small", progress=False, accounts_path=tmp_path / "a.json")


def fingerprint() -> list:
    """What makes the year the same year, by value (primary keys of other tables differ
    between builds on PostgreSQL)."""
    names = dict(User.objects.values_list("pk", "username"))
    timeline = defaultdict(list)
    for e in CaseEvent.objects.order_by("case", "created_at", "id").values():
        timeline[e["case_id"]].append(
            (
                e["action"],
                e["from_status"],
                e["to_status"],
                e["created_at"],
                names.get(e["actor_id"]),
            )
        )
    return [
        (c.number, c.status, c.source, c.matter.code, c.grid.code, c.description, c.deadline)
        + (names.get(c.reporter_id), tuple(timeline[c.pk]))
        for c in Case.objects.select_related("matter", "grid").order_by("pk")
    ]


class Year:
    """The build, as plain data."""

    def __init__(self):
        self.summary = None
        self.cases = {c["id"]: c for c in Case.objects.values()}
        self.events = defaultdict(list)
        for e in CaseEvent.objects.order_by("case", "created_at", "id").values():
            self.events[e["case_id"]].append(e)
        self.users = {u["id"]: u for u in User.objects.values("id", "username", "role", "area_id")}
        self.users_department = dict(User.objects.values_list("id", "department__code"))
        self.grids = {a.pk: a for a in Area.objects.filter(level="grid")}
        self.street_dispatchers = set(
            User.objects.filter(role="dispatcher", area__level="street").values_list(
                "pk", flat=True
            )
        )
        self.departments = dict(Department.objects.values_list("pk", "code"))
        self.matters = {}
        for matter in Matter.objects.prefetch_related("limits"):
            limits = {limit.urgency: (limit.amount, limit.unit) for limit in matter.limits.all()}
            self.matters[matter.pk] = (matter.code, limits)
        self.assignments = defaultdict(list)
        for a in CaseAssignment.objects.values("case_id", "department_id", "role"):
            self.assignments[a["case_id"]].append((a["department_id"], a["role"]))
        self.extensions = {x["id"]: x for x in Extension.objects.values()}
        self.supports = list(CaseSupport.objects.values())
        self.alerts = list(CaseAlert.objects.values())
        self.calls = defaultdict(list)
        for call in WhistleCall.objects.values("whistle__case_id", "whistle_id", "department_id"):
            self.calls[call["whistle__case_id"]].append(call)
        self.devices = SensorDevice.objects.count()
        self.notifications = Notification.objects.count()
        # The answers as case_report would have cleaned them.
        matters = {m.pk: m for m in Matter.objects.all()}
        self.answers = {
            pk: answers_clean(matters[c["matter_id"]], c["answers"]) for pk, c in self.cases.items()
        }
        self.fingerprint = fingerprint()


@pytest.fixture(scope="module")
def year(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock(), transaction.atomic():
        summary = build(tmp_path_factory.mktemp("demo"))
        # Deferred foreign keys are checked at commit, which a rollback never reaches.
        connection.check_constraints()
        data = Year()
        data.summary = summary
        transaction.set_rollback(True)
    return data


def limit_deadline(year, case, urgency, start):
    amount, unit = (
        year.matters[case["matter_id"]][1].get(urgency)
        or year.matters[case["matter_id"]][1]["normal"]
    )
    return workcal.deadline(start, amount, unit)


# --- the build ---------------------------------------------------------------------------------


def test_the_same_seed_and_hour_give_the_same_year(year, db, tmp_path):
    summary = build(tmp_path)

    assert summary.counts["cases"] == year.summary.counts["cases"] == len(year.cases)
    assert fingerprint() == year.fingerprint
    # The ids were given: the next case still gets a fresh one (PostgreSQL's sequence).
    last = Case.objects.order_by("pk").last()
    extra = Case.objects.create(
        number="extra",
        source="resident",
        matter_id=last.matter_id,
        description="x",
        lon=last.lon,
        lat=last.lat,
        grid_id=last.grid_id,
    )
    assert extra.pk > last.pk


def test_a_few_hundred_cases_with_numbers_from_their_year_and_id(year):
    assert year.summary.counts["cases"] == len(year.cases) == demo_cases.CASES["small"]
    for pk, case in year.cases.items():
        local_year = timezone.localtime(case["reported_at"]).year
        assert case["number"] == f"{local_year}-{pk:08d}"
        assert NOW - timedelta(days=366) < case["reported_at"] < NOW
    assert year.notifications == 0
    assert year.devices > 0


def test_every_timeline_is_continuous_legal_and_ends_at_the_status(year):
    for pk, case in year.cases.items():
        events = year.events[pk]
        first = events[0]
        assert (first["action"], first["from_status"], first["to_status"]) == (
            "report",
            "",
            "reported",
        )
        assert first["created_at"] == case["reported_at"]
        assert first["actor_id"] == case["reporter_id"]
        for before, after in zip(events, events[1:], strict=False):
            assert after["from_status"] == before["to_status"], case["number"]
            assert after["created_at"] >= before["created_at"]
            if after["action"] in MOVES:
                assert TRANSITIONS[(after["from_status"], after["action"])] == after["to_status"]
            else:
                assert after["from_status"] == after["to_status"]
        assert events[-1]["to_status"] == case["status"]
        assert events[-1]["created_at"] <= NOW


def replay(year, case):
    """The Case fields the services would have left after this timeline."""
    state = dict.fromkeys(
        [
            "accepted_at",
            "dispatched_at",
            "signed_at",
            "replied_at",
            "verified_at",
            "closed_at",
            "archived_at",
            "satisfaction",
            "resolved",
            "lead_department_id",
            "deadline",
        ]
    )
    state |= {"rework_count": 0, "sendback_count": 0, "reopen_count": 0}
    urgency = case["urgency"]
    for e in year.events[case["id"]]:
        action, t, data = e["action"], e["created_at"], e["data"]
        if action == "accept":
            state["accepted_at"] = t
        elif action in ("dispatch", "reopen"):
            if action == "dispatch":
                state["lead_department_id"] = next(
                    pk for pk, code in year.departments.items() if code == data["department"]
                )
                urgency = data["urgency"]
            else:
                state["reopen_count"] += 1
                for name in ("signed_at", "replied_at", "verified_at", "closed_at"):
                    state[name] = None
                state["satisfaction"] = state["resolved"] = None
            state["dispatched_at"] = t
            state["deadline"] = limit_deadline(year, case, urgency, t)
            assert data["deadline"] == state["deadline"].isoformat()
        elif action == "send_back":
            assert data["department"] == year.departments[state["lead_department_id"]]
            state["sendback_count"] += 1
            state["lead_department_id"] = state["deadline"] = None
        elif action == "resume":
            state["lead_department_id"] = state["deadline"] = None
        elif action == "park":
            before = state["deadline"].isoformat() if state["deadline"] else None
            assert data["deadline"] == before
            state["deadline"] = None
        elif action == "sign":
            state["signed_at"] = t
        elif action == "reply":
            state["replied_at"] = t
        elif action == "verify_fail":
            state["rework_count"] += 1
        elif action == "verify_pass":
            state["verified_at"] = state["closed_at"] = t
        elif action == "rate":
            state["satisfaction"], state["resolved"] = data["satisfaction"], data["resolved"]
        elif action == "archive":
            state["archived_at"] = t
        elif action == "extension_approve":
            extension = year.extensions[data["extension"]]
            assert extension["old_deadline"] == state["deadline"]
            assert extension["new_deadline"] == workcal.deadline(
                extension["old_deadline"], extension["amount"], extension["unit"]
            )
            state["deadline"] = extension["new_deadline"]
    return state


def test_the_case_fields_are_what_the_moves_left_and_deadlines_follow_the_calendar(year, db):
    for case in year.cases.values():
        expected = replay(year, case)
        assert {name: case[name] for name in expected} == expected, case["number"]


def test_deadlines_run_from_the_dispatch_by_the_matters_limit(year, db):
    extended = {x["case_id"] for x in year.extensions.values() if x["status"] == "approved"}
    checked = 0
    for case in year.cases.values():
        if case["deadline"] is None or case["id"] in extended:
            continue
        assert case["deadline"] == limit_deadline(
            year, case, case["urgency"], case["dispatched_at"]
        )
        checked += 1
    assert checked > 10


def test_closed_cases_passed_an_on_site_check_by_their_grid_worker(year):
    closed = [c for c in year.cases.values() if c["status"] in CLOSED_STATUSES]
    assert closed
    for case in closed:
        assert case["verified_at"] and case["closed_at"] == case["verified_at"]
        passes = [e for e in year.events[case["id"]] if e["action"] == "verify_pass"]
        assert passes and passes[-1]["created_at"] == case["verified_at"]


def test_every_move_is_made_by_the_right_persona(year):
    for case in year.cases.values():
        lead = None
        repliers = set()
        for e in year.events[case["id"]]:
            action, actor, data = e["action"], e["actor_id"], e["data"]
            if action == "dispatch":
                lead = data["department"]
            if action in CENTRE:
                assert actor in year.street_dispatchers, (case["number"], action)
            elif action in DEPARTMENT:
                assert year.users[actor]["role"] == "handler"
                assert year.users_department[actor] == lead, (case["number"], action)
            elif action in ("verify_pass", "verify_fail"):
                worker = year.users[actor]
                assert (worker["role"], worker["area_id"]) == ("grid_worker", case["grid_id"])
            elif action == "rate":
                assert actor == case["reporter_id"] or actor in year.street_dispatchers
                assert actor not in repliers
            elif action == "report_in":
                assert year.users_department[actor] == data["department"]
            elif action in SWEEP:
                assert actor is None
            elif action == "exemption_request":
                asker = year.users_department.get(actor)
                assert actor in year.street_dispatchers or asker == lead, case["number"]
            elif action in ("exemption_approve", "exemption_refuse"):
                assert year.users[actor]["role"] == "leader"
            else:
                assert action == "report"
            if action == "reply":
                repliers.add(actor)
            if action in ("send_back", "resume"):
                lead = None


def test_lead_departments_have_their_assignment(year):
    for case in year.cases.values():
        rows = year.assignments[case["id"]]
        leads = [department for department, role in rows if role == "lead"]
        if case["lead_department_id"] is None:
            assert rows == []
        else:
            assert leads == [case["lead_department_id"]]
        assert len({department for department, _role in rows}) == len(rows)
        for call in year.calls[case["id"]]:
            assert call["department_id"] in {department for department, _role in rows}


def test_duplicates_are_merged_into_an_earlier_open_case_nearby_whose_reporter_follows(year):
    merged = [c for c in year.cases.values() if c["status"] == "merged"]
    assert merged
    followers = {(s["case_id"], s["user_id"]): s for s in year.supports}
    for case in merged:
        into = year.cases[case["merged_into_id"]]
        assert into["id"] < case["id"] and into["matter_id"] == case["matter_id"]
        assert abs(into["lon"] - case["lon"]) < 0.01 and abs(into["lat"] - case["lat"]) < 0.01
        merge = year.events[case["id"]][-1]
        assert merge["action"] == "merge" and merge["data"] == {"into": into["number"]}
        noted = [e for e in year.events[into["id"]] if e["action"] == "merged_in"]
        assert {"case": case["number"]} in [e["data"] for e in noted]
        if case["reporter_id"] and case["reporter_id"] != into["reporter_id"]:
            assert (into["id"], case["reporter_id"]) in followers
    for support in year.supports:
        case = year.cases[support["case_id"]]
        assert support["user_id"] != case["reporter_id"]
        assert support["created_at"] >= case["reported_at"]
        if support["kind"] == "merged":
            assert year.cases[support["from_case_id"]]["merged_into_id"] == case["id"]


def test_the_sweeps_alerts_and_the_extensions_are_on_the_timeline(year):
    for alert in year.alerts:
        noted = [
            e
            for e in year.events[alert["case_id"]]
            if e["action"] == alert["kind"] and e["created_at"] == alert["created_at"]
        ]
        assert len(noted) == 1
        if alert["kind"] == "remind":
            assert alert["created_at"] < alert["deadline"]
        else:
            assert alert["created_at"] >= alert["deadline"]
    assert {a["kind"] for a in year.alerts} >= {"remind", "supervise"}
    for extension in year.extensions.values():
        actions = [
            e["action"]
            for e in year.events[extension["case_id"]]
            if e["data"].get("extension") == extension["id"]
        ]
        expected = {"pending": [], "approved": ["extension_approve"]}
        assert actions == ["extension_request"] + expected.get(
            extension["status"], ["extension_refuse"]
        )
        assert extension["new_deadline"] > extension["old_deadline"]


def test_places_answers_and_callers_are_what_intake_would_have_taken(year):
    for pk, case in year.cases.items():
        polygon = shape(year.grids[case["grid_id"]].geometry)
        assert shapely.intersects_xy(polygon, case["lon"], case["lat"]), case["number"]
        assert 0 < len(case["description"]) <= 2000
        clean, problems = year.answers[pk]
        assert problems == {} and clean == case["answers"], case["number"]
    hotline = [c for c in year.cases.values() if c["source"] == "hotline"]
    assert hotline
    for case in hotline:
        phone = decrypt(case["contact_phone_encrypted"], context=CONTACT_PHONE_CONTEXT)
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
        assert case["contact_phone_index"] == blind_index(phone, context=CONTACT_PHONE_CONTEXT)
        assert case["contact_phone_masked"] == f"{phone[3:6]}****{phone[-4:]}"
        assert re.fullmatch(r"[\u4e00-\u9fff]{1,2}(先生|女士)", case["contact_name"])
    refs = [(c["source"], c["external_ref"]) for c in year.cases.values() if c["external_ref"]]
    assert len(refs) == len(set(refs)) >= len(hotline)


# --- the mix -------------------------------------------------------------------------------------


def test_the_mix_of_sources_and_outcomes_looks_like_a_street_office(year):
    total = len(year.cases)
    sources = Counter(c["source"] for c in year.cases.values())
    assert 0.33 < sources["resident"] / total < 0.57
    assert 0.18 < sources["grid_worker"] / total < 0.42
    assert 0.10 < sources["hotline"] / total < 0.30
    assert sources["sensor"] + sources["import"] < 0.12 * total
    statuses = Counter(c["status"] for c in year.cases.values())
    closed = sum(statuses[s] for s in CLOSED_STATUSES)
    assert 0.7 < closed / total < 0.95
    assert 0 < statuses["rejected"] < 0.1 * total
    assert statuses["merged"] > 0
    rated = Counter(c["satisfaction"] for c in year.cases.values() if c["satisfaction"])
    assert rated["satisfied"] > 0.8 * sum(rated.values())
    matters = Counter(year.matters[c["matter_id"]][0] for c in year.cases.values())
    assert len(matters) > 40  # the long tail
    replies = late = 0
    for case in year.cases.values():
        deadline = None
        for e in year.events[case["id"]]:
            if e["action"] in ("dispatch", "reopen"):
                deadline = datetime.fromisoformat(e["data"]["deadline"])
            elif e["action"] == "extension_approve":
                deadline = datetime.fromisoformat(e["data"]["deadline"])
            elif e["action"] == "reply":
                replies += 1
                late += e["created_at"] > deadline
    assert 0 < late < 0.15 * replies


def test_open_cases_wait_at_every_stage_in_the_last_weeks(year):
    waiting = Counter(c["status"] for c in year.cases.values())
    for status in BACKLOG:
        assert waiting[status] > 0, status
    for case in year.cases.values():
        if case["status"] in BACKLOG and case["status"] != "parked":
            assert year.events[case["id"]][-1]["created_at"] > NOW - timedelta(days=60)


def test_the_year_is_built_after_the_catalogue_and_the_register():
    from linli.cases.demo import demo_catalogue
    from linli.demo.services import DEMO_STEPS
    from linli.people.demo import demo_register

    position = DEMO_STEPS.index(demo_cases.demo_cases)
    assert position > DEMO_STEPS.index(demo_catalogue)
    assert position > DEMO_STEPS.index(demo_register)


def test_reports_come_in_office_hours_with_an_evening_peak_for_residents(year):
    hours = Counter(
        (c["source"], timezone.localtime(c["reported_at"]).hour) for c in year.cases.values()
    )
    residents = sum(n for (source, _h), n in hours.items() if source == "resident")
    office = sum(hours["resident", h] for h in range(8, 18))
    evening = sum(hours["resident", h] for h in range(18, 22))
    night = sum(hours["resident", h] for h in range(0, 6))
    assert office > 0.4 * residents and evening > 0.15 * residents and night < 0.05 * residents
    for (source, hour), _n in hours.items():
        if source == "grid_worker":
            assert 8 <= hour < 18
