"""The case workflow under random sequences of every action (hypothesis stateful testing,
issue 4 "Done when").

A rule-based state machine reports a few cases and then, in any order, takes every move
of the workflow by the right actor and by wrong ones, with good and bad input, merges,
"me too", extension requests and answers, urging, whistles and reporting in, and the SLA
sweep, while the clock moves forward by random amounts (across weekends, make-up working
days and the 2026 National Day holiday). The machine keeps its own model of what every
case should be; after every step the database must agree with it and these must hold:

- a case's status is a Status value, reached only through TRANSITIONS;
- every status change has exactly one CaseEvent with matching from/to, and the timeline's
  from/to chain is continuous from the report to the current status;
- a deadline is workcal.deadline(dispatched_at, the matter's limit at the urgency) or an
  approved extension's new deadline, and falls inside office hours on a working day;
- a closed (rated, archived) case has verified_at and a passed check, with a check photo
  when its matter needs one;
- a refused action changes nothing at all (every case table and the media directory);
- the SLA sweep takes exactly the steps its rules say, and a second sweep at the same time
  adds nothing;
- no count is negative; a merged case points at another case;
- departments see only the cases they were sent or summoned to, residents only their own
  and the ones they follow.

Each example runs in its own savepoint, rolled back at teardown, so it works the same on
SQLite and PostgreSQL inside pytest-django's test transaction.
"""

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from linli.accounts.models import Department, User
from linli.cases import case_services as services
from linli.cases import selectors
from linli.cases.counters import counters_from_timeline
from linli.cases.models import (
    Case,
    CaseAlert,
    CaseEvent,
    CasePhoto,
    CaseSupport,
    Extension,
    Matter,
    MatterLimit,
    WhistleCall,
)
from linli.cases.tests.test_services_more import snapshot
from linli.cases.workflow import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    RUNNING_STATUSES,
    TRANSITIONS,
    Action,
    Note,
    Status,
)
from linli.core import workcal
from linli.core.errors import DomainError
from linli.core.testing import jpeg_bytes
from linli.insights.services import tally_check, tally_fold

SHANGHAI = ZoneInfo("Asia/Shanghai")
POINTS = {"g11": (118.605, 37.405), "g21": (118.625, 37.405)}
MAX_CASES = 5
LONG = "很" * 1001  # one character over EVENT_NOTE_MAX: bad input for every note


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# Where an example's clock starts: an ordinary Monday, before the Sunday make-up day and
# Mid-autumn, before National Day, before the New Year make-up Sunday, before the make-up
# Saturday after National Day.
STARTS = [
    local(2026, 6, 1, 9, 0),
    local(2026, 9, 18, 15, 0),
    local(2026, 9, 29, 10, 0),
    local(2026, 1, 2, 15, 30),
    local(2026, 10, 9, 16, 0),
]
# Moments the clock may jump to (when still ahead): the eve and the end of National Day,
# the make-up days, ordinary mornings and evenings.
LANDMARKS = [
    local(2026, 1, 4, 10, 0),
    local(2026, 1, 9, 9, 0),
    local(2026, 6, 5, 17, 30),
    local(2026, 6, 8, 8, 30),
    local(2026, 6, 12, 12, 0),
    local(2026, 9, 20, 9, 0),
    local(2026, 9, 30, 17, 0),
    local(2026, 10, 8, 8, 30),
    local(2026, 10, 10, 13, 30),
    local(2026, 10, 15, 10, 0),
]

# 暴露垃圾 (4 working hours, check photo, led by 城管 here), 恶臭异味 (2 working days,
# no photo, 城管), 积存垃圾渣土 (4 working days, check photo, 环卫).
MATTERS = ["06010", "06024", "06011"]
PEOPLE = [
    "dispatcher",
    "community",
    "admin",
    "leader",
    "grid_worker",
    "other_grid_worker",
    "handler",
    "hw",
    "zj",
    "resident",
    "neighbour",
]
REPORTERS = ["resident", "neighbour", "grid_worker", "handler", None]
HANDLER_OF = {"handler": "CG", "hw": "HW", "zj": "ZJ"}
DEPARTMENTS = ["CG", "HW", "ZJ", "GA"]

# Who may take which action, restated from the README rather than imported, so that a
# change in permissions.py shows here.
CENTRE_ACTIONS = {
    "accept",
    "reject",
    "dispatch",
    "park",
    "resume",
    "verify_pass",
    "verify_fail",
    "rate",
    "reopen",
    "archive",
    "merge",
}
DEPARTMENT_ACTIONS = {"sign", "send_back", "start", "reply"}
# The way forward from each state, which `progress` prefers.
MAIN_PATH = {
    "reported": "accept",
    "accepted": "dispatch",
    "dispatched": "sign",
    "signed": "start",
    "handling": "reply",
    "replied": "verify_pass",
    "closed": "rate",
    "parked": "resume",
}
# Actions whose input is a note the service requires.
NOTE_REQUIRED = {"reject", "send_back", "reply", "verify_pass", "verify_fail", "reopen", "park"}


