"""Every KPI counted by hand (docs/kpis.md): a small world of June cases, each taken
through the real move services at fixed times, and for every fact behind every figure the
number and the cases a person counts on paper — for the whole street, for two departments
and for one grid. The rollups, the drill-down, the full-scan check and the recount from
the timelines must all say the same.

The calendar is the real one: Monday 2026-06-01 is a working day, office hours
08:30–12:00 and 13:30–17:30. 暴露垃圾 (the `matter` fixture, led by 城管 CG) is due 4
working hours after dispatch at normal urgency and 2 at urgent; 恶臭异味 (`smell`) 2
working days. A dispatch is timely within LINLI_KPI_DISPATCH_HOURS = 2 working hours of
the case entering the queue; a sign-for within LINLI_KPI_SIGN_HOURS (8 normal, 2 urgent).
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from linli.accounts.models import User
from linli.cases import case_services, exemptions
from linli.cases.models import Case, Matter
from linli.core.testing import photo_upload
from linli.insights.facts import FACT_NAMES, KPI_BY_NAME, KPIS
from linli.insights.selectors import kpi_cases, kpi_report
from linli.insights.services import (
    counters_differences,
    counters_recount,
    tally_check,
    tally_fold,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_G11 = (118.605, 37.405)
IN_G21 = (118.625, 37.405)
JUNE = (date(2026, 6, 1), date(2026, 6, 30))
MAY = (date(2026, 5, 1), date(2026, 5, 31))


def folding(service):
    """The service, then a fold, as `manage.py kpi_fold` would do a minute later: every
    move after a case's first is folded into the rollups as a difference."""

    def call(**kwargs):
        result = service(**kwargs)
        tally_fold()
        return result

    return call


case_accept = folding(case_services.case_accept)
case_dispatch = folding(case_services.case_dispatch)
case_merge = folding(case_services.case_merge)
case_park = folding(case_services.case_park)
case_rate = folding(case_services.case_rate)
case_reject = folding(case_services.case_reject)
case_reopen = folding(case_services.case_reopen)
case_reply = folding(case_services.case_reply)
case_report = folding(case_services.case_report)
case_send_back = folding(case_services.case_send_back)
case_sign = folding(case_services.case_sign)
case_start = folding(case_services.case_start)
case_verify = folding(case_services.case_verify)
extension_decide = folding(case_services.extension_decide)
extension_request = folding(case_services.extension_request)
sla_sweep = folding(case_services.sla_sweep)
exemption_decide = folding(exemptions.exemption_decide)
exemption_request = folding(exemptions.exemption_request)


def mon(hour, minute=0):
    """Monday 2026-06-01, local time."""
    return datetime(2026, 6, 1, hour, minute, tzinfo=SHANGHAI)


def tue(hour, minute=0):
    return datetime(2026, 6, 2, hour, minute, tzinfo=SHANGHAI)


# --- the world ------------------------------------------------------------------------------------


