"""Writes of the case workflow: intake (case_report) and one service per move of the table
in linli.cases.workflow (STYLE.md 8–9).

Every move runs in one transaction: lock the case row, check the actor may take the action
(cases.permissions), check the move is in TRANSITIONS, validate the input, change the case
with update_fields and append one CaseEvent with from/to. A refused move changes nothing.
Permission is checked before the state so that an outsider learns nothing about the case.
Every service takes `at` (default: now) so that tests and imports can fix the clock.
"""

import math
import uuid
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import Department
from linli.areas import geo
from linli.cases import permissions
from linli.cases.models import (
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    EVENT_NOTE_MAX,
    Case,
    CaseAssignment,
    CaseEvent,
    Datatype,
    Matter,
    Satisfaction,
    Source,
    Urgency,
)
from linli.cases.selectors import matter_limit
from linli.cases.workflow import PUBLIC_ACTIONS, Action, Status, target
from linli.core import workcal
from linli.core.errors import DomainError

# After this many send-backs the department may not return the case again: the centre
# decides (审定机制, governance-standards §2.4) and re-dispatches or insists.
MAX_SEND_BACKS = 3
SEND_BACK_REASONS = ("not_ours", "wrong_area", "unclear", "duplicate")
STRING_ANSWER_MAX = 200


# --- errors ------------------------------------------------------------------------------------


def _invalid(fields: dict[str, list[str]]) -> DomainError:
    return DomainError("invalid", _("Please correct the marked fields."), fields)


def _field_error(field: str, message: str) -> DomainError:
    return DomainError("invalid", message, {field: [message]})


def _forbidden() -> DomainError:
    return DomainError("forbidden", _("You may not do this with this case."))


def _illegal(status: str, action: str) -> DomainError:
    message = _("The case is %(status)s: “%(action)s” is not possible now.") % {
        "status": Status(status).label,
        "action": Action(action).label,
    }
    return DomainError("invalid_transition", message)


def _note(note: str, *, required: bool, field: str = "note") -> str:
    note = (note or "").strip()
    if required and not note:
        raise _field_error(field, _("Please write a note."))
    if len(note) > EVENT_NOTE_MAX:
        raise _field_error(field, _("A note has at most %(n)d characters.") % {"n": EVENT_NOTE_MAX})
    return note


# --- the move itself ---------------------------------------------------------------------------


def _begin(case: Case, actor, action: str) -> tuple[Case, str]:
    """Lock the case and check actor and state; returns the locked case and the target."""
    # of=("self",): lock the case row only, not the grid and matter joined for the checks.
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("grid", "matter")
        .get(pk=case.pk)
    )
    if not permissions.may_act(actor, case, action):
        raise _forbidden()
    to = target(case.status, action)
    if to is None:
        raise _illegal(case.status, action)
    return case, to


def _finish(
    case: Case,
    actor,
    action: str,
    to: str,
    at: datetime,
    changes: dict,
    *,
    note: str = "",
    data: dict | None = None,
) -> Case:
    from_status = case.status
    for name, value in changes.items():
        setattr(case, name, value)
    case.status = to
    case.save(update_fields=[*changes, "status", "updated_at"])
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to,
        note=note,
        public=action in PUBLIC_ACTIONS,
        data=data or {},
        created_at=at,
    )
    return case


def _deadline(case: Case, urgency: str, start: datetime) -> datetime:
    limit = matter_limit(case.matter, urgency)
    if limit is None:
        raise DomainError(
            "invalid", _("The matter %(code)s has no handling limit.") % {"code": case.matter.code}
        )
    return workcal.deadline(start, limit.amount, limit.unit)


# --- intake --------------------------------------------------------------------------------------