@dataclass
class Model:
    """What the machine expects one case to be."""

    pk: int
    matter: str
    grid: str
    reporter: str | None
    status: str = Status.REPORTED.value
    urgency: str = "normal"
    lead: str | None = None
    deadline: datetime | None = None
    dispatched_at: datetime | None = None
    round: int = 0
    rework: int = 0
    sendback: int = 0
    reopen: int = 0
    satisfaction: str | None = None
    resolved: bool | None = None
    merged_into: int | None = None
    events: list = field(default_factory=list)
    supports: dict = field(default_factory=dict)
    repliers: set = field(default_factory=set)
    assigned: set = field(default_factory=set)
    summoned: set = field(default_factory=set)
    alerts: set = field(default_factory=set)
    photos: Counter = field(default_factory=Counter)


def photo(gps=None) -> SimpleUploadedFile:
    return SimpleUploadedFile("p.jpg", jpeg_bytes((32, 24), gps=gps), "image/jpeg")


def fake_photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("p.jpg", b"GIF89a but not really", "image/jpeg")


def in_office(moment: datetime) -> bool:
    moment = moment.astimezone(SHANGHAI)
    day = moment.date()
    if not workcal.is_working_day(day):
        return False
    return any(
        datetime.combine(day, start, SHANGHAI) < moment <= datetime.combine(day, end, SHANGHAI)
        for start, end in django_settings.LINLI_OFFICE_HOURS
    )