class World:
    """The people and the moves, each a real service call at a fixed time."""

    def __init__(self, personas, street, departments, matter, smell):
        self.p = personas
        self.street = street
        self.matter = matter
        self.smell = smell
        self.hw = User.objects.create(
            username="hw", role="handler", name="hw", department=departments["HW"]
        )
        self.cases: dict[str, Case] = {}

    def report(self, name, at, *, where=IN_G11, matter=None, hotline=False):
        values = {
            "matter": matter or self.matter,
            "description": "路边有一堆垃圾，气味很大",
            "lon": where[0],
            "lat": where[1],
            "at": at,
        }
        if hotline:
            values |= {"source": "hotline", "entered_by": self.p["dispatcher"]}
        else:
            values |= {"source": "resident", "reporter": self.p["resident"]}
        case = case_report(**values)
        self.cases[name] = case
        return case

    def accept(self, case, at):
        return case_accept(case=case, actor=self.p["dispatcher"], at=at)

    def dispatch(self, case, at, **extra):
        return case_dispatch(case=case, actor=self.p["dispatcher"], at=at, **extra)

    def handler_of(self, case):
        return self.hw if case.lead_department_id == self.hw.department_id else self.p["handler"]

    def sign(self, case, at):
        return case_sign(case=case, actor=self.handler_of(case), at=at)

    def start(self, case, at):
        return case_start(case=case, actor=self.handler_of(case), at=at)

    def reply(self, case, at):
        return case_reply(case=case, actor=self.handler_of(case), note="已处理。", at=at)

    def check(self, case, at, *, passed=True):
        worker = self.p[
            "grid_worker" if case.grid_id == self.street["g11"].pk else "other_grid_worker"
        ]
        return case_verify(
            case=case,
            actor=worker,
            passed=passed,
            note="现场已干净。" if passed else "还有垃圾。",
            photos=[photo_upload(size=(64, 48))],
            at=at,
        )

    def rate(self, case, at, satisfaction, resolved, *, actor="resident"):
        return case_rate(
            case=case, actor=self.p[actor], resolved=resolved, satisfaction=satisfaction, at=at
        )

    def handling(self, name, *, at=None, dispatched=None, signed=None, urgency=None, **extra):
        """Reported at `at`, accepted and dispatched at `dispatched` (both Monday 09:00
        unless given), signed and started at `signed` (09:30)."""
        at = at or mon(9)
        dispatched = dispatched or at
        case = self.report(name, at, **extra)
        self.accept(case, dispatched)
        case = self.dispatch(case, dispatched, urgency=urgency)
        case = self.sign(case, signed or mon(9, 30))
        return self.start(case, signed or mon(9, 30))

    def closed(self, name, *, reply_at, check_at, **extra):
        case = self.handling(name, **extra)
        case = self.reply(case, reply_at)
        return self.check(case, check_at)

    def number(self, name):
        return self.cases[name].number


