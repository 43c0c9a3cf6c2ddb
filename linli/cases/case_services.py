"""Writes of the case workflow: intake (case_report) and one service per move of the table
in linli.cases.workflow (STYLE.md 8–9).

Every move runs in one transaction: lock the case row, check the actor may take the action
(cases.permissions), check the move is in TRANSITIONS, validate the input, change the case
with update_fields and append one CaseEvent with from/to. A refused move changes nothing.
Permission is checked before the state so that an outsider learns nothing about the case.
Every service takes `at` (default: now) so that tests and imports can fix the clock.
"""

import logging
import math
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import phonenumbers
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import Department
from linli.areas import geo
from linli.cases import counters, notices, permissions
from linli.cases.models import (
    ADDRESS_MAX,
    CONTACT_PHONE_CONTEXT,
    DESCRIPTION_MAX,
    EVENT_NOTE_MAX,
    MAX_PHOTOS_PER_STEP,
    Case,
    CaseAlert,
    CaseAssignment,
    CaseEvent,
    CasePhoto,
    CaseSupport,
    Datatype,
    Extension,
    LimitUnit,
    Matter,
    PhotoKind,
    Satisfaction,
    Source,
    Urgency,
    Whistle,
    WhistleCall,
)
from linli.cases.selectors import matter_limit
from linli.cases.workflow import (
    OPEN_STATUSES,
    PUBLIC_ACTIONS,
    PUBLIC_NOTES,
    RUNNING_STATUSES,
    Action,
    Note,
    Status,
    target,
)
from linli.core import workcal
from linli.core.crypto import blind_index, encrypt, mask_phone
from linli.core.errors import DomainError
from linli.core.images import CleanImage, image_clean, images_store
from linli.core.validation import markup_problem

logger = logging.getLogger("linli.cases")