def _coordinate(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def answers_clean(matter: Matter, answers: dict | None) -> tuple[dict, dict[str, list[str]]]:
    """The reporter's answers to the matter's questions, normalised, and the problems
    found, keyed "answers.<question code>"."""
    answers = dict(answers or {})
    clean: dict = {}
    problems: dict[str, list[str]] = {}
    questions = {q.code: q for q in matter.questions.prefetch_related("options")}
    for code in answers.keys() - questions.keys():
        problems[f"answers.{code}"] = [_("This matter does not ask this question.")]
    for code, question in questions.items():
        value = answers.get(code)
        if value is None or value == "" or value == []:
            if question.required:
                problems[f"answers.{code}"] = [_("Please answer this question.")]
            continue
        try:
            clean[code] = _answer(question, value)
        except ValueError as problem:
            problems[f"answers.{code}"] = [str(problem)]
    return clean, problems


def _answer(question, value):
    kind = question.datatype
    if kind in (Datatype.STRING, Datatype.TEXT):
        limit = STRING_ANSWER_MAX if kind == Datatype.STRING else DESCRIPTION_MAX
        if not isinstance(value, str):
            raise ValueError(_("Please answer in words."))
        if len(value.strip()) > limit:
            raise ValueError(_("At most %(n)d characters.") % {"n": limit})
        return value.strip()
    if kind == Datatype.NUMBER:
        number = None if isinstance(value, bool) else _coordinate(value)
        if number is None:
            raise ValueError(_("Please give a number."))
        return int(number) if number.is_integer() else number
    if kind == Datatype.DATETIME:
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None:
            raise ValueError(_("Please give a date and time such as 2026-05-01T08:30."))
        return moment.isoformat()
    keys = {option.key for option in question.options.all()}
    if kind == Datatype.SINGLEVALUELIST:
        if not isinstance(value, str) or value not in keys:
            raise ValueError(_("Please choose one of the offered answers."))
        return value
    if (
        not isinstance(value, list | tuple)
        or not all(isinstance(v, str) for v in value)
        or not set(value) <= keys
    ):
        raise ValueError(_("Please choose among the offered answers."))
    return sorted(set(value), key=list(value).index)


def case_number(case: Case) -> str:
    """The case's number: the year it was reported and its id, e.g. 2026-00001234."""
    return f"{timezone.localtime(case.reported_at).year}-{case.pk:08d}"


@transaction.atomic
def case_report(
    *,
    matter: Matter,
    description: str,
    lon: float,
    lat: float,
    source: str,
    reporter=None,
    address: str = "",
    urgency: str = Urgency.NORMAL,
    anonymous: bool = False,
    answers: dict | None = None,
    at: datetime | None = None,
) -> Case:
    """Take a report from any source into the queue: the point is placed in its grid and
    the case starts as reported, with a public "report" event."""
    now = at or timezone.now()
    fields: dict[str, list[str]] = {}
    if not matter.is_active:
        fields["matter"] = [_("This matter is no longer in use; please choose another.")]
    if anonymous and not matter.allows_anonymous:
        fields["anonymous"] = [_("This matter cannot be reported anonymously.")]
    if source not in Source.values:
        fields["source"] = [_("Unknown source.")]
    if urgency not in Urgency.values:
        fields["urgency"] = [_("Choose normal, urgent or critical.")]
    description = (description or "").strip()
    if not description:
        fields["description"] = [_("Please describe the problem.")]
    elif len(description) > DESCRIPTION_MAX:
        fields["description"] = [_("At most %(n)d characters.") % {"n": DESCRIPTION_MAX}]
    address = (address or "").strip()
    if len(address) > ADDRESS_MAX:
        fields["address"] = [_("At most %(n)d characters.") % {"n": ADDRESS_MAX}]
    grid = None
    x, y = _coordinate(lon), _coordinate(lat)
    if x is None or y is None:
        message = _("Give the place as longitude and latitude.")
        fields["lon"] = fields["lat"] = [message]
    elif not geo.in_china(x, y):
        message = _("This point is not in China; are longitude and latitude swapped?")
        fields["lon"] = fields["lat"] = [message]
    else:
        grid = geo.locate(x, y)
        if grid is None:
            message = _("This point is outside every grid of the street.")
            fields["lon"] = fields["lat"] = [message]
    clean, problems = answers_clean(matter, answers)
    fields |= problems
    if fields:
        raise _invalid(fields)
    case = Case.objects.create(
        # A placeholder until the id is known; the number is unique, so it must be too.
        number=uuid.uuid4().hex,
        source=source,
        matter=matter,
        urgency=urgency,
        description=description,
        lon=x,
        lat=y,
        address=address,
        grid=grid,
        reporter=reporter,
        anonymous=anonymous,
        status=Status.REPORTED,
        reported_at=now,
        answers=clean,
        created_at=now,
    )
    case.number = case_number(case)
    case.save(update_fields=["number"])
    CaseEvent.objects.create(
        case=case,
        actor=reporter,
        action="report",
        from_status="",
        to_status=Status.REPORTED,
        public=True,
        data={"source": source},
        created_at=now,
    )
    return case


# --- the centre ----------------------------------------------------------------------------------


@transaction.atomic
def case_accept(*, case: Case, actor, note: str = "", at: datetime | None = None) -> Case:
    """File a reported case (立案)."""
    case, to = _begin(case, actor, Action.ACCEPT)
    note = _note(note, required=False)
    now = at or timezone.now()
    return _finish(case, actor, Action.ACCEPT, to, now, {"accepted_at": now}, note=note)


@transaction.atomic
def case_reject(*, case: Case, actor, reason: str, at: datetime | None = None) -> Case:
    """Refuse a reported case; the reason is shown to the reporter."""
    case, to = _begin(case, actor, Action.REJECT)
    reason = _note(reason, required=True, field="reason")
    return _finish(case, actor, Action.REJECT, to, at or timezone.now(), {}, note=reason)


@transaction.atomic
def case_dispatch(
    *,
    case: Case,
    actor,
    department: Department | None = None,
    co_departments: Iterable[Department] = (),
    urgency: str | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Case:
    """Send an accepted case to its lead department (the matter's by default) and any
    co-handlers; the deadline runs from now by the matter's limit at the urgency."""
    case, to = _begin(case, actor, Action.DISPATCH)
    note = _note(note, required=False)
    department = department or case.matter.lead_department
    if department is None or not department.is_active:
        raise _field_error("department", _("Choose the department to lead on this case."))
    urgency = urgency or case.urgency
    if urgency not in Urgency.values:
        raise _field_error("urgency", _("Choose normal, urgent or critical."))
    now = at or timezone.now()
    deadline = _deadline(case, urgency, now)
    co = []
    for other in co_departments:
        if other.pk != department.pk and other not in co:
            co.append(other)
    case.assignments.all().delete()
    CaseAssignment.objects.bulk_create(
        [CaseAssignment(case=case, department=department, role="lead", created_at=now)]
        + [CaseAssignment(case=case, department=d, role="co_handler", created_at=now) for d in co]
    )
    changes = {
        "lead_department": department,
        "urgency": urgency,
        "deadline": deadline,
        "dispatched_at": now,
    }
    data = {
        "department": department.code,
        "co_departments": [d.code for d in co],
        "urgency": urgency,
        "deadline": deadline.isoformat(),
    }
    return _finish(case, actor, Action.DISPATCH, to, now, changes, note=note, data=data)


@transaction.atomic
def case_park(*, case: Case, actor, note: str, at: datetime | None = None) -> Case:
    """Put a case that cannot be solved now on the problem register (挂账), with the
    written explanation; its deadline stops."""
    case, to = _begin(case, actor, Action.PARK)
    note = _note(note, required=True)
    data = {"deadline": case.deadline.isoformat() if case.deadline else None}
    now = at or timezone.now()
    return _finish(case, actor, Action.PARK, to, now, {"deadline": None}, note=note, data=data)


@transaction.atomic
def case_resume(*, case: Case, actor, note: str = "", at: datetime | None = None) -> Case:
    """Take a parked case back into the queue as accepted, to be dispatched afresh."""
    case, to = _begin(case, actor, Action.RESUME)
    note = _note(note, required=False)
    case.assignments.all().delete()
    changes = {"lead_department": None, "deadline": None}
    return _finish(case, actor, Action.RESUME, to, at or timezone.now(), changes, note=note)


# --- the department ------------------------------------------------------------------------------


@transaction.atomic
def case_sign(*, case: Case, actor, note: str = "", at: datetime | None = None) -> Case:
    """The lead department takes the case on (签收); time-to-sign is measured from here."""
    case, to = _begin(case, actor, Action.SIGN)
    note = _note(note, required=False)
    now = at or timezone.now()
    return _finish(case, actor, Action.SIGN, to, now, {"signed_at": now}, note=note)


@transaction.atomic
def case_send_back(
    *, case: Case, actor, reason_code: str, note: str, at: datetime | None = None
) -> Case:
    """The lead department returns a mis-dispatched case with a reason; it goes back to the
    centre as accepted. Refused after MAX_SEND_BACKS returns."""
    case, to = _begin(case, actor, Action.SEND_BACK)
    if reason_code not in SEND_BACK_REASONS:
        raise _field_error("reason_code", _("Choose why the case is sent back."))
    note = _note(note, required=True)
    if case.sendback_count >= MAX_SEND_BACKS:
        raise DomainError(
            "send_back_limit",
            _(
                "This case has been sent back %(n)d times already; the dispatch centre must "
                "decide who handles it."
            )
            % {"n": case.sendback_count},
        )
    data = {"reason_code": reason_code, "department": case.lead_department.code}
    case.assignments.all().delete()
    changes = {"lead_department": None, "deadline": None, "sendback_count": case.sendback_count + 1}
    now = at or timezone.now()
    return _finish(case, actor, Action.SEND_BACK, to, now, changes, note=note, data=data)


@transaction.atomic
def case_start(*, case: Case, actor, note: str = "", at: datetime | None = None) -> Case:
    """The department starts work on a signed case."""
    case, to = _begin(case, actor, Action.START)
    note = _note(note, required=False)
    return _finish(case, actor, Action.START, to, at or timezone.now(), {}, note=note)


@transaction.atomic
def case_reply(*, case: Case, actor, note: str, at: datetime | None = None) -> Case:
    """The department reports the case handled (办结反馈); the note is the answer the
    reporter reads. It then waits for the on-site check."""
    case, to = _begin(case, actor, Action.REPLY)
    note = _note(note, required=True)
    now = at or timezone.now()
    return _finish(case, actor, Action.REPLY, to, now, {"replied_at": now}, note=note)


# --- the check, the callback and after -----------------------------------------------------------


@transaction.atomic
def case_verify(*, case: Case, actor, passed: bool, note: str, at: datetime | None = None) -> Case:
    """The on-site check (核查) of a replied case: a pass closes it, a fail sends it back
    to the department as rework (返工). Both need a note of what was found."""
    action = Action.VERIFY_PASS if passed else Action.VERIFY_FAIL
    case, to = _begin(case, actor, action)
    note = _note(note, required=True)
    now = at or timezone.now()
    if passed:
        changes = {"verified_at": now, "closed_at": now}
    else:
        changes = {"rework_count": case.rework_count + 1}
    return _finish(case, actor, action, to, now, changes, note=note)


def _replied_by(case: Case) -> set[int]:
    return set(
        case.events.filter(action=Action.REPLY, actor__isnull=False).values_list(
            "actor_id", flat=True
        )
    )


@transaction.atomic
def case_rate(
    *,
    case: Case,
    actor,
    resolved: bool,
    satisfaction: str,
    note: str = "",
    at: datetime | None = None,
) -> Case:
    """Record the reporter's verdict (回访): resolved or not, and how satisfied. Recorded by
    the reporter or by the centre's callback, never by a handler who replied."""
    case, to = _begin(case, actor, Action.RATE)
    # A handler who also reported the case would otherwise rate their own work.
    if actor.pk in _replied_by(case):
        raise DomainError(
            "forbidden", _("The rating cannot be recorded by someone who replied on the case.")
        )
    if satisfaction not in Satisfaction.values:
        raise _field_error("satisfaction", _("Choose satisfied, basically satisfied or not."))
    if not isinstance(resolved, bool):
        raise _field_error("resolved", _("Say whether the problem was resolved."))
    note = _note(note, required=False)
    changes = {"satisfaction": satisfaction, "resolved": resolved}
    data = {"satisfaction": satisfaction, "resolved": resolved}
    now = at or timezone.now()
    return _finish(case, actor, Action.RATE, to, now, changes, note=note, data=data)


@transaction.atomic
def case_reopen(*, case: Case, actor, note: str, at: datetime | None = None) -> Case:
    """重办: a case rated not satisfied (or not resolved) goes back to its lead department
    with a new deadline; the round's milestones start again."""
    case, to = _begin(case, actor, Action.REOPEN)
    note = _note(note, required=True)
    if case.satisfaction != Satisfaction.UNSATISFIED and case.resolved is not False:
        raise DomainError(
            "invalid", _("Only a case rated not satisfied or not resolved can be reopened.")
        )
    now = at or timezone.now()
    deadline = _deadline(case, case.urgency, now)
    data = {
        "satisfaction": case.satisfaction,
        "resolved": case.resolved,
        "deadline": deadline.isoformat(),
    }
    changes = {
        "deadline": deadline,
        "dispatched_at": now,
        "signed_at": None,
        "replied_at": None,
        "verified_at": None,
        "closed_at": None,
        "satisfaction": None,
        "resolved": None,
        "reopen_count": case.reopen_count + 1,
    }
    return _finish(case, actor, Action.REOPEN, to, now, changes, note=note, data=data)


@transaction.atomic
def case_archive(*, case: Case, actor, note: str = "", at: datetime | None = None) -> Case:
    """File a rated case away; nothing moves it after this."""
    case, to = _begin(case, actor, Action.ARCHIVE)
    note = _note(note, required=False)
    now = at or timezone.now()
    return _finish(case, actor, Action.ARCHIVE, to, now, {"archived_at": now}, note=note)