def build(world: World) -> dict:
    """The June cases (and one of 31 May). Returns what the SLA sweep did."""
    w, p = world, world.p

    # on_time: replied and checked before the 14:30 deadline, rated satisfied.
    case = w.closed("on_time", reply_at=mon(10), check_at=mon(10, 30))
    w.rate(case, mon(11), "satisfied", True)

    # late: due Monday 14:30, replied at 15:00 (overdue by the reply), rated basically
    # satisfied but not resolved.
    case = w.handling("late")
    assert case.deadline == mon(14, 30)
    case = w.check(w.reply(case, mon(15)), mon(15, 30))
    w.rate(case, mon(16), "basic", False)

    # overdue: still being handled when the sweep runs at 15:00, past its 14:30 deadline.
    w.handling("overdue")

    # reopened: rated not satisfied, reopened (new deadline 16:30), replied, closed, rated
    # satisfied.
    case = w.closed("reopened", reply_at=mon(10), check_at=mon(10, 30))
    case = w.rate(case, mon(11), "unsatisfied", False)
    case = case_reopen(case=case, actor=p["dispatcher"], note="居民不满意，重办。", at=mon(11))
    assert case.deadline == mon(16, 30)
    case = w.start(w.sign(case, mon(11, 30)), mon(11, 30))
    case = w.check(w.reply(case, mon(14)), mon(14, 30))
    w.rate(case, mon(15), "satisfied", True)

    # extended_early / extended_late: 2 more working hours approved (14:30 → 16:30);
    # replied at 14:00 (before both deadlines) / at 16:00 (after the old one).
    for name in ("extended_early", "extended_late"):
        case = w.handling(name)
        ext = extension_request(
            case=case, actor=p["handler"], amount=2, unit="hours", reason="等车。", at=mon(10)
        )
        extension_decide(extension=ext, actor=p["dispatcher"], approve=True, at=mon(10, 30))
        case.refresh_from_db()
        assert case.deadline == mon(16, 30)
    w.check(w.reply(w.cases["extended_early"], mon(14)), mon(14, 30))

    # sent_back: dispatched to 城管 at 09:00, sent back at 09:30, dispatched to 环卫 at
    # 10:00 (half an hour after it came back to the queue: in time), closed by 环卫.
    case = w.report("sent_back", mon(9))
    w.accept(case, mon(9))
    case = w.dispatch(case, mon(9))
    case = case_send_back(
        case=case, actor=p["handler"], reason_code="not_ours", note="不归我们管。", at=mon(9, 30)
    )
    case = w.dispatch(case, mon(10), department=w.hw.department)
    case = w.start(w.sign(case, mon(10, 30)), mon(10, 30))
    w.check(w.reply(case, mon(11)), mon(11, 30))

    # late_dispatch: accepted 09:00, dispatched 14:30 (4 working hours later), due Tuesday
    # 09:30, closed Monday 16:30.
    case = w.report("late_dispatch", mon(9))
    w.accept(case, mon(9))
    case = w.dispatch(case, mon(14, 30))
    assert case.deadline == tue(9, 30)
    case = w.start(w.sign(case, mon(15)), mon(15))
    w.check(w.reply(case, mon(16)), mon(16, 30))

    # late_sign: 恶臭异味 dispatched Monday 09:00 (due Wednesday 17:30), signed Tuesday 11:00:
    # 9.5 working hours, over the 8 allowed; replied and closed on Tuesday, in time.
    case = w.handling("late_sign", matter=w.smell, signed=tue(11))
    assert case.deadline == datetime(2026, 6, 3, 17, 30, tzinfo=SHANGHAI)
    w.check(w.reply(case, tue(14)), tue(14, 30))

    # rework: the first check fails, the second reply passes, all before 14:30.
    case = w.handling("rework")
    case = w.check(w.reply(case, mon(10)), mon(10, 30), passed=False)
    w.check(w.reply(case, mon(11)), mon(11, 30))

    # merged: a duplicate of `overdue`, merged into it before anyone worked on it.
    case = w.report("merged", mon(9, 10))
    case_merge(case=case, actor=p["dispatcher"], into=w.cases["overdue"], at=mon(9, 15))

    # exempted: accepted, then exempted as malicious (asked by the centre, approved by a
    # leader).
    case = w.report("exempted", mon(9, 20))
    w.accept(case, mon(9, 25))
    asked = exemption_request(
        case=case, actor=p["dispatcher"], reason="malicious", note="反复恶意举报。", at=mon(9, 30)
    )
    exemption_decide(exemption=asked, actor=p["leader"], approve=True, at=mon(9, 40))

    # refused_exemption (grid 21): the exemption is refused, so the case counts; closed
    # on time, rated not satisfied and not resolved, not reopened.
    case = w.report("refused_exemption", mon(9), where=IN_G21)
    w.accept(case, mon(9))
    asked = exemption_request(
        case=case, actor=p["dispatcher"], reason="unreasonable", note="诉求不合理。", at=mon(9, 5)
    )
    exemption_decide(
        exemption=asked, actor=p["leader"], approve=False, note="诉求合理，照办。", at=mon(9, 10)
    )
    case = w.dispatch(case, mon(9, 15))
    case = w.start(w.sign(case, mon(9, 30)), mon(9, 30))
    case = w.check(w.reply(case, mon(10)), mon(10, 30))
    w.rate(case, mon(11), "unsatisfied", False)

    # rejected (grid 21): not filed.
    case = w.report("rejected", mon(9), where=IN_G21)
    case_reject(case=case, actor=p["dispatcher"], reason="不属于城市管理问题。", at=mon(9, 30))

    # parked: dispatched and signed, then parked (its deadline stops).
    case = w.handling("parked")
    case_park(case=case, actor=p["dispatcher"], note="需要等待业主委员会决定。", at=mon(10))

    # hotline (grid 21): a 12345 call taken in at 00:30 on Monday (still 31 May in UTC),
    # dispatched urgent at 09:00 (due 11:00), signed 09:30, closed 10:30, rated by the
    # centre's callback.
    case = w.handling(
        "hotline", at=mon(0, 30), dispatched=mon(9), where=IN_G21, hotline=True, urgency="urgent"
    )
    assert case.deadline == mon(11)
    case = w.check(w.reply(case, mon(10)), mon(10, 30))
    w.rate(case, mon(11), "satisfied", True, actor="dispatcher")

    # may: reported at 23:30 on Sunday 31 May — in May's figures, never in June's.
    case = w.report("may", datetime(2026, 5, 31, 23, 30, tzinfo=SHANGHAI))
    w.accept(case, mon(9))

    # The sweep at 15:00: `overdue` (due 14:30) gets its overdue notice; `extended_late`
    # (due 16:30 now) only a reminder; nothing else is running.
    swept = sla_sweep(at=mon(15))
    w.check(w.reply(w.cases["extended_late"], mon(16)), mon(16, 30))
    for case in w.cases.values():
        case.refresh_from_db()
    return swept


@pytest.fixture
def smell(catalogue):
    matter = Matter.objects.get(code="06024")
    assert matter.lead_department.code == "CG"
    return matter