# After this many send-backs the department may not return the case again: the centre
# decides (审定机制, governance-standards §2.4) and re-dispatches or insists.
MAX_SEND_BACKS = 3
SEND_BACK_REASONS = ("not_ours", "wrong_area", "unclear", "duplicate")
STRING_ANSWER_MAX = 200
CONTACT_NAME_MAX = 50
# Entrances that cannot ask the reporter the matter's questions.
UNASKED_SOURCES = frozenset({Source.HOTLINE, Source.SENSOR, Source.IMPORT})
# The choices' values once (an enum's `values` builds a new list at every read).
SOURCES = frozenset(Source.values)
URGENCIES = frozenset(Urgency.values)
EXTERNAL_REF_MAX = 64
# The longest extension one request may ask for.
MAX_EXTENSION = {LimitUnit.HOURS: 40, LimitUnit.DAYS: 30}
# Supervision (standards §2.4): a reminder this many working hours before the deadline,
# a notice once it has passed, an escalation to the leaders this many working days after.
REMIND_WORKING_HOURS = 4
ESCALATE_WORKING_DAYS = 5


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
    event = CaseEvent.objects.create(
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
    case._last_event = event
    notices.case_event_notify(case, event)
    return case


def _record(case: Case, actor, note_kind: str, at: datetime, *, note: str = "", data=None):
    """A timeline entry that does not move the case (workflow.Note), with its notices."""
    event = CaseEvent.objects.create(
        case=case,
        actor=actor,
        action=note_kind,
        from_status=case.status,
        to_status=case.status,
        note=note,
        public=note_kind in PUBLIC_NOTES,
        data=data or {},
        created_at=at,
    )
    notices.case_event_notify(case, event)
    return event


def _photos_clean(photos: Sequence, field: str = "photos") -> list[CleanImage]:
    """Check every photo before anything is written, so that a bad one leaves nothing."""
    photos = [p for p in photos or () if p]
    if len(photos) > MAX_PHOTOS_PER_STEP:
        raise _field_error(field, _("At most %(n)d photos.") % {"n": MAX_PHOTOS_PER_STEP})
    return [image_clean(photo, field=field) for photo in photos]


def _photos_store(case: Case, event: CaseEvent, kind: str, cleaned: list[CleanImage], at):
    """Write checked photos to storage with their rows. Services call it as their last
    write, so that no later check can roll back rows whose files are on disk."""
    return images_store(
        cleaned,
        lambda image: CasePhoto(
            case=case,
            kind=kind,
            event=event,
            width=image.width,
            height=image.height,
            created_at=at,
        ),
        stem=f"{case.pk}-{kind}",
    )


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


def answers_clean(
    matter: Matter, answers: dict | None, *, require: bool = True
) -> tuple[dict, dict[str, list[str]]]:
    """The reporter's answers to the matter's questions, normalised, and the problems
    found, keyed "answers.<question code>". With `require` off, unanswered required
    questions are let through (an entrance that cannot ask them)."""
    answers = dict(answers or {})
    clean: dict = {}
    problems: dict[str, list[str]] = {}
    # Questions and options prefetched with the matter (selectors.matter_for_filing) are
    # used as they are; otherwise two queries.
    questions = {q.code: q for q in matter.questions.all()}
    prefetch_related_objects(list(questions.values()), "options")
    for code in answers.keys() - questions.keys():
        problems[f"answers.{code}"] = [_("This matter does not ask this question.")]
    for code, question in questions.items():
        value = answers.get(code)
        if value is None or value == "" or value == []:
            if question.required and require:
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


# SQLite transaction modes that take the write lock at BEGIN.
WRITE_LOCKING_BEGINS = frozenset({"IMMEDIATE", "EXCLUSIVE"})


def _case_id_take(using: str) -> int | None:
    """The id the next case gets, taken inside the filing's transaction before the
    insert, so that the number (year and id) goes in with the row instead of by a second
    UPDATE. None where that is not safe: the insert then picks the id and the number
    follows it."""
    connection = connections[using]
    table, column = Case._meta.db_table, Case._meta.pk.column
    if connection.vendor == "postgresql":
        # What the id column's own default calls: no two transactions get the same value.
        sql, params = "SELECT nextval(pg_get_serial_sequence(%s, %s))", [table, column]
    elif connection.vendor == "sqlite" and connection.transaction_mode in WRITE_LOCKING_BEGINS:
        # The transaction holds the write lock from BEGIN (settings: IMMEDIATE), so no
        # other case can be inserted between this read and our insert. The id is the one
        # AUTOINCREMENT would give: above every id ever used, deleted rows included.
        highest = f"SELECT max({column}) FROM {table}"  # noqa: S608 - the model's own names
        sequence = "SELECT seq FROM sqlite_sequence WHERE name = %s"
        sql = f"SELECT max(coalesce(({sequence}), 0), coalesce(({highest}), 0)) + 1"
        params = [table]
    else:
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def contact_phone_parse(raw: str) -> str | None:
    """E.164 form of a mainland number, mobile or fixed line (a 12345 caller may ring
    from either), or None."""
    try:
        number = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or number.country_code != 86:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def contact_phone_fields(raw: str) -> dict:
    """The sealed, indexed and masked forms of a caller's phone (empty when none)."""
    if not raw:
        return {
            "contact_phone_encrypted": "",
            "contact_phone_index": "",
            "contact_phone_masked": "",
        }
    return {
        "contact_phone_encrypted": encrypt(raw, context=CONTACT_PHONE_CONTEXT),
        "contact_phone_index": blind_index(raw, context=CONTACT_PHONE_CONTEXT),
        "contact_phone_masked": mask_phone(raw),
    }


def _place(lon, lat, cleaned: list[CleanImage], fields: dict):
    """The point and its grid. Without coordinates, the first photo's GPS position (read
    before its EXIF was thrown away) places the report."""
    x, y = _coordinate(lon), _coordinate(lat)
    if (lon is None or lon == "") and (lat is None or lat == ""):
        gps = next((image.gps for image in cleaned if image.gps), None)
        if gps is not None:
            x, y = gps
    if x is None or y is None:
        message = _("Give the place as longitude and latitude.")
        fields["lon"] = fields["lat"] = [message]
        return x, y, None
    if not geo.in_china(x, y):
        message = _("This point is not in China; are longitude and latitude swapped?")
        fields["lon"] = fields["lat"] = [message]
        return x, y, None
    grid = geo.locate_grid(x, y)
    if grid is None:
        message = _("This point is outside every grid of the street.")
        fields["lon"] = fields["lat"] = [message]
    return x, y, grid


def case_report(
    *,
    matter: Matter,
    description: str,
    lon: float | None,
    lat: float | None,
    source: str,
    reporter=None,
    address: str = "",
    urgency: str = Urgency.NORMAL,
    anonymous: bool = False,
    answers: dict | None = None,
    photos: Sequence = (),
    external_ref: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    entered_by=None,
    at: datetime | None = None,
) -> Case:
    """Take a report from any source into the queue: the point is placed in its grid,
    photos are checked and stored, and the case starts as reported, with a public
    "report" event. `external_ref` (a 12345 order number, a sensor alarm id) is taken in
    once per source. `entered_by` is who typed it in for someone without an account (a
    dispatcher taking a 12345 call): the timeline names them, the reporter stays empty and
    the caller hears the news by SMS."""
    now = at or timezone.now()
    fields: dict[str, list[str]] = {}
    if not matter.is_active:
        fields["matter"] = [_("This matter is no longer in use; please choose another.")]
    if anonymous and not matter.allows_anonymous:
        fields["anonymous"] = [_("This matter cannot be reported anonymously.")]
    if source not in SOURCES:
        fields["source"] = [_("Unknown source.")]
    if urgency not in URGENCIES:
        fields["urgency"] = [_("Choose normal, urgent or critical.")]
    description = (description or "").strip()
    if not description:
        fields["description"] = [_("Please describe the problem.")]
    elif len(description) > DESCRIPTION_MAX:
        fields["description"] = [_("At most %(n)d characters.") % {"n": DESCRIPTION_MAX}]
    elif markup := markup_problem(description):
        fields["description"] = [markup]
    address = (address or "").strip()
    if len(address) > ADDRESS_MAX:
        fields["address"] = [_("At most %(n)d characters.") % {"n": ADDRESS_MAX}]
    elif markup := markup_problem(address):
        fields["address"] = [markup]
    external_ref = (external_ref or "").strip()
    if len(external_ref) > EXTERNAL_REF_MAX:
        fields["external_ref"] = [_("At most %(n)d characters.") % {"n": EXTERNAL_REF_MAX}]
    elif external_ref and Case.objects.filter(source=source, external_ref=external_ref).exists():
        fields["external_ref"] = [_("This order has already been taken in.")]
    contact_name = (contact_name or "").strip()
    if len(contact_name) > CONTACT_NAME_MAX:
        fields["contact_name"] = [_("At most %(n)d characters.") % {"n": CONTACT_NAME_MAX}]
    phone = ""
    if (contact_phone or "").strip():
        phone = contact_phone_parse(contact_phone)
        if phone is None:
            fields["contact_phone"] = [_("Not a valid mainland phone number.")]
    # A 12345 order, a sensor alarm or an imported record carries no answers: its matter's
    # questions cannot have been asked, so they are not required (answers given are still
    # checked).
    clean, problems = answers_clean(matter, answers, require=source not in UNASKED_SOURCES)
    fields |= problems
    try:
        cleaned = _photos_clean(photos)
    except DomainError as problem:
        fields |= problem.fields
        cleaned = []
    x, y, grid = _place(lon, lat, cleaned, fields)
    if fields:
        raise _invalid(fields)
    case = Case(
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
        external_ref=external_ref,
        contact_name=contact_name,
        **contact_phone_fields(phone or ""),
        created_at=now,
    )
    # Everything above only reads. The writes follow in one short transaction: on SQLite
    # it holds the database's one write lock, which every other filing waits for.
    using = router.db_for_write(Case)
    with transaction.atomic(using=using):
        case.pk = _case_id_take(using)
        numbered = case.pk is not None
        # Without the id, a placeholder until the insert gives it: the number is unique.
        case.number = case_number(case) if numbered else uuid.uuid4().hex
        if external_ref:
            try:
                with transaction.atomic(using=using):
                    case.save(force_insert=True, using=using)
            except IntegrityError:
                # Two imports of the same order at the same instant: the constraint decides.
                message = _("This order has already been taken in.")
                raise _field_error("external_ref", message) from None
        else:
            case.save(force_insert=True, using=using)
        if not numbered:
            case.number = case_number(case)
            case.save(update_fields=["number"], using=using)
        event = CaseEvent.objects.using(using).create(
            case=case,
            actor=entered_by or reporter,
            action="report",
            from_status="",
            to_status=Status.REPORTED,
            public=True,
            data={"source": source},
            created_at=now,
        )
        case._last_event = event
        notices.case_event_notify(case, event)
        case._last_photos = _photos_store(case, event, PhotoKind.REPORT, cleaned, now)
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
    queued = counters.queued_since(
        case.events.filter(to_status=Status.ACCEPTED).order_by("created_at", "pk")
    )
    changes = {
        "lead_department": department,
        "urgency": urgency,
        "deadline": deadline,
        "dispatched_at": now,
        "dispatch_count": case.dispatch_count + 1,
        "dispatch_on_time_count": case.dispatch_on_time_count
        + counters.dispatch_in_time(queued, now),
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
    in_time = counters.sign_in_time(case.dispatched_at, now, case.urgency)
    changes = {"signed_at": now, "sign_on_time_count": case.sign_on_time_count + in_time}
    return _finish(case, actor, Action.SIGN, to, now, changes, note=note)


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
def case_reply(
    *, case: Case, actor, note: str, photos: Sequence = (), at: datetime | None = None
) -> Case:
    """The department reports the case handled (办结反馈), with after-photos; the note is
    the answer the reporter reads. It then waits for the on-site check."""
    case, to = _begin(case, actor, Action.REPLY)
    note = _note(note, required=True)
    cleaned = _photos_clean(photos)
    now = at or timezone.now()
    changes = {
        "replied_at": now,
        "reply_count": case.reply_count + 1,
        "was_overdue": case.was_overdue or (case.deadline is not None and now > case.deadline),
    }
    case = _finish(case, actor, Action.REPLY, to, now, changes, note=note)
    _photos_store(case, case._last_event, PhotoKind.REPLY, cleaned, now)
    return case


# --- the check, the callback and after -----------------------------------------------------------


@transaction.atomic
def case_verify(
    *,
    case: Case,
    actor,
    passed: bool,
    note: str,
    photos: Sequence = (),
    at: datetime | None = None,
) -> Case:
    """The on-site check (核查) of a replied case: a pass closes it, a fail sends it back
    to the department as rework (返工). Both need a note of what was found; a pass of a
    matter that needs a check photo needs at least one."""
    action = Action.VERIFY_PASS if passed else Action.VERIFY_FAIL
    case, to = _begin(case, actor, action)
    note = _note(note, required=True)
    cleaned = _photos_clean(photos)
    if passed and case.matter.needs_check_photo and not cleaned:
        raise _field_error(
            "photos", _("This matter needs a photo taken at the check before it can close.")
        )
    now = at or timezone.now()
    if passed:
        changes = {"verified_at": now, "closed_at": now}
    else:
        changes = {"rework_count": case.rework_count + 1}
    case = _finish(case, actor, action, to, now, changes, note=note)
    _photos_store(case, case._last_event, PhotoKind.CHECK, cleaned, now)
    return case


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
    # A handler who also reported the case would otherwise rate their own work, or their
    # own department's: the callback is the resident's or the centre's (issue 5 §3).
    if actor.pk in _replied_by(case) or (
        actor.role == "handler"
        and case.assignments.filter(department_id=actor.department_id).exists()
    ):
        raise DomainError(
            "forbidden",
            _(
                "The rating is recorded by the resident or the centre, never by a department "
                "that handled the case."
            ),
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


# --- the matter ---------------------------------------------------------------------------------

# A case's matter may be corrected while the centre has it, before a department does.
RECLASSIFY_STATUSES = frozenset({Status.REPORTED.value, Status.ACCEPTED.value})


@transaction.atomic
def case_reclassify(
    *, case: Case, actor, matter: Matter, note: str = "", at: datetime | None = None
) -> Case:
    """The centre files a case under another matter (e.g. the matter suggester's first
    choice) before dispatching it; the timeline keeps both codes. The new matter's
    questions are not asked again: the centre has no reporter to ask."""
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("grid", "matter")
        .get(pk=case.pk)
    )
    if not permissions.is_centre_for(actor, case):
        raise _forbidden()
    if case.status not in RECLASSIFY_STATUSES:
        raise DomainError(
            "invalid", _("A case's matter can be changed only before it is dispatched.")
        )
    if matter is None or not matter.is_active:
        raise _field_error("matter", _("Choose an active matter of the catalogue."))
    if matter.pk == case.matter_id:
        raise _field_error("matter", _("The case is already filed under this matter."))
    note = _note(note, required=False)
    data = {"from": case.matter.code, "to": matter.code}
    case.matter = matter
    case.save(update_fields=["matter", "updated_at"])
    _record(case, actor, Note.RECLASSIFY, at or timezone.now(), note=note, data=data)
    return case


# --- duplicates: merge and "me too" --------------------------------------------------------------


@transaction.atomic
def case_merge(
    *, case: Case, actor, into: Case, note: str = "", at: datetime | None = None
) -> Case:
    """Merge a duplicate report into the open case it repeats. The duplicate ends as
    merged; its reporter and supporters follow the case it joined and hear its outcome."""
    if into.pk == case.pk:
        raise _field_error("into", _("A case cannot be merged into itself."))
    # Lock the target first when its id is lower: two merges lock in the same order.
    if into.pk < case.pk:
        into = Case.objects.select_for_update(of=("self",)).get(pk=into.pk)
    case, to = _begin(case, actor, Action.MERGE)
    if into.pk > case.pk:
        into = Case.objects.select_for_update(of=("self",)).get(pk=into.pk)
    if not permissions.is_centre_for(actor, into):
        raise _forbidden()
    if into.status not in OPEN_STATUSES or into.status == Status.MERGED:
        raise _field_error("into", _("Merge only into a case that is still open."))
    note = _note(note, required=False)
    now = at or timezone.now()
    followers = {s.user_id for s in case.supports.all()}
    if case.reporter_id:
        followers.add(case.reporter_id)
    followers -= {into.reporter_id}
    taken = set(into.supports.values_list("user_id", flat=True))
    CaseSupport.objects.bulk_create(
        [
            CaseSupport(case=into, user_id=user_id, kind="merged", from_case=case, created_at=now)
            for user_id in sorted(followers - taken)
        ]
    )
    case = _finish(
        case,
        actor,
        Action.MERGE,
        to,
        now,
        {"merged_into": into},
        note=note,
        data={"into": into.number},
    )
    _record(into, actor, Note.MERGED_IN, now, note=note, data={"case": case.number})
    return case


def case_me_too(*, case: Case, user, at: datetime | None = None) -> tuple[CaseSupport, bool]:
    """A resident with the same problem adds their support (+1) to an open case and will
    hear its outcome. Saying it twice changes nothing; returns (support, created)."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise _forbidden()
    if case.status not in OPEN_STATUSES or case.status == Status.MERGED:
        raise DomainError("invalid", _("This case is no longer open."))
    if case.reporter_id == user.pk:
        raise DomainError("invalid", _("You reported this case yourself."))
    now = at or timezone.now()
    try:
        with transaction.atomic():
            support, created = CaseSupport.objects.get_or_create(
                case=case, user=user, defaults={"kind": "me_too", "created_at": now}
            )
    except IntegrityError:
        # Two taps at the same instant: the other one made it.
        return CaseSupport.objects.get(case=case, user=user), False
    return support, created


# --- extensions ----------------------------------------------------------------------------------


@transaction.atomic
def extension_request(
    *, case: Case, actor, amount: int, unit: str, reason: str, at: datetime | None = None
) -> Extension:
    """The lead department asks for more time, before the deadline, with its reason and
    the extra working hours or days; the centre decides."""
    case = Case.objects.select_for_update(of=("self",)).select_related("grid").get(pk=case.pk)
    if not permissions.is_lead_handler(actor, case):
        raise _forbidden()
    now = at or timezone.now()
    if case.status not in RUNNING_STATUSES or case.deadline is None:
        raise DomainError(
            "invalid", _("Only a case being worked on against a deadline can be extended.")
        )
    if case.deadline <= now:
        raise DomainError(
            "invalid", _("The deadline has passed: an extension must be asked for before it.")
        )
    if case.extensions.filter(status=Extension.Status.PENDING).exists():
        raise DomainError(
            "invalid", _("An extension for this case is already waiting for an answer.")
        )
    fields: dict[str, list[str]] = {}
    if unit not in LimitUnit.values:
        fields["unit"] = [_("Choose working hours or working days.")]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        fields["amount"] = [_("Give a whole number of at least 1.")]
    elif unit in MAX_EXTENSION and amount > MAX_EXTENSION[unit]:
        fields["amount"] = [_("At most %(n)d at a time.") % {"n": MAX_EXTENSION[unit]}]
    try:
        reason = _note(reason, required=True, field="reason")
    except DomainError as problem:
        fields |= problem.fields
    if fields:
        raise _invalid(fields)
    extension = Extension.objects.create(
        case=case,
        department=case.lead_department,
        requested_by=actor,
        reason=reason,
        amount=amount,
        unit=unit,
        old_deadline=case.deadline,
        new_deadline=workcal.deadline(case.deadline, amount, unit),
        created_at=now,
    )
    data = {"extension": extension.pk, "new_deadline": extension.new_deadline.isoformat()}
    _record(case, actor, Note.EXTENSION_REQUEST, now, note=reason, data=data)
    return extension


def _extension_current(case: Case, extension: Extension) -> bool:
    """Whether a request still fits the case: worked on against the deadline it extends,
    in the same round. A send-back (or park, or reopen) and a new dispatch may land on the
    same deadline, even with another department, so the round is told by the timeline."""
    if case.status not in RUNNING_STATUSES or case.deadline != extension.old_deadline:
        return False
    asked = (
        case.events.filter(action=Note.EXTENSION_REQUEST, data__extension=extension.pk)
        .values_list("pk", flat=True)
        .first()
    )
    restarted = case.events.filter(action__in=[Action.DISPATCH, Action.REOPEN], pk__gt=asked or 0)
    return asked is not None and not restarted.exists()


@transaction.atomic
def extension_decide(
    *, extension: Extension, actor, approve: bool, note: str = "", at: datetime | None = None
) -> Extension:
    """The centre approves an extension (the deadline moves and the reporter is told) or
    refuses it with a reason."""
    extension = Extension.objects.select_for_update().get(pk=extension.pk)
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("grid")
        .get(pk=extension.case_id)
    )
    if not permissions.is_centre_for(actor, case):
        raise _forbidden()
    if extension.status != Extension.Status.PENDING:
        raise DomainError("invalid", _("This extension has already been answered."))
    if not isinstance(approve, bool):
        raise _field_error("approve", _("Say whether the extension is approved."))
    note = _note(note, required=not approve)
    if approve and not _extension_current(case, extension):
        raise DomainError(
            "invalid", _("The case has moved on since the request; it can only be refused.")
        )
    now = at or timezone.now()
    extension.status = Extension.Status.APPROVED if approve else Extension.Status.REFUSED
    extension.decided_by = actor
    extension.decided_at = now
    extension.decision_note = note
    extension.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    data = {"extension": extension.pk}
    if approve:
        case.deadline = extension.new_deadline
        case.save(update_fields=["deadline", "updated_at"])
        data["deadline"] = extension.new_deadline.isoformat()
        _record(case, actor, Note.EXTENSION_APPROVE, now, note=note, data=data)
    else:
        _record(case, actor, Note.EXTENSION_REFUSE, now, note=note, data=data)
    return extension


# --- supervision ---------------------------------------------------------------------------------


@transaction.atomic
def case_urge(*, case: Case, actor, note: str = "", at: datetime | None = None) -> CaseEvent:
    """催办: the centre presses the department on a case it is working on."""
    case = Case.objects.select_for_update(of=("self",)).select_related("grid").get(pk=case.pk)
    if not permissions.is_centre_for(actor, case):
        raise _forbidden()
    if case.status not in RUNNING_STATUSES:
        raise DomainError("invalid", _("Only a case a department is working on can be urged."))
    note = _note(note, required=False)
    return _record(case, actor, Note.URGE, at or timezone.now(), note=note)


def sla_sweep(*, at: datetime | None = None) -> dict[str, int]:
    """One pass of supervision over the cases departments are working on (standards §2.4):
    a reminder when the deadline is at most REMIND_WORKING_HOURS working hours away, a
    notice once it has passed, an escalation to the leaders after ESCALATE_WORKING_DAYS
    working days overdue. Idempotent: each step is taken once per case and deadline, so a
    second sweep adds nothing. Returns how many of each it took."""
    now = at or timezone.now()
    taken = {"remind": 0, "supervise": 0, "escalate": 0}
    running = Case.objects.filter(status__in=sorted(RUNNING_STATUSES), deadline__isnull=False)

    def without(kind):
        done = CaseAlert.objects.filter(
            case=models.OuterRef("pk"), kind=kind, deadline=models.OuterRef("deadline")
        )
        return running.exclude(models.Exists(done)).order_by("deadline", "pk")

    # Calendar bounds first (indexed on deadline), the working-time rule on what is left:
    # REMIND_WORKING_HOURS of office time never span more than a long holiday.
    soon = without("remind").filter(deadline__gt=now, deadline__lte=now + timedelta(days=10))
    found = []
    for case_id, deadline in soon.values_list("pk", "deadline").iterator():
        left = workcal.working_hours_between(now, deadline)
        if left <= REMIND_WORKING_HOURS:
            found.append((case_id, deadline, {"working_hours_left": round(left, 1)}))
    taken["remind"] += _alerts("remind", found, now)
    found = [
        (case_id, deadline, {})
        for case_id, deadline in without("supervise")
        .filter(deadline__lte=now)
        .values_list("pk", "deadline")
        .iterator()
    ]
    taken["supervise"] += _alerts("supervise", found, now)
    # Working days are counted by date: the fifth can begin four days and some hours after
    # the deadline (a Sunday make-up day due at 17:30, then Monday to Friday), so the
    # calendar bound keeps one day less.
    late = without("escalate").filter(deadline__lt=now - timedelta(days=ESCALATE_WORKING_DAYS - 1))
    found = []
    for case_id, deadline in late.values_list("pk", "deadline").iterator():
        overdue = workcal.working_days_between(deadline, now)
        if overdue >= ESCALATE_WORKING_DAYS:
            found.append((case_id, deadline, {"working_days_overdue": overdue}))
    taken["escalate"] += _alerts("escalate", found, now)
    return taken


ALERT_BATCH = 500


def _alerts(kind: str, found: list, now: datetime) -> int:
    """Take one supervision step on each of `found` ((case id, deadline, data), in order),
    once per (case, kind, deadline), skipping cases no longer running or whose deadline
    moved. ALERT_BATCH cases to a transaction: the cases locked, the alerts not yet taken
    inserted in one statement, the newly overdue cases marked in one, their timeline
    entries in one, their notices in one. Returns how many steps were taken."""
    note_kind = {"remind": Note.REMIND, "supervise": Note.SUPERVISE, "escalate": Note.ESCALATE}
    taken = 0
    for start in range(0, len(found), ALERT_BATCH):
        chunk = found[start : start + ALERT_BATCH]
        with transaction.atomic():
            locked = (
                Case.objects.select_for_update(of=("self",))
                .select_related("grid", "matter", "lead_department")
                .filter(pk__in=[case_id for case_id, _deadline, _data in chunk])
                .order_by("pk")
                .in_bulk()
            )
            done = set(
                CaseAlert.objects.filter(case_id__in=list(locked), kind=kind).values_list(
                    "case_id", "deadline"
                )
            )
            new = []
            for case_id, deadline, data in chunk:
                case = locked.get(case_id)
                if (
                    case is not None
                    and case.status in RUNNING_STATUSES
                    and case.deadline == deadline
                    and (case_id, deadline) not in done
                ):
                    new.append((case, data))
            CaseAlert.objects.bulk_create(
                [
                    CaseAlert(case=case, kind=kind, deadline=case.deadline, created_at=now)
                    for case, _data in new
                ]
            )
            if kind == "supervise":
                late = [case for case, _data in new if not case.was_overdue]
                # What Case.save does: the KPI rollups fold the change (tally_dirty).
                Case.objects.filter(pk__in=[case.pk for case in late]).update(
                    was_overdue=True, tally_dirty=True, updated_at=timezone.now()
                )
                for case in late:
                    case.was_overdue = True
            # _record for each, with the timeline entries inserted in one statement.
            events = CaseEvent.objects.bulk_create(
                [
                    CaseEvent(
                        case=case,
                        action=note_kind[kind],
                        from_status=case.status,
                        to_status=case.status,
                        public=note_kind[kind] in PUBLIC_NOTES,
                        data=data,
                        created_at=now,
                    )
                    for case, data in new
                ]
            )
            notices.sweep_notify(
                kind, [(case, event) for (case, _data), event in zip(new, events, strict=True)]
            )
        taken += len(new)
    return taken


# --- the whistle (吹哨报到) ---------------------------------------------------------------------


@transaction.atomic
def whistle_blow(
    *, case: Case, actor, departments: Iterable, note: str, at: datetime | None = None
) -> Whistle:
    """The street summons departments to a joint case. They join it as co-handlers (the
    lead stays) and each one's reporting in is timed."""
    case = Case.objects.select_for_update(of=("self",)).select_related("grid").get(pk=case.pk)
    if not permissions.is_centre_for(actor, case):
        raise _forbidden()
    if case.status not in OPEN_STATUSES or case.status in (Status.REPORTED, Status.MERGED):
        raise DomainError("invalid", _("Blow the whistle on an accepted case that is still open."))
    summoned = []
    for department in departments:
        if department.is_active and department not in summoned:
            summoned.append(department)
    fields: dict[str, list[str]] = {}
    if not summoned:
        fields["departments"] = [_("Choose the departments to summon.")]
    try:
        note = _note(note, required=True)
    except DomainError as problem:
        fields |= problem.fields
    if fields:
        raise _invalid(fields)
    now = at or timezone.now()
    whistle = Whistle.objects.create(case=case, called_by=actor, note=note, created_at=now)
    WhistleCall.objects.bulk_create([WhistleCall(whistle=whistle, department=d) for d in summoned])
    if case.lead_department_id is not None:
        present = set(case.assignments.values_list("department_id", flat=True))
        CaseAssignment.objects.bulk_create(
            [
                CaseAssignment(case=case, department=d, role="co_handler", created_at=now)
                for d in summoned
                if d.pk not in present
            ]
        )
    data = {"whistle": whistle.pk, "departments": [d.code for d in summoned]}
    _record(case, actor, Note.WHISTLE, now, note=note, data=data)
    return whistle


@transaction.atomic
def whistle_report_in(
    *, call: WhistleCall, actor, note: str = "", at: datetime | None = None
) -> WhistleCall:
    """A summoned department reports in (报到); the time from the whistle is recorded."""
    call = (
        WhistleCall.objects.select_for_update(of=("self",))
        .select_related("whistle")
        .get(pk=call.pk)
    )
    if not (
        actor is not None
        and actor.is_authenticated
        and actor.is_active
        and actor.role == "handler"
        and actor.department_id == call.department_id
    ):
        raise _forbidden()
    if call.reported_at is not None:
        raise DomainError("invalid", _("Your department has already reported in."))
    note = _note(note, required=False)
    now = at or timezone.now()
    call.reported_at = now
    call.reported_by = actor
    call.note = note
    call.save(update_fields=["reported_at", "reported_by", "note"])
    case = Case.objects.select_related("grid").get(pk=call.whistle.case_id)
    minutes = int((now - call.whistle.created_at).total_seconds() // 60)
    data = {"whistle": call.whistle_id, "department": call.department.code, "minutes": minutes}
    _record(case, actor, Note.REPORT_IN, now, note=note, data=data)
    return call