class CaseMachine(RuleBasedStateMachine):
    # Set by the test from its fixtures: users by persona, matters, departments by code.
    users: dict = {}
    names: dict = {}  # username → persona
    matters: dict = {}
    departments: dict = {}
    media_root = None

    def __init__(self):
        super().__init__()
        # One savepoint per example inside the test's transaction; teardown rolls it back.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.now = STARTS[0]
        self.cases: list[Model] = []
        self.extensions: dict[int, dict] = {}
        self.calls: dict[int, dict] = {}
        self.memo: dict = {}

    def teardown(self):
        # The rollups, folded after every step, equal a full scan of the cases.
        assert tally_check().ok
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        # The rollback takes the photo rows; their files go too, so that every example
        # starts with an empty media directory.
        for path in sorted(self.media_root.rglob("*"), reverse=True):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()

    # --- the oracle ----------------------------------------------------------------------

    def case(self, i: int) -> Model:
        return self.cases[i % len(self.cases)]

    def pick(self, i: int, running: bool) -> Model:
        """A case, from those a department is working on when asked and there are any."""
        cases = [m for m in self.cases if m.status in RUNNING_STATUSES] if running else []
        cases = cases or self.cases
        return cases[i % len(cases)]

    def by_pk(self, pk: int) -> Model:
        return next(m for m in self.cases if m.pk == pk)

    @staticmethod
    def is_centre(who: str, m: Model) -> bool:
        return who in ("dispatcher", "admin") or (who == "community" and m.grid == "g11")

    @staticmethod
    def is_lead(who: str, m: Model) -> bool:
        return m.lead is not None and HANDLER_OF.get(who) == m.lead

    @staticmethod
    def is_grid_worker(who: str, m: Model) -> bool:
        return (who, m.grid) in {("grid_worker", "g11"), ("other_grid_worker", "g21")}

    def may(self, who: str, m: Model, action: str) -> bool:
        if action in CENTRE_ACTIONS and self.is_centre(who, m):
            return True
        if action in DEPARTMENT_ACTIONS and self.is_lead(who, m):
            return True
        if action in ("verify_pass", "verify_fail") and self.is_grid_worker(who, m):
            return True
        return action == "rate" and m.reporter == who

    def limit(self, m: Model, urgency: str) -> MatterLimit:
        limits = {x.urgency: x for x in self.matters[m.matter].limits.all()}
        return limits.get(urgency) or limits["normal"]

    def new_deadline(self, m: Model, urgency: str) -> datetime:
        limit = self.limit(m, urgency)
        return workcal.deadline(self.now, limit.amount, limit.unit)

    def expect(self, m: Model, action: str, who: str, bad: str, has_photo: bool, into):
        """None when the move must succeed, else the refusal's code ("refused": any)."""
        if action == "merge" and into is m:
            return "invalid"
        if not self.may(who, m, action):
            return "forbidden"
        if (m.status, action) not in TRANSITIONS:
            return "invalid_transition"
        if action == "merge":
            if not self.is_centre(who, into):
                return "forbidden"
            if into.status not in OPEN_STATUSES:
                return "invalid"
        if action == "rate" and who in m.repliers:
            return "forbidden"
        if bad != "none":
            return "refused"
        if action == "send_back" and m.sendback >= services.MAX_SEND_BACKS:
            return "send_back_limit"
        needs_photo = self.matters[m.matter].needs_check_photo
        if action == "verify_pass" and needs_photo and not has_photo:
            return "invalid"
        if action == "reopen" and not (m.satisfaction == "unsatisfied" or m.resolved is False):
            return "invalid"
        return None

    # --- running a call ------------------------------------------------------------------

    def attempt(self, call, problem):
        """Run `call`: it must succeed when `problem` is None, and otherwise be refused
        (with that code unless "refused") and change nothing."""
        if problem is None:
            try:
                return call()
            except DomainError as error:
                raise AssertionError(
                    f"refused unexpectedly: {error.code} {error.message} {error.fields}"
                ) from error
        before = snapshot(self.media_root)
        try:
            call()
        except DomainError as error:
            if problem != "refused":
                assert error.code == problem, (problem, error.code, str(error.message))
        else:
            raise AssertionError(f"should have been refused ({problem})")
        assert snapshot(self.media_root) == before, "a refused call changed the database"
        return None

    def event(self, m: Model, action: str, to: str | None = None):
        m.events.append((action, m.status, to or m.status))

    def move(self, m: Model, action: str, who: str, *, bad="none", photos=0, extra=None):
        """Take a workflow action on `m` as `who`, check the outcome against the oracle
        and bring the model along."""
        extra = extra or {}
        into = extra.get("into")
        problem = self.expect(m, action, who, bad, photos > 0, into)
        actor = self.users[who]
        note = LONG if bad == "note" else ("说明。" if action in NOTE_REQUIRED else "")
        files = [fake_photo()] if bad == "photo" else [photo() for _ in range(photos)]
        at = self.now

        def call():
            case = Case.objects.get(pk=m.pk)
            match action:
                case "accept":
                    return services.case_accept(case=case, actor=actor, note=note, at=at)
                case "reject":
                    return services.case_reject(case=case, actor=actor, reason=note, at=at)
                case "dispatch":
                    department = extra.get("department")
                    return services.case_dispatch(
                        case=case,
                        actor=actor,
                        department=self.departments[department] if department else None,
                        co_departments=[self.departments[d] for d in extra.get("co", ())],
                        urgency=extra.get("urgency"),
                        note=note,
                        at=at,
                    )
                case "sign":
                    return services.case_sign(case=case, actor=actor, note=note, at=at)
                case "send_back":
                    return services.case_send_back(
                        case=case, actor=actor, reason_code="not_ours", note=note, at=at
                    )
                case "start":
                    return services.case_start(case=case, actor=actor, note=note, at=at)
                case "reply":
                    return services.case_reply(
                        case=case, actor=actor, note=note, photos=files, at=at
                    )
                case "verify_pass" | "verify_fail":
                    return services.case_verify(
                        case=case,
                        actor=actor,
                        passed=action == "verify_pass",
                        note=note,
                        photos=files,
                        at=at,
                    )
                case "rate":
                    return services.case_rate(
                        case=case,
                        actor=actor,
                        resolved=extra.get("resolved", True),
                        satisfaction=extra.get("satisfaction", "satisfied"),
                        note=note,
                        at=at,
                    )
                case "reopen":
                    return services.case_reopen(case=case, actor=actor, note=note, at=at)
                case "archive":
                    return services.case_archive(case=case, actor=actor, note=note, at=at)
                case "park":
                    return services.case_park(case=case, actor=actor, note=note, at=at)
                case "resume":
                    return services.case_resume(case=case, actor=actor, note=note, at=at)
                case "merge":
                    target = Case.objects.get(pk=into.pk)
                    return services.case_merge(
                        case=case, actor=actor, into=target, note=note, at=at
                    )
            raise AssertionError(action)

        if self.attempt(call, problem) is None:
            return
        to = TRANSITIONS[(m.status, action)]
        self.event(m, action, to)
        match action:
            case "dispatch":
                m.lead = extra.get("department") or self.matters[m.matter].lead_department.code
                m.urgency = extra.get("urgency") or m.urgency
                m.assigned = {m.lead} | set(extra.get("co", ()))
                m.deadline = self.new_deadline(m, m.urgency)
                m.dispatched_at = self.now
                m.round += 1
            case "send_back":
                m.lead, m.deadline, m.assigned = None, None, set()
                m.sendback += 1
            case "reply":
                m.repliers.add(who)
                m.photos["reply"] += photos
            case "verify_pass":
                m.photos["check"] += photos
            case "verify_fail":
                m.photos["check"] += photos
                m.rework += 1
            case "rate":
                m.satisfaction = extra.get("satisfaction", "satisfied")
                m.resolved = extra.get("resolved", True)
            case "reopen":
                m.deadline = self.new_deadline(m, m.urgency)
                m.dispatched_at = self.now
                m.round += 1
                m.reopen += 1
                m.satisfaction = m.resolved = None
            case "park":
                m.deadline = None
            case "resume":
                m.lead, m.deadline, m.assigned = None, None, set()
            case "merge":
                m.merged_into = into.pk
                followers = dict.fromkeys(m.supports, "merged")
                if m.reporter:
                    followers[m.reporter] = "merged"
                followers.pop(into.reporter, None)
                for user, kind in followers.items():
                    into.supports.setdefault(user, kind)
                self.event(into, Note.MERGED_IN.value)
        m.status = to

    # --- rules ---------------------------------------------------------------------------

    @initialize(
        start=st.sampled_from(STARTS),
        seeds=st.lists(
            st.tuples(
                st.sampled_from(MATTERS),
                st.sampled_from(sorted(POINTS)),
                st.sampled_from(REPORTERS),
                st.integers(0, 7),
            ),
            min_size=1,
            max_size=3,
        ),
    )
    def start(self, start, seeds):
        """The clock's start, and a few cases already taken some way along the main path
        (reported … rated), so that every example has work in every kind of state."""
        self.now = start
        for matter, grid, reporter, depth in seeds:
            self.report(matter, grid, reporter, 0, False, "normal", "none")
            m = self.cases[-1]
            for _ in range(depth):
                action = MAIN_PATH.get(m.status)
                allowed = [
                    who for who in PEOPLE if self.expect(m, action, who, "none", True, None) is None
                ]
                if action is None or not allowed:
                    break
                extra = {"satisfaction": "unsatisfied", "resolved": depth % 2 == 0}
                self.move(m, action, allowed[depth % len(allowed)], photos=1, extra=extra)

    @precondition(lambda self: len(self.cases) < MAX_CASES)
    @rule(
        matter=st.sampled_from(MATTERS),
        grid=st.sampled_from(sorted(POINTS)),
        reporter=st.sampled_from(REPORTERS),
        photos=st.integers(0, 2),
        placed_by_photo=st.booleans(),
        urgency=st.sampled_from(["normal", "urgent", "critical"]),
        bad=st.sampled_from(["none", "none", "none", "fake photo", "no place"]),
    )
    def report(self, matter, grid, reporter, photos, placed_by_photo, urgency, bad):
        """A new case from a resident, a worker or a hotline caller, placed by its
        coordinates or by its photo's GPS; or a report refused for a fake photo or for
        having no place at all (a photo without a position)."""
        lon, lat = POINTS[grid]
        files = [photo() for _ in range(photos)]
        if placed_by_photo:
            files = [photo(gps=POINTS[grid]), *files]
            lon = lat = None
        if bad == "fake photo":
            files.append(fake_photo())
        elif bad == "no place":
            files, lon, lat = [photo()], None, None
        case = self.attempt(
            lambda: services.case_report(
                matter=self.matters[matter],
                description="楼下垃圾堆了好几天，味道很大",
                lon=lon,
                lat=lat,
                source="hotline" if reporter is None else "resident",
                reporter=self.users[reporter] if reporter else None,
                urgency=urgency,
                photos=files,
                contact_phone="13812345678" if reporter is None else "",
                at=self.now,
            ),
            None if bad == "none" else "invalid",
        )
        if case is None:
            return
        m = Model(pk=case.pk, matter=matter, grid=grid, reporter=reporter, urgency=urgency)
        m.events.append(("report", "", Status.REPORTED.value))
        m.photos["report"] += len(files)
        self.cases.append(m)

    @precondition(lambda self: self.cases)
    @rule(
        i=st.integers(0, MAX_CASES),
        action=st.sampled_from([a.value for a in Action]),
        who=st.sampled_from(PEOPLE),
        bad=st.sampled_from(["none", "none", "note", "photo"]),
        photos=st.integers(0, 1),
        j=st.integers(0, MAX_CASES),
    )
    def act(self, i, action, who, bad, photos, j):
        """Any action, by anyone, with good or bad input."""
        m = self.case(i)
        if bad == "photo" and action not in ("reply", "verify_pass", "verify_fail"):
            bad = "note"
        extra = {"into": self.case(j)} if action == "merge" else {}
        self.move(m, action, who, bad=bad, photos=photos, extra=extra)

    @precondition(lambda self: self.cases)
    @rule(
        i=st.integers(0, MAX_CASES),
        picks=st.lists(st.integers(0, 99), min_size=1, max_size=8),
        satisfaction=st.sampled_from(["satisfied", "basic", "unsatisfied"]),
        resolved=st.booleans(),
        department=st.sampled_from([None, None, "CG", "HW"]),
        co=st.sets(st.sampled_from(["HW", "ZJ"]), max_size=2),
        urgency=st.sampled_from([None, "normal", "urgent", "critical"]),
        photos=st.integers(0, 2),
    )
    def progress(self, i, picks, satisfaction, resolved, department, co, urgency, photos):
        """A few legal moves in a row, each by someone allowed to make it, with good input,
        mostly along the main path: takes cases deep into the workflow."""
        m = self.case(i)
        extra = {
            "satisfaction": satisfaction,
            "resolved": resolved,
            "department": department,
            "co": co,
            "urgency": urgency,
        }
        for pick in picks:
            legal = [a for (s, a) in TRANSITIONS if s == m.status]
            if not legal:
                return
            if m.status in MAIN_PATH:
                legal += [MAIN_PATH[m.status]] * 8
            action = legal[pick % len(legal)]
            if action == "merge":
                targets = [t for t in self.cases if t is not m and t.status in OPEN_STATUSES]
                if not targets:
                    return
                extra["into"] = targets[pick % len(targets)]
            shots = photos
            if action == "verify_pass" and self.matters[m.matter].needs_check_photo:
                shots = max(photos, 1)
            allowed = [
                who
                for who in PEOPLE
                if self.expect(m, action, who, "none", shots > 0, extra.get("into")) is None
            ]
            if not allowed:
                return
            self.move(m, action, allowed[pick % len(allowed)], photos=shots, extra=extra)

    @precondition(lambda self: self.cases)
    @rule(
        i=st.integers(0, MAX_CASES),
        open_only=st.booleans(),
        who=st.sampled_from([*PEOPLE, "reporter", "reporter"]),
    )
    def me_too(self, i, open_only, who):
        """ "Me too" by anyone, the case's own reporter included, on open and ended cases."""
        cases = [m for m in self.cases if m.status in OPEN_STATUSES] if open_only else []
        cases = cases or self.cases
        m = cases[i % len(cases)]
        if who == "reporter":
            who = m.reporter or "resident"
        problem = None
        if m.status not in OPEN_STATUSES or m.reporter == who:
            problem = "invalid"
        user = self.users[who]
        result = self.attempt(
            lambda: services.case_me_too(case=Case.objects.get(pk=m.pk), user=user, at=self.now),
            problem,
        )
        if result is not None:
            support, created = result
            assert created == (who not in m.supports)
            m.supports.setdefault(who, "me_too")

    @precondition(lambda self: self.cases)
    @rule(
        i=st.integers(0, MAX_CASES),
        running=st.booleans(),
        who=st.sampled_from(["lead", "lead", "lead", "handler", "hw", "dispatcher", "resident"]),
        amount=st.one_of(st.integers(1, 6), st.integers(-1, 45)),
        unit=st.sampled_from(["hours", "days", "days", "weeks"]),
        reason_ok=st.sampled_from([True, True, True, False]),
    )
    def ask_extension(self, i, running, who, amount, unit, reason_ok):
        m = self.pick(i, running)
        if who == "lead":
            who = next((h for h, code in HANDLER_OF.items() if code == m.lead), "handler")
        limits = {"hours": 40, "days": 30}
        pending = any(
            e["case"] == m.pk and e["status"] == "pending" for e in self.extensions.values()
        )
        if not self.is_lead(who, m):
            problem = "forbidden"
        elif m.status not in RUNNING_STATUSES or m.deadline is None or m.deadline <= self.now:
            problem = "invalid"
        elif pending:
            problem = "invalid"
        elif unit not in limits or not 1 <= amount <= limits[unit] or not reason_ok:
            problem = "invalid"
        else:
            problem = None
        actor = self.users[who]
        ext = self.attempt(
            lambda: services.extension_request(
                case=Case.objects.get(pk=m.pk),
                actor=actor,
                amount=amount,
                unit=unit,
                reason="车辆维修。" if reason_ok else "",
                at=self.now,
            ),
            problem,
        )
        if ext is not None:
            new = workcal.deadline(m.deadline, amount, unit)
            assert ext.new_deadline == new
            self.extensions[ext.pk] = {
                "case": m.pk,
                "status": "pending",
                "old": m.deadline,
                "new": new,
                "round": m.round,
            }
            self.event(m, Note.EXTENSION_REQUEST.value)

    @precondition(lambda self: self.extensions)
    @rule(
        k=st.integers(0, 50),
        pending_first=st.booleans(),
        who=st.sampled_from(["dispatcher", "dispatcher", "community", "handler", "leader"]),
        approve=st.booleans(),
        note_ok=st.sampled_from([True, True, True, False]),
    )
    def decide_extension(self, k, pending_first, who, approve, note_ok):
        choices = sorted(self.extensions)
        pending = [pk for pk in choices if self.extensions[pk]["status"] == "pending"]
        if pending_first and pending:
            choices = pending
        pk = choices[k % len(choices)]
        ext = self.extensions[pk]
        m = self.by_pk(ext["case"])
        current = (
            m.status in RUNNING_STATUSES and m.deadline == ext["old"] and m.round == ext["round"]
        )
        if not self.is_centre(who, m):
            problem = "forbidden"
        elif ext["status"] != "pending":
            problem = "invalid"
        elif not approve and not note_ok:
            problem = "invalid"
        elif approve and not current:
            problem = "invalid"
        else:
            problem = None
        actor = self.users[who]
        result = self.attempt(
            lambda: services.extension_decide(
                extension=Extension(pk=pk),
                actor=actor,
                approve=approve,
                note="理由。" if note_ok else "",
                at=self.now,
            ),
            problem,
        )
        if result is not None:
            ext["status"] = "approved" if approve else "refused"
            if approve:
                m.deadline = ext["new"]
                self.event(m, Note.EXTENSION_APPROVE.value)
            else:
                self.event(m, Note.EXTENSION_REFUSE.value)

    @precondition(lambda self: self.cases)
    @rule(
        i=st.integers(0, MAX_CASES),
        running=st.booleans(),
        who=st.sampled_from(["dispatcher", "community", "hw"]),
    )
    def urge(self, i, running, who):
        m = self.pick(i, running)
        if not self.is_centre(who, m):
            problem = "forbidden"
        elif m.status not in RUNNING_STATUSES:
            problem = "invalid"
        else:
            problem = None
        actor = self.users[who]
        if self.attempt(
            lambda: services.case_urge(case=Case.objects.get(pk=m.pk), actor=actor, at=self.now),
            problem,
        ):
            self.event(m, Note.URGE.value)

    @precondition(lambda self: self.cases)
    @rule(
        i=st.integers(0, MAX_CASES),
        running=st.booleans(),
        who=st.sampled_from(["dispatcher", "dispatcher", "community", "leader", "handler"]),
        departments=st.sets(st.sampled_from(DEPARTMENTS), max_size=3),
        note_ok=st.sampled_from([True, True, True, False]),
    )
    def whistle(self, i, running, who, departments, note_ok):
        m = self.pick(i, running)
        if not self.is_centre(who, m):
            problem = "forbidden"
        elif m.status not in OPEN_STATUSES or m.status == Status.REPORTED:
            problem = "invalid"
        elif not departments or not note_ok:
            problem = "invalid"
        else:
            problem = None
        actor = self.users[who]
        whistle = self.attempt(
            lambda: services.whistle_blow(
                case=Case.objects.get(pk=m.pk),
                actor=actor,
                departments=[self.departments[d] for d in sorted(departments)],
                note="请到场。" if note_ok else " ",
                at=self.now,
            ),
            problem,
        )
        if whistle is not None:
            for call in whistle.calls.select_related("department"):
                self.calls[call.pk] = {
                    "case": m.pk,
                    "department": call.department.code,
                    "reported": False,
                }
            assert {c["department"] for c in self.calls.values() if c["case"] == m.pk} >= (
                departments
            )
            m.summoned |= departments
            if m.lead is not None:
                m.assigned |= departments
            self.event(m, Note.WHISTLE.value)

    @precondition(lambda self: self.calls)
    @rule(k=st.integers(0, 50), who=st.sampled_from(["handler", "hw", "zj", "dispatcher"]))
    def report_in(self, k, who):
        pk = sorted(self.calls)[k % len(self.calls)]
        call = self.calls[pk]
        if HANDLER_OF.get(who) != call["department"]:
            problem = "forbidden"
        elif call["reported"]:
            problem = "invalid"
        else:
            problem = None
        actor = self.users[who]
        if self.attempt(
            lambda: services.whistle_report_in(call=WhistleCall(pk=pk), actor=actor, at=self.now),
            problem,
        ):
            call["reported"] = True
            self.event(self.by_pk(call["case"]), Note.REPORT_IN.value)

    @rule()
    def sweep(self):
        expected = {"remind": 0, "supervise": 0, "escalate": 0}
        for m in sorted(self.cases, key=lambda m: m.pk):
            if m.status not in RUNNING_STATUSES or m.deadline is None:
                continue
            due, now = m.deadline, self.now
            steps = []
            if due > now and workcal.working_hours_between(now, due) <= 4:
                steps.append("remind")
            if due <= now:
                steps.append("supervise")
            if workcal.working_days_between(due, now) >= 5:
                steps.append("escalate")
            for kind in steps:
                if (kind, due) not in m.alerts:
                    m.alerts.add((kind, due))
                    expected[kind] += 1
                    self.event(m, kind)
        assert services.sla_sweep(at=self.now) == expected
        before = snapshot(self.media_root)
        assert services.sla_sweep(at=self.now) == {"remind": 0, "supervise": 0, "escalate": 0}
        assert snapshot(self.media_root) == before

    @rule(
        how=st.sampled_from(["advance", "landmark", "deadline"]),
        minutes=st.one_of(
            st.integers(1, 90), st.integers(90, 60 * 30), st.integers(60 * 30, 60 * 24 * 12)
        ),
        landmark=st.sampled_from(LANDMARKS),
        i=st.integers(0, MAX_CASES),
        near=st.integers(-300, 60 * 24 * 8),
        then_sweep=st.booleans(),
    )
    def clock(self, how, minutes, landmark, i, near, then_sweep):
        """Time goes on: by some minutes, hours or days; to a landmark of the calendar; or
        to around a case's deadline, where the sweep's rules turn. Then, perhaps, a sweep."""
        deadlines = [m.deadline for m in self.cases if m.deadline]
        if how == "advance" or (how == "deadline" and not deadlines):
            self.now += timedelta(minutes=minutes)
        elif how == "landmark":
            self.now = max(self.now, landmark)
        else:
            self.now = max(self.now, deadlines[i % len(deadlines)] + timedelta(minutes=near))
        if then_sweep:
            self.sweep()

    # --- invariants ----------------------------------------------------------------------

    def deadline_of(self, start: datetime, amount: int, unit: str) -> datetime:
        # The calendar's answers do not change within a run: computed once each.
        key = (start, amount, unit)
        if key not in self.memo:
            self.memo[key] = workcal.deadline(start, amount, unit)
        return self.memo[key]

    def in_office(self, moment: datetime) -> bool:
        if moment not in self.memo:
            self.memo[moment] = in_office(moment)
        return self.memo[moment]

    @invariant()
    def invariants_hold(self):
        """Every invariant of the module docstring, on a dozen queries per step."""
        if not self.cases:
            return
        pks = [m.pk for m in self.cases]
        rows = {row.pk: row for row in Case.objects.filter(pk__in=pks).select_related("matter")}
        events: dict[int, list] = {pk: [] for pk in pks}
        for event in CaseEvent.objects.filter(case_id__in=pks).order_by("created_at", "id"):
            events[event.case_id].append(event)
        alerts = {pk: set() for pk in pks}
        for case_id, kind, deadline in CaseAlert.objects.filter(case_id__in=pks).values_list(
            "case_id", "kind", "deadline"
        ):
            alerts[case_id].add((kind, deadline))
        supports = {pk: {} for pk in pks}
        for case_id, username, kind in CaseSupport.objects.filter(case_id__in=pks).values_list(
            "case_id", "user__username", "kind"
        ):
            supports[case_id][self.names[username]] = kind
        photos = {pk: Counter() for pk in pks}
        photo_events = set()
        for case_id, kind, event_id in CasePhoto.objects.filter(case_id__in=pks).values_list(
            "case_id", "kind", "event_id"
        ):
            photos[case_id][kind] += 1
            photo_events.add((event_id, kind))
        extensions = {pk: [] for pk in pks}
        for pk, case_id, status, new in Extension.objects.filter(case_id__in=pks).values_list(
            "pk", "case_id", "status", "new_deadline"
        ):
            extensions[case_id].append((pk, status, new))

        for m in self.cases:
            row, timeline = rows[m.pk], events[m.pk]
            # The status: a known one, the model's, reached through the table, one event
            # per move and a continuous chain of events from the report.
            assert row.status in Status.values
            assert row.status == m.status, (m.pk, row.status, m.status)
            chain = [(e.action, e.from_status, e.to_status) for e in timeline]
            assert chain == m.events, (m.pk, chain, m.events)
            assert chain[0] == ("report", "", Status.REPORTED.value)
            for (_a, _f, before), (action, after_from, after) in itertools.pairwise(chain):
                assert after_from == before, chain
                if action in Action.values:
                    assert TRANSITIONS.get((after_from, action)) == after, chain
                else:
                    assert action in Note.values and after_from == after, chain
            assert chain[-1][2] == row.status
            # Counts, callback, lead, merge target.
            counts = (row.rework_count, row.sendback_count, row.reopen_count)
            assert counts == (m.rework, m.sendback, m.reopen)
            assert min(counts) >= 0
            assert (row.satisfaction, row.resolved) == (m.satisfaction, m.resolved)
            assert (row.lead_department.code if row.lead_department_id else None) == m.lead
            if row.status == Status.MERGED:
                assert row.merged_into_id is not None and row.merged_into_id != row.pk
            else:
                assert row.merged_into_id is None
            assert row.merged_into_id == m.merged_into
            # Deadlines: the model's, from the calendar (or an approved extension), and in
            # office time on a working day.
            assert row.deadline == m.deadline, (m.pk, row.deadline, m.deadline)
            if row.status in RUNNING_STATUSES:
                assert row.deadline is not None
            if row.deadline is not None:
                assert self.in_office(row.deadline), row.deadline
                limit = self.limit(m, row.urgency)
                base = self.deadline_of(row.dispatched_at, limit.amount, limit.unit)
                approved = {new for _pk, status, new in extensions[m.pk] if status == "approved"}
                assert row.deadline == base or row.deadline in approved
            # Closed only through a passed check, with its photo when the matter needs one.
            if row.status in CLOSED_STATUSES:
                assert row.verified_at is not None and row.closed_at is not None
                check = [e for e in timeline if e.action == Action.VERIFY_PASS][-1]
                assert check.to_status == Status.CLOSED
                if row.matter.needs_check_photo:
                    assert (check.pk, "check") in photo_events
            # What hangs off the case.
            assert alerts[m.pk] == m.alerts
            assert supports[m.pk] == m.supports
            assert photos[m.pk] == +m.photos
            assert sum(status == "pending" for _pk, status, _new in extensions[m.pk]) <= 1
        got = {pk: status for rows_ in extensions.values() for pk, status, _new in rows_}
        assert got == {pk: e["status"] for pk, e in self.extensions.items()}
        reported = {
            pk: at is not None
            for pk, at in WhistleCall.objects.filter(pk__in=list(self.calls)).values_list(
                "pk", "reported_at"
            )
        }
        assert reported == {pk: c["reported"] for pk, c in self.calls.items()}
        # Departments see the cases they were sent or summoned to; residents their own and
        # those they follow.
        for who, code in HANDLER_OF.items():
            seen = set(
                selectors.cases_for(self.users[who]).filter(pk__in=pks).values_list("pk", flat=True)
            )
            assert seen == {m.pk for m in self.cases if code in m.assigned | m.summoned}, who
        for who in ("resident", "neighbour"):
            seen = set(
                selectors.cases_for(self.users[who]).filter(pk__in=pks).values_list("pk", flat=True)
            )
            assert seen == {m.pk for m in self.cases if m.reporter == who or who in m.supports}
        # The KPI counters the services keep are what the timeline tells; the rollups are
        # folded as the cases change, and checked against a full scan at teardown.
        for m in self.cases:
            row = rows[m.pk]
            supervised = any(kind == "supervise" for kind, _deadline in alerts[m.pk])
            told = counters_from_timeline(row, events[m.pk], supervised=supervised)
            assert {name: getattr(row, name) for name in told} == told, (m.pk, told)
        tally_fold()


def _user(username: str, role: str, **extra) -> User:
    user = User(username=username, role=role, name=username, **extra)
    user.set_password("x")
    user.save()
    return user


@pytest.fixture
def machine(personas, community_worker, catalogue, street, media_root):
    garbage = Matter.objects.get(code="06010")
    garbage.lead_department = street["dept"]
    garbage.save()
    CaseMachine.users = personas | {
        "community": community_worker,
        "admin": personas["admin"],
        "neighbour": _user("neighbour", "resident"),
        "hw": _user("hw", "handler", department=catalogue["HW"]),
        "zj": _user("zj", "handler", department=catalogue["ZJ"]),
    }
    CaseMachine.names = {user.username: key for key, user in CaseMachine.users.items()}
    CaseMachine.matters = {
        m.code: m for m in Matter.objects.filter(code__in=MATTERS).prefetch_related("limits")
    }
    CaseMachine.departments = {d.code: d for d in Department.objects.filter(code__in=DEPARTMENTS)}
    CaseMachine.media_root = media_root
    yield CaseMachine
    CaseMachine.users, CaseMachine.matters, CaseMachine.departments = {}, {}, {}


def test_the_workflow_keeps_its_invariants_under_random_actions(machine):
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=15,
            stateful_step_count=60,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