@pytest.fixture
def world(personas, street, departments, matter, smell):
    world = World(personas, street, departments, matter, smell)
    world.swept = build(world)
    return world


# --- counted by hand ------------------------------------------------------------------------------

# The 16 June cases. Not counted: merged, exempted (2). Counted: the other 14.
JUNE_CASES = {
    "on_time",
    "late",
    "overdue",
    "reopened",
    "extended_early",
    "extended_late",
    "sent_back",
    "late_dispatch",
    "late_sign",
    "rework",
    "merged",
    "exempted",
    "refused_exemption",
    "rejected",
    "parked",
    "hotline",
}
COUNTED = JUNE_CASES - {"merged", "exempted"}
# Closed: every counted case that was dispatched, except the one still open (overdue)
# and the parked one.
CLOSED = COUNTED - {"overdue", "parked", "rejected"}

# fact → (the number, the cases behind it), for the whole street in June.
TOTAL = {
    "received": (16, JUNE_CASES),
    "source_resident": (15, JUNE_CASES - {"hotline"}),
    "source_hotline": (1, {"hotline"}),
    "merged": (1, {"merged"}),
    "exempt_malicious": (1, {"exempted"}),
    "counted": (14, COUNTED),
    # filed: counted and accepted — all but `rejected`
    "filed": (13, COUNTED - {"rejected"}),
    "rejected": (1, {"rejected"}),
    # dispatches: one each for the 12 dispatched counted cases, two for sent_back
    "dispatches": (14, COUNTED - {"rejected"}),
    # all in time but late_dispatch's (4 working hours after accept)
    "dispatches_on_time": (13, COUNTED - {"rejected", "late_dispatch"}),
    "send_backs": (1, {"sent_back"}),
    # rounds: 14 dispatches + reopened's reopen
    "rounds": (15, COUNTED - {"rejected"}),
    # signs in time: every round signed within 8 h (2 h urgent) — reopened twice — except
    # late_sign (9.5 h) and sent_back's first round (sent back unsigned)
    "signed_on_time": (13, COUNTED - {"rejected", "late_sign"}),
    # due: closed (11) or overdue though open (overdue)
    "due": (12, CLOSED | {"overdue"}),
    "closed": (11, CLOSED),
    # closed and never overdue: all closed but late
    "closed_on_time": (10, CLOSED - {"late"}),
    "overdue": (2, {"late", "overdue"}),
    # replies: one per closed case, two for reopened and two for rework
    "replies": (13, CLOSED),
    "reworks": (1, {"rework"}),
    "reopens": (1, {"reopened"}),
    "rated": (5, {"on_time", "late", "reopened", "refused_exemption", "hotline"}),
    "resolved": (3, {"on_time", "reopened", "hotline"}),
    "satisfied": (4, {"on_time", "late", "reopened", "hotline"}),
    "satisfied_basic": (1, {"late"}),
    "open": (2, {"overdue", "parked"}),
}

# 城管 (CG) leads every dispatched case but sent_back (now 环卫's).
CG = COUNTED - {"rejected", "sent_back"}
DEPARTMENT_CG = {
    "received": (12, CG),
    "source_resident": (11, CG - {"hotline"}),
    "source_hotline": (1, {"hotline"}),
    "counted": (12, CG),
    "filed": (12, CG),
    "dispatches": (12, CG),
    "dispatches_on_time": (11, CG - {"late_dispatch"}),
    "rounds": (13, CG),  # 12 dispatches + 1 reopen
    "signed_on_time": (12, CG - {"late_sign"}),  # 11 rounds of others + 2 of reopened
    "due": (11, CG - {"parked"}),
    "closed": (10, CG - {"parked", "overdue"}),
    "closed_on_time": (9, CG - {"parked", "overdue", "late"}),
    "overdue": (2, {"late", "overdue"}),
    "replies": (12, CG - {"parked", "overdue"}),  # 10 closed, reopened and rework twice
    "reworks": (1, {"rework"}),
    "reopens": (1, {"reopened"}),
    "rated": (5, {"on_time", "late", "reopened", "refused_exemption", "hotline"}),
    "resolved": (3, {"on_time", "reopened", "hotline"}),
    "satisfied": (4, {"on_time", "late", "reopened", "hotline"}),
    "satisfied_basic": (1, {"late"}),
    "open": (2, {"overdue", "parked"}),
}
# 环卫 (HW): sent_back alone, with both its dispatches and the send-back by 城管 — a case
# counts under its current lead department.
DEPARTMENT_HW = {
    "received": (1, {"sent_back"}),
    "source_resident": (1, {"sent_back"}),
    "counted": (1, {"sent_back"}),
    "filed": (1, {"sent_back"}),
    "dispatches": (2, {"sent_back"}),
    "dispatches_on_time": (2, {"sent_back"}),
    "send_backs": (1, {"sent_back"}),
    "rounds": (2, {"sent_back"}),
    "signed_on_time": (1, {"sent_back"}),
    "due": (1, {"sent_back"}),
    "closed": (1, {"sent_back"}),
    "closed_on_time": (1, {"sent_back"}),
    "replies": (1, {"sent_back"}),
}
# Grid 21: refused_exemption, rejected and hotline.
G21 = {"refused_exemption", "rejected", "hotline"}
GRID_21 = {
    "received": (3, G21),
    "source_resident": (2, {"refused_exemption", "rejected"}),
    "source_hotline": (1, {"hotline"}),
    "counted": (3, G21),
    "filed": (2, {"refused_exemption", "hotline"}),
    "rejected": (1, {"rejected"}),
    "dispatches": (2, {"refused_exemption", "hotline"}),
    "dispatches_on_time": (2, {"refused_exemption", "hotline"}),
    "rounds": (2, {"refused_exemption", "hotline"}),
    "signed_on_time": (2, {"refused_exemption", "hotline"}),
    "due": (2, {"refused_exemption", "hotline"}),
    "closed": (2, {"refused_exemption", "hotline"}),
    "closed_on_time": (2, {"refused_exemption", "hotline"}),
    "replies": (2, {"refused_exemption", "hotline"}),
    "rated": (2, {"refused_exemption", "hotline"}),
    "resolved": (1, {"hotline"}),
    "satisfied": (1, {"hotline"}),
}

# Every KPI as (numerator, denominator) counted by hand, for the street.
TOTAL_KPIS = {
    "received": 16,
    "filing_rate": (13, 14),  # filed / counted: all counted but rejected
    "timely_dispatch_rate": (13, 14),  # all dispatches but late_dispatch's
    "accurate_dispatch_rate": (1, 14),  # 1 − send-backs (sent_back) / dispatches
    "response_rate": (13, 15),  # late_sign's and sent_back's first round unsigned in time
    "on_time_rate": (10, 12),  # closed on time / due: late and overdue are not
    "closing_rate": (11, 12),  # closed / due: overdue is not closed
    "rework_rate": (1, 13),  # rework's failed check / replies
    "overdue": 2,  # late, overdue
    "resolution_rate": (3, 5),  # on_time, reopened, hotline / the 5 rated
    "satisfaction_rate": (4, 5),  # on_time, late (basic), reopened, hotline / the 5 rated
}


def full(expected: dict) -> dict:
    """Every fact, 0 unless counted above."""
    return {name: expected.get(name, (0, set()))[0] for name in FACT_NAMES}


def numbers(world, names) -> set[str]:
    return {world.number(name) for name in names}


def drilled(world, *, dim, key, fact, period=JUNE) -> set[str]:
    cases = kpi_cases(
        world.p["leader"], dim=dim, key=key, start=period[0], end=period[1], fact=fact
    )
    return set(cases.values_list("number", flat=True))


def kpi_facts() -> set[str]:
    names = set()
    for kpi in KPIS:
        names.add(kpi.numerator)
        if kpi.denominator:
            names.add(kpi.denominator)
    return names


# --- the checks -----------------------------------------------------------------------------------


def test_the_world_moved_as_described(world):
    cases = world.cases
    assert world.swept == {"remind": 1, "supervise": 1, "escalate": 0}
    assert {name for name, case in cases.items() if case.was_overdue} == {"late", "overdue"}
    assert {c.status for c in cases.values() if c.reported_on == date(2026, 6, 1)} >= {
        "merged",
        "rejected",
        "parked",
        "handling",
    }
    assert cases["hotline"].reported_on == date(2026, 6, 1)
    assert cases["hotline"].reported_at.astimezone(ZoneInfo("UTC")).date() == date(2026, 5, 31)
    assert cases["may"].reported_on == date(2026, 5, 31)
    assert cases["sent_back"].lead_department == world.hw.department
    assert cases["exempted"].exempt_reason == "malicious"
    assert cases["refused_exemption"].exempt_reason == ""
    assert set(cases) == JUNE_CASES | {"may"}


def test_the_street_total_is_counted_by_hand(world):
    report = kpi_report(world.p["leader"], dim="community", start=JUNE[0], end=JUNE[1])
    assert report.pending == 0
    assert report.total.facts == full(TOTAL)
    assert report.exclusions == {"merged": 1, "exempt_malicious": 1}
    assert report.excluded == 2
    for name, hand in TOTAL_KPIS.items():
        kpi = KPI_BY_NAME[name]
        if kpi.is_rate:
            numerator, denominator = hand
            assert (report.total.facts[kpi.numerator], report.total.facts[kpi.denominator]) == (
                numerator,
                denominator,
            ), name
            share = numerator / denominator
            share = 1 - share if kpi.complement else share
            assert report.total.kpis[name] == round(share * 100, 1), name
        else:
            assert report.total.facts[kpi.numerator] == hand == report.total.kpis[name], name
    assert set(TOTAL_KPIS) == {kpi.name for kpi in KPIS}
    # The communities: grids 11 and 21 lie in communities 1 and 2.
    by_key = {row.key: row.facts for row in report.rows}
    assert set(by_key) == {world.street["c1"].pk, world.street["c2"].pk}
    assert by_key[world.street["c2"].pk] == full(GRID_21)


def test_a_department_and_a_grid_are_counted_by_hand(world, departments):
    leader = world.p["leader"]
    by_department = kpi_report(leader, dim="department", start=JUNE[0], end=JUNE[1])
    rows = {row.key: row.facts for row in by_department.rows}
    assert rows[world.street["dept"].pk] == full(DEPARTMENT_CG)
    assert rows[departments["HW"].pk] == full(DEPARTMENT_HW)
    # Merged, exempted and rejected cases never had a lead department: key 0.
    assert rows[0] == full(
        {
            "received": (3, set()),
            "source_resident": (3, set()),
            "merged": (1, set()),
            "exempt_malicious": (1, set()),
            "counted": (1, set()),
            "rejected": (1, set()),
        }
    )
    assert drilled(world, dim="department", key=0, fact="received") == numbers(
        world, {"merged", "exempted", "rejected"}
    )
    assert drilled(world, dim="department", key=0, fact="counted") == numbers(world, {"rejected"})
    assert by_department.total.facts == full(TOTAL)
    by_grid = kpi_report(leader, dim="grid", start=JUNE[0], end=JUNE[1])
    rows = {row.key: row.facts for row in by_grid.rows}
    assert set(rows) == {world.street["g11"].pk, world.street["g21"].pk}
    assert rows[world.street["g21"].pk] == full(GRID_21)
    assert by_grid.total.facts == full(TOTAL)


@pytest.mark.parametrize(
    ("dim", "where", "expected"),
    [
        ("community", None, TOTAL),
        ("department", "dept", DEPARTMENT_CG),
        ("department", "HW", DEPARTMENT_HW),
        ("grid", "g21", GRID_21),
    ],
)
def test_the_drill_down_lists_the_cases_counted_by_hand(world, departments, dim, where, expected):
    key = None
    if where == "HW":
        key = departments["HW"].pk
    elif where is not None:
        key = world.street[where].pk
    for fact in sorted(kpi_facts() | set(expected)):
        _count, names = expected.get(fact, (0, set()))
        assert drilled(world, dim=dim, key=key, fact=fact) == numbers(world, names), fact


def test_may_is_not_in_june_but_is_in_may(world):
    june = kpi_report(world.p["leader"], dim="grid", start=JUNE[0], end=JUNE[1])
    may = kpi_report(world.p["leader"], dim="grid", start=MAY[0], end=MAY[1])
    assert june.total.facts["received"] == 16
    assert may.total.facts == full(
        {"received": (1, set()), "source_resident": (1, set()), "counted": (1, set())}
        | {"filed": (1, set()), "open": (1, set())}
    )
    assert drilled(world, dim="grid", key=None, fact="received", period=MAY) == {
        world.number("may")
    }


def test_the_rollups_and_the_timelines_agree(world):
    assert tally_check().ok
    assert counters_differences() == []
    assert counters_recount() == 0
