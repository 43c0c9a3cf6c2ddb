"""Writes for the register. Each service checks the actor's scope, validates with
linli.people.validation, encrypts personal data, and records what it did.

Personal data never appears in an audit detail or an error message: only masked forms.
"""

import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.areas.models import Area, Building
from linli.core.audit import audit_record, client_ip
from linli.core.crypto import blind_index, decrypt, encrypt, mask_id_number, mask_phone
from linli.core.errors import DomainError
from linli.core.images import image_clean, images_store
from linli.people import permissions
from linli.people.models import (
    ETHNICITIES,
    ID_NUMBER_CONTEXT,
    PHONE_CONTEXT,
    PROPOSED_PHONE_CONTEXT,
    AccessLog,
    CorrectionRequest,
    Household,
    Resident,
    ResidentTag,
    Tag,
    Talent,
    Visit,
    VisitPhoto,
)
from linli.people.validation import FieldProblem, check_agrees_with_id, check_id_number, check_phone

MAX_PHOTOS_PER_VISIT = 6
REASON_MIN_CHARS = 2


def _error(problem: FieldProblem) -> DomainError:
    return DomainError("invalid", problem.message, {problem.field: [problem.message]})


def _denied() -> DomainError:
    return DomainError("forbidden", _("This is outside your area."))


# --- personal data -------------------------------------------------------------------------


def id_number_fields(raw: str, *, checked: bool = False) -> dict:
    """The stored forms of an ID number; raises FieldProblem when it is not valid.
    `checked`: `raw` is already the compact number returned by check_id_number."""
    number = raw if checked else check_id_number(raw).number
    return {
        "id_number_encrypted": encrypt(number, context=ID_NUMBER_CONTEXT),
        "id_number_index": blind_index(number, context=ID_NUMBER_CONTEXT),
        "id_number_masked": mask_id_number(number),
    }


def phone_fields(raw: str) -> dict:
    if not raw:
        return {"phone_encrypted": "", "phone_index": "", "phone_masked": ""}
    e164 = check_phone(raw)
    return {
        "phone_encrypted": encrypt(e164, context=PHONE_CONTEXT),
        "phone_index": blind_index(e164, context=PHONE_CONTEXT),
        "phone_masked": mask_phone(e164),
    }


def resident_values(
    *,
    name: str,
    id_number: str = "",
    birth_date: date | None = None,
    gender: str = "",
    phone: str = "",
    ethnicity: str = "",
    relation: str = "",
    moved_in_on: date | None = None,
) -> dict:
    """Check one person's fields and return the model values (encrypted, masked, with
    birth date and gender taken from the ID number). Raises FieldProblem on the first
    problem; the Excel import calls it once per row."""
    name = (name or "").strip()
    if not name:
        raise FieldProblem("name", _("A name is required."))
    if len(name) > 50:
        raise FieldProblem("name", _("A name has at most 50 characters."))
    values: dict = {"name": name}
    if id_number:
        parsed = check_id_number(id_number)
        check_agrees_with_id(parsed, birth_date=birth_date, gender=gender or None)
        values |= id_number_fields(parsed.number, checked=True)
        values |= {"birth_date": parsed.birth_date, "gender": parsed.gender}
    else:
        if birth_date is None:
            raise FieldProblem("birth_date", _("Without an ID number the date of birth is needed."))
        if gender not in Resident.Gender.values:
            raise FieldProblem("gender", _("Without an ID number the gender is needed."))
        if birth_date > timezone.localdate():
            raise FieldProblem("birth_date", _("The date of birth is in the future."))
        values |= {"birth_date": birth_date, "gender": gender}
    values |= phone_fields(phone)
    if ethnicity and ethnicity not in ETHNICITIES:
        raise FieldProblem("ethnicity", _("Not one of the 56 ethnic groups (e.g. 汉族)."))
    values["ethnicity"] = ethnicity or "汉族"
    if relation not in Resident.Relation.values:
        raise FieldProblem("relation", _("Choose the relation to the head of household."))
    values["relation"] = relation
    if moved_in_on is not None:
        if moved_in_on > timezone.localdate():
            raise FieldProblem("moved_in_on", _("The move-in date is in the future."))
        if moved_in_on < values["birth_date"]:
            raise FieldProblem("moved_in_on", _("The move-in date is before the date of birth."))
    values["moved_in_on"] = moved_in_on
    return values


def _duplicate_id(index: str, *, exclude: int | None = None) -> bool:
    rows = Resident.objects.filter(id_number_index=index)
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return rows.exists()


def _duplicate_error() -> DomainError:
    # Says only that the number is taken, not where: the other entry may be in a grid the
    # actor may not see.
    message = _("This ID number is already in the register.")
    return DomainError("duplicate", message, {"id_number": [message]})


# --- households ----------------------------------------------------------------------------


def household_number_new(grid: Area) -> str:
    """A household number: the grid code and a random suffix (unguessable, never reused)."""
    return f"{grid.code}-{secrets.token_hex(3).upper()}"


def building_fits(grid: Area, building: Building) -> bool:
    """A household in `grid` may name a building of the grid, of one of its micro-grids,
    or (for a household put in a micro-grid) of the micro-grid's grid."""
    return grid.pk in (building.grid_id, building.grid.parent_id) or (
        building.grid_id == grid.parent_id
    )


def _check_place(actor, grid: Area, building: Building | None) -> None:
    if grid.level not in (Area.Level.GRID, Area.Level.MICROGRID):
        raise DomainError("invalid", _("Choose a grid."), {"grid": [_("Choose a grid.")]})
    if not permissions.may_edit_area(actor, grid):
        raise _denied()
    if building is not None and not building_fits(grid, building):
        message = _("The building is not in this grid.")
        raise DomainError("invalid", message, {"building": [message]})


@transaction.atomic
def household_create(
    *,
    actor,
    grid: Area,
    address: str,
    tenure: str,
    registration: str,
    building: Building | None = None,
    unit: str = "",
    room: str = "",
    note: str = "",
    number: str = "",
    request=None,
) -> Household:
    """Add a household in a grid the actor may edit."""
    _check_place(actor, grid, building)
    fields: dict[str, list[str]] = {}
    if not address.strip():
        fields["address"] = [_("An address is required.")]
    if tenure not in Household.Tenure.values:
        fields["tenure"] = [_("Choose owned, rented or collective.")]
    if registration not in Household.Registration.values:
        fields["registration"] = [_("Choose registered or migrant.")]
    if number and Household.objects.filter(number=number).exists():
        fields["number"] = [_("This household number is taken.")]
    if fields:
        raise DomainError("invalid", _("Please correct the marked fields."), fields)
    household = Household.objects.create(
        number=number or household_number_new(grid),
        grid=grid,
        building=building,
        address=address.strip(),
        unit=unit.strip(),
        room=room.strip(),
        tenure=tenure,
        registration=registration,
        note=note,
    )
    audit_record(action="household.create", actor=actor, target=household, request=request)
    return household


HOUSEHOLD_FIELDS = {"address", "unit", "room", "tenure", "registration", "note", "is_active"}


@transaction.atomic
def household_update(
    *, household: Household, actor, grid: Area | None = None, building=None, request=None, **changes
) -> Household:
    """Change a household's address, tenure, registration or note, or move it to another
    grid the actor may edit (its residents move with it)."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    if not permissions.may_edit_area(actor, household.grid):
        raise _denied()
    unknown = set(changes) - HOUSEHOLD_FIELDS
    if unknown:
        raise DomainError("invalid", _("These fields cannot be changed: %(f)s") % {"f": unknown})
    if grid is not None or building is not None:
        target = grid or household.grid
        _check_place(actor, target, building if building is not None else household.building)
        household.grid = target
        if building is not None:
            household.building = building
    if "tenure" in changes and changes["tenure"] not in Household.Tenure.values:
        raise DomainError(
            "invalid",
            _("Choose owned, rented or collective."),
            {"tenure": [_("Choose owned, rented or collective.")]},
        )
    if "registration" in changes and changes["registration"] not in Household.Registration.values:
        raise DomainError(
            "invalid",
            _("Choose registered or migrant."),
            {"registration": [_("Choose registered or migrant.")]},
        )
    if "address" in changes and not str(changes["address"]).strip():
        raise DomainError(
            "invalid", _("An address is required."), {"address": [_("An address is required.")]}
        )
    for name, value in changes.items():
        setattr(household, name, value.strip() if isinstance(value, str) else value)
    household.save()
    audit_record(
        action="household.update",
        actor=actor,
        target=household,
        request=request,
        detail={"fields": sorted([*changes, *(["grid"] if grid else [])])},
    )
    return household


# --- residents -----------------------------------------------------------------------------


@transaction.atomic
def resident_create(
    *,
    actor,
    household: Household,
    name: str,
    relation: str,
    id_number: str = "",
    birth_date: date | None = None,
    gender: str = "",
    phone: str = "",
    ethnicity: str = "",
    moved_in_on: date | None = None,
    request=None,
) -> Resident:
    """Register a person in a household of the actor's scope. Birth date and gender come
    from the ID number when there is one, and must agree with it when given too."""
    if not permissions.may_edit_area(actor, household.grid):
        raise _denied()
    try:
        values = resident_values(
            name=name,
            id_number=id_number,
            birth_date=birth_date,
            gender=gender,
            phone=phone,
            ethnicity=ethnicity,
            relation=relation,
            moved_in_on=moved_in_on,
        )
    except FieldProblem as problem:
        raise _error(problem) from None
    if values.get("id_number_index") and _duplicate_id(values["id_number_index"]):
        raise _duplicate_error()
    try:
        with transaction.atomic():
            resident = Resident.objects.create(household=household, **values)
    except IntegrityError:
        # Two clerks registering the same person at once: the unique index decides.
        raise _duplicate_error() from None
    audit_record(action="resident.create", actor=actor, target=resident, request=request)
    return resident


RESIDENT_FIELDS = {
    "name",
    "id_number",
    "birth_date",
    "gender",
    "phone",
    "ethnicity",
    "relation",
    "moved_in_on",
}


@transaction.atomic
def resident_update(*, resident: Resident, actor, request=None, **changes) -> Resident:
    """Change a person's fields; an ID number or phone given in full replaces the stored
    one (an empty phone removes it). Fields not given stay as they are."""
    resident = (
        Resident.objects.select_for_update().select_related("household__grid").get(pk=resident.pk)
    )
    if not permissions.may_edit_area(actor, resident.household.grid):
        raise _denied()
    unknown = set(changes) - RESIDENT_FIELDS
    if unknown:
        raise DomainError("invalid", _("These fields cannot be changed: %(f)s") % {"f": unknown})
    current_id = (
        decrypt(resident.id_number_encrypted, context=ID_NUMBER_CONTEXT)
        if resident.id_number_encrypted
        else ""
    )
    current_phone = (
        decrypt(resident.phone_encrypted, context=PHONE_CONTEXT) if resident.phone_encrypted else ""
    )
    id_number = changes.get("id_number", current_id)
    merged = {
        "name": changes.get("name", resident.name),
        "id_number": id_number,
        # With an ID number, birth date and gender follow it unless explicitly given.
        "birth_date": changes.get("birth_date", None if id_number else resident.birth_date),
        "gender": changes.get("gender", "" if id_number else resident.gender),
        "phone": changes.get("phone", current_phone),
        "ethnicity": changes.get("ethnicity", resident.ethnicity),
        "relation": changes.get("relation", resident.relation),
        "moved_in_on": changes.get("moved_in_on", resident.moved_in_on),
    }
    try:
        values = resident_values(**merged)
    except FieldProblem as problem:
        raise _error(problem) from None
    if not id_number:
        values |= {"id_number_encrypted": "", "id_number_index": "", "id_number_masked": ""}
    if values.get("id_number_index") and _duplicate_id(
        values["id_number_index"], exclude=resident.pk
    ):
        raise _duplicate_error()
    # Re-encrypting an unchanged value would only churn ciphertexts; keep the stored ones.
    if id_number == current_id and current_id:
        for key in ("id_number_encrypted", "id_number_index", "id_number_masked"):
            values.pop(key)
    new_phone = check_phone(merged["phone"]) if merged["phone"] else ""
    if new_phone == current_phone:
        for key in ("phone_encrypted", "phone_index", "phone_masked"):
            values.pop(key, None)
    for key, value in values.items():
        setattr(resident, key, value)
    resident.save()
    audit_record(
        action="resident.update",
        actor=actor,
        target=resident,
        request=request,
        detail={"fields": sorted(changes)},
    )
    return resident


@transaction.atomic
def resident_move_out(
    *, resident: Resident, actor, on: date | None = None, reason: str = "", request=None
) -> Resident:
    """Record that a person left the household (moved away, died…). They stay in the
    register, marked, so that history and visits remain explainable."""
    resident = (
        Resident.objects.select_for_update().select_related("household__grid").get(pk=resident.pk)
    )
    if not permissions.may_edit_area(actor, resident.household.grid):
        raise _denied()
    on = on or timezone.localdate()
    if resident.moved_out_on is not None:
        raise DomainError("invalid", _("This person has already moved out."))
    if on > timezone.localdate():
        message = _("The move-out date is in the future.")
        raise DomainError("invalid", message, {"on": [message]})
    if resident.moved_in_on and on < resident.moved_in_on:
        message = _("The move-out date is before the move-in date.")
        raise DomainError("invalid", message, {"on": [message]})
    resident.moved_out_on = on
    resident.moved_out_reason = reason.strip()[:100]
    resident.next_visit_due = None
    resident.save(
        update_fields=["moved_out_on", "moved_out_reason", "next_visit_due", "updated_at"]
    )
    audit_record(action="resident.move_out", actor=actor, target=resident, request=request)
    return resident


@transaction.atomic
def resident_move_to(
    *, resident: Resident, household: Household, actor, relation: str, request=None
) -> Resident:
    """Move a person to another household (both in the actor's scope)."""
    resident = (
        Resident.objects.select_for_update().select_related("household__grid").get(pk=resident.pk)
    )
    if not permissions.may_edit_area(actor, resident.household.grid):
        raise _denied()
    if not permissions.may_edit_area(actor, household.grid):
        raise _denied()
    if relation not in Resident.Relation.values:
        message = _("Choose the relation to the head of household.")
        raise DomainError("invalid", message, {"relation": [message]})
    resident.household = household
    resident.relation = relation
    resident.save(update_fields=["household", "relation", "updated_at"])
    audit_record(action="resident.move_to", actor=actor, target=resident, request=request)
    return resident


@transaction.atomic
def resident_link_user(*, resident: Resident, user, actor=None, request=None) -> Resident:
    """Link a resident's account to their register entry, so that they see their own
    household (PIPL Art. 44). `actor` None: the system (sign-up by a matching phone)."""
    if actor is not None and not permissions.may_edit_area(actor, resident.household.grid):
        raise _denied()
    if user is None or user.role != "resident":
        message = _("No resident account has this username or mobile number.")
        raise DomainError("invalid", message, {"login": [message]})
    if Resident.objects.filter(user=user).exclude(pk=resident.pk).exists():
        message = _("This account is already linked to another person.")
        raise DomainError("invalid", message, {"login": [message]})
    resident.user = user
    resident.save(update_fields=["user", "updated_at"])
    audit_record(
        action="resident.link_user",
        actor=actor,
        actor_label="" if actor else "system",
        target=resident,
        request=request,
        detail={"user": user.pk},
    )
    return resident


@transaction.atomic
def resident_unlink_user(*, resident: Resident, actor, request=None) -> Resident:
    if not permissions.may_edit_area(actor, resident.household.grid):
        raise _denied()
    if resident.user_id is None:
        raise DomainError("invalid", _("No account is linked to this person."))
    previous = resident.user_id
    resident.user = None
    resident.save(update_fields=["user", "updated_at"])
    audit_record(
        action="resident.unlink_user",
        actor=actor,
        target=resident,
        request=request,
        detail={"user": previous},
    )
    return resident


def resident_link_on_signup(*, user, phone_e164: str) -> Resident | None:
    """Link a new resident account to the one register entry with the same mobile number,
    if there is exactly one, still living here and not linked yet. The number was just
    proven by an SMS code. A number shared by several people links no one: their grid
    worker links the right person by hand."""
    index = blind_index(phone_e164, context=PHONE_CONTEXT)
    matches = list(
        Resident.objects.select_related("household__grid").filter(
            phone_index=index, user__isnull=True, moved_out_on__isnull=True
        )[:2]
    )
    if len(matches) != 1:
        return None
    return resident_link_user(resident=matches[0], user=user)


# --- reveal and the access log -------------------------------------------------------------


def _log_access(
    *, viewer, resident: Resident | None, field: str, reason: str, request=None, rows=1, detail=None
) -> AccessLog:
    agent = request.META.get("HTTP_USER_AGENT", "")[:200] if request is not None else ""
    entry = AccessLog.objects.create(
        viewer=viewer,
        resident=resident,
        field=field,
        reason=reason,
        rows=rows,
        detail=detail or {},
        ip=client_ip(request),
        user_agent=agent,
    )
    # The audit chain makes the access log tamper-evident too.
    audit_record(
        action=f"people.access.{field}",
        actor=viewer,
        target=resident,
        request=request,
        detail={"reason": reason, "rows": rows, "access_log": entry.pk},
    )
    return entry


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN_CHARS:
        message = _("Say why you need to see this (at least %(n)d characters).") % {
            "n": REASON_MIN_CHARS
        }
        raise DomainError("reason_required", message, {"reason": [message]})
    return reason[:200]


REVEALABLE = {
    AccessLog.Field.ID_NUMBER: ("id_number_encrypted", ID_NUMBER_CONTEXT),
    AccessLog.Field.PHONE: ("phone_encrypted", PHONE_CONTEXT),
}


def resident_reveal(*, resident: Resident, viewer, field: str, reason: str, request=None) -> str:
    """The full ID number, phone or address of a person the viewer may see, for a stated
    reason; every call writes an access-log row. `resident` must come from a scoped
    selector, and the scope is checked again here. More than LINLI_REVEALS_PER_HOUR
    reveals in an hour are refused, and the refusal is audited: a grid worker calls a
    few people a day, a script copying a grid calls hundreds."""
    since = timezone.now() - timedelta(hours=1)
    recent = AccessLog.objects.filter(
        viewer=viewer, created_at__gte=since, resident__isnull=False
    ).count()
    if recent >= settings.LINLI_REVEALS_PER_HOUR:
        audit_record(
            action="people.access.refused",
            actor=viewer,
            target=resident,
            success=False,
            request=request,
            detail={"field": field, "reveals_last_hour": recent},
        )
        raise DomainError(
            "rate_limited",
            _("You have seen %(n)d full values in the last hour; wait before seeing more.")
            % {"n": recent},
        )
    return _reveal(resident=resident, viewer=viewer, field=field, reason=reason, request=request)


@transaction.atomic
def _reveal(*, resident: Resident, viewer, field: str, reason: str, request=None) -> str:
    if not permissions.may_reveal(viewer):
        raise DomainError("forbidden", _("Your role may not see personal data in full."))
    if not permissions.may_edit_area(viewer, resident.household.grid):
        raise _denied()
    reason = _check_reason(reason)
    if field == AccessLog.Field.ADDRESS:
        value = resident.household.address_full
    elif field in REVEALABLE:
        column, context = REVEALABLE[field]
        token = getattr(resident, column)
        if not token:
            raise DomainError("empty", _("Nothing is recorded for this field."))
        value = decrypt(token, context=context)
        if field == AccessLog.Field.PHONE and value.startswith("+86"):
            value = value[3:]
    else:
        raise DomainError("invalid", _("This field cannot be revealed."), {"field": [field]})
    _log_access(viewer=viewer, resident=resident, field=field, reason=reason, request=request)
    return value


def export_logged(
    *, viewer, full: bool, rows: int, reason: str = "", filters: dict | None = None, request=None
) -> AccessLog:
    """Record an export of `rows` people (standards §4.3: every export is logged); a full
    export needs the right and a reason."""
    if full:
        if not permissions.may_export_full(viewer):
            raise DomainError("forbidden", _("Your role may not export the register unmasked."))
        reason = _check_reason(reason)
    return _log_access(
        viewer=viewer,
        resident=None,
        field=AccessLog.Field.EXPORT_FULL if full else AccessLog.Field.EXPORT_MASKED,
        reason=reason or _("masked export"),
        rows=rows,
        detail={"filters": filters or {}},
        request=request,
    )


# --- tags and visits -----------------------------------------------------------------------


def visit_due_compute_many(resident_ids) -> dict[int, date | None]:
    """When each person's next visit is due: the last visit (or, never visited, the
    earliest tag's start) plus the shortest interval among the person's active tags that
    need visits; None for people who need none or have moved out. Two grouped queries per
    2,000 people, whatever their number of tags and visits."""
    ids = list(resident_ids)
    due: dict[int, date | None] = dict.fromkeys(ids)
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        needs = (
            ResidentTag.objects.filter(
                resident_id__in=chunk,
                resident__moved_out_on__isnull=True,
                tag__is_active=True,
                tag__visit_interval_days__isnull=False,
            )
            .values("resident_id")
            .annotate(days=Min("tag__visit_interval_days"), since=Min("since"))
            .order_by()
        )
        last_visits = dict(
            Visit.objects.filter(resident_id__in=chunk)
            .values("resident_id")
            .annotate(last=Max("visited_at"))
            .order_by()
            .values_list("resident_id", "last")
        )
        for row in needs:
            last = last_visits.get(row["resident_id"])
            start_day = timezone.localdate(last) if last else row["since"]
            due[row["resident_id"]] = start_day + timedelta(days=row["days"])
    return due


def visit_due_compute(resident: Resident) -> date | None:
    return visit_due_compute_many([resident.pk])[resident.pk]


def visit_due_refresh_many(resident_ids, *, check_only: bool = False) -> list[int]:
    """Recompute next_visit_due for these people (after a tag's interval changed, or to
    repair) and store what differs; returns the ids whose stored date was wrong."""
    ids = list(resident_ids)
    stale: list[int] = []
    for start in range(0, len(ids), 2000):
        due = visit_due_compute_many(ids[start : start + 2000])
        stored = Resident.objects.filter(pk__in=list(due)).values_list("pk", "next_visit_due")
        for pk, value in stored:
            if value == due[pk]:
                continue
            stale.append(pk)
            if not check_only:
                # Conditional on the value read: if a visit was recorded meanwhile, the
                # service has already written the newer date and this row is left alone.
                Resident.objects.filter(pk=pk, next_visit_due=value).update(next_visit_due=due[pk])
    return stale


def visit_due_refresh(resident: Resident) -> Resident:
    due = visit_due_compute(resident)
    if due != resident.next_visit_due:
        resident.next_visit_due = due
        Resident.objects.filter(pk=resident.pk).update(next_visit_due=due)
    return resident


@transaction.atomic
def resident_tag_add(
    *,
    resident: Resident,
    tag: Tag,
    actor,
    grade: str = "",
    note: str = "",
    since: date | None = None,
    request=None,
) -> ResidentTag:
    if not permissions.may_edit_area(actor, resident.household.grid):
        raise _denied()
    if tag.is_sensitive and not permissions.may_see_sensitive(actor):
        raise DomainError("forbidden", _("Only designated users may set a sensitive tag."))
    if not tag.is_active:
        raise DomainError("invalid", _("This tag is no longer in use."))
    if tag.has_grade and not grade.strip():
        message = _("This tag needs a grade.")
        raise DomainError("invalid", message, {"grade": [message]})
    link, created = ResidentTag.objects.get_or_create(
        resident=resident,
        tag=tag,
        defaults={
            "grade": grade.strip(),
            "note": note.strip(),
            "since": since or timezone.localdate(),
            "added_by": actor,
        },
    )
    if not created:
        raise DomainError("duplicate", _("This person already has this tag."))
    visit_due_refresh(resident)
    audit_record(
        action="resident.tag_add",
        actor=actor,
        target=resident,
        request=request,
        detail={"tag": tag.code},
    )
    return link


@transaction.atomic
def resident_tag_remove(*, resident: Resident, tag: Tag, actor, request=None) -> None:
    if not permissions.may_edit_area(actor, resident.household.grid):
        raise _denied()
    if tag.is_sensitive and not permissions.may_see_sensitive(actor):
        raise DomainError("forbidden", _("Only designated users may remove a sensitive tag."))
    deleted, _rows = ResidentTag.objects.filter(resident=resident, tag=tag).delete()
    if not deleted:
        raise DomainError("not_found", _("This person does not have this tag."))
    visit_due_refresh(resident)
    audit_record(
        action="resident.tag_remove",
        actor=actor,
        target=resident,
        request=request,
        detail={"tag": tag.code},
    )


@transaction.atomic
def visit_create(
    *,
    resident: Resident,
    visitor,
    method: str,
    findings: str,
    visited_at: datetime | None = None,
    follow_up_needed: bool = False,
    follow_up_note: str = "",
    photos=(),
    request=None,
) -> Visit:
    """Record a visit to a person in the visitor's scope, with up to six photos (each
    re-encoded without metadata); moves the person's next visit date on."""
    if not permissions.may_edit_area(visitor, resident.household.grid):
        raise _denied()
    fields: dict[str, list[str]] = {}
    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + timedelta(minutes=5):
        fields["visited_at"] = [_("The visit cannot be in the future.")]
    if visited_at < now - timedelta(days=90):
        fields["visited_at"] = [_("Visits older than 90 days cannot be entered.")]
    if method not in Visit.Method.values:
        fields["method"] = [_("Choose how the visit happened.")]
    if not (findings or "").strip():
        fields["findings"] = [_("Write down what you found.")]
    elif len(findings) > 2000:
        fields["findings"] = [_("At most 2,000 characters.")]
    if follow_up_needed and not follow_up_note.strip():
        fields["follow_up_note"] = [_("Say what follow-up is needed.")]
    if len(photos) > MAX_PHOTOS_PER_VISIT:
        fields["photos"] = [_("At most %(n)d photos.") % {"n": MAX_PHOTOS_PER_VISIT}]
    if resident.moved_out_on is not None:
        fields["resident"] = [_("This person has moved out.")]
    if fields:
        raise DomainError("invalid", _("Please correct the marked fields."), fields)
    # Photos are checked before anything is written, so a bad one leaves nothing behind.
    cleaned = [image_clean(photo, field="photos") for photo in photos]
    visit = Visit.objects.create(
        resident=resident,
        visitor=visitor,
        visited_at=visited_at,
        method=method,
        findings=findings.strip(),
        follow_up_needed=follow_up_needed,
        follow_up_note=follow_up_note.strip(),
    )
    images_store(
        cleaned,
        lambda image: VisitPhoto(visit=visit, width=image.width, height=image.height),
        stem=str(visit.pk),
    )
    visit_due_refresh(resident)
    audit_record(action="visit.create", actor=visitor, target=visit, request=request)
    return visit


# A visit is a line of the 民情日志: its author may fix a slip the same day; after that the
# line stands and anything new is a new visit.
VISIT_EDIT_WINDOW = timedelta(hours=24)
VISIT_EDITABLE = ("findings", "follow_up_needed", "follow_up_note")


@transaction.atomic
def visit_update(
    *,
    visit: Visit,
    actor,
    findings: str | None = None,
    follow_up_needed: bool | None = None,
    follow_up_note: str | None = None,
    request=None,
) -> Visit:
    """Correct a visit's findings or follow-up; only its visitor, within 24 hours of
    recording it. Fields left None stay as they are."""
    visit = (
        Visit.objects.select_for_update()
        .select_related("resident__household__grid")
        .get(pk=visit.pk)
    )
    if not permissions.may_edit_area(actor, visit.resident.household.grid):
        raise _denied()
    if visit.visitor_id != actor.pk:
        raise DomainError("forbidden", _("Only the person who recorded a visit may change it."))
    if timezone.now() - visit.created_at > VISIT_EDIT_WINDOW:
        raise DomainError("too_late", _("A visit can be changed only within 24 hours."))
    changes = {
        "findings": findings.strip() if findings is not None else None,
        "follow_up_needed": follow_up_needed,
        "follow_up_note": follow_up_note.strip() if follow_up_note is not None else None,
    }
    changes = {name: value for name, value in changes.items() if value is not None}
    merged = {name: changes.get(name, getattr(visit, name)) for name in VISIT_EDITABLE}
    fields: dict[str, list[str]] = {}
    if not merged["findings"]:
        fields["findings"] = [_("Write down what you found.")]
    elif len(merged["findings"]) > 2000:
        fields["findings"] = [_("At most 2,000 characters.")]
    if merged["follow_up_needed"] and not merged["follow_up_note"]:
        fields["follow_up_note"] = [_("Say what follow-up is needed.")]
    if fields:
        raise DomainError("invalid", _("Please correct the marked fields."), fields)
    for name, value in changes.items():
        setattr(visit, name, value)
    visit.save(update_fields=sorted(changes))
    audit_record(
        action="visit.update",
        actor=actor,
        target=visit,
        request=request,
        detail={"fields": sorted(changes)},
    )
    return visit


# --- corrections and talents ---------------------------------------------------------------


@transaction.atomic
def correction_request_create(
    *, resident: Resident, requested_by, field: str, proposed: str, explanation: str = ""
) -> CorrectionRequest:
    """A resident asks to correct their own entry or one of their household's."""
    own = Resident.objects.filter(user=requested_by).first()
    if own is None or own.household_id != resident.household_id:
        raise DomainError("forbidden", _("You can ask for corrections of your own household only."))
    if field not in CorrectionRequest.Field.values:
        message = _("Choose what is wrong.")
        raise DomainError("invalid", message, {"field": [message]})
    proposed = (proposed or "").strip()
    if not proposed:
        message = _("Say what the correct value is.")
        raise DomainError("invalid", message, {"proposed": [message]})
    if CorrectionRequest.objects.filter(
        resident=resident, field=field, status=CorrectionRequest.Status.OPEN
    ).exists():
        raise DomainError("duplicate", _("The same correction is already waiting for an answer."))
    sealed = ""
    if field == CorrectionRequest.Field.PHONE:
        try:
            e164 = check_phone(proposed)
        except FieldProblem as problem:
            raise DomainError("invalid", problem.message, {"proposed": [problem.message]}) from None
        sealed = encrypt(e164, context=PROPOSED_PHONE_CONTEXT)
        proposed = mask_phone(e164)
    correction = CorrectionRequest.objects.create(
        resident=resident,
        requested_by=requested_by,
        field=field,
        proposed=proposed[:200],
        proposed_encrypted=sealed,
        explanation=(explanation or "").strip()[:500],
    )
    audit_record(action="correction.create", actor=requested_by, target=correction)
    return correction


CORRECTABLE = {
    CorrectionRequest.Field.NAME: "name",
    CorrectionRequest.Field.ETHNICITY: "ethnicity",
}


@transaction.atomic
def correction_request_answer(
    *, correction: CorrectionRequest, actor, approve: bool, answer: str = "", request=None
) -> CorrectionRequest:
    """Approve (the change is applied where it is a single field) or answer with a reason."""
    correction = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
    resident = Resident.objects.select_related("household__grid").get(pk=correction.resident_id)
    if not permissions.may_edit_area(actor, resident.household.grid):
        raise _denied()
    if correction.status != CorrectionRequest.Status.OPEN:
        raise DomainError("invalid_state", _("This request has already been answered."))
    answer = (answer or "").strip()
    if not approve and not answer:
        message = _("Say why the record stays as it is.")
        raise DomainError("invalid", message, {"answer": [message]})
    if approve:
        column = CORRECTABLE.get(correction.field)
        if correction.field == CorrectionRequest.Field.PHONE:
            phone = decrypt(correction.proposed_encrypted, context=PROPOSED_PHONE_CONTEXT)
            resident_update(resident=resident, actor=actor, request=request, phone=phone)
        elif column:
            resident_update(
                resident=resident, actor=actor, request=request, **{column: correction.proposed}
            )
        elif correction.field == CorrectionRequest.Field.ADDRESS:
            household_update(
                household=resident.household,
                actor=actor,
                request=request,
                address=correction.proposed,
            )
    correction.status = (
        CorrectionRequest.Status.APPROVED if approve else CorrectionRequest.Status.REJECTED
    )
    correction.answer = answer[:500]
    correction.answered_by = actor
    correction.answered_at = timezone.now()
    correction.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    audit_record(
        action="correction.answer",
        actor=actor,
        target=correction,
        request=request,
        detail={"approved": approve},
    )
    return correction


@transaction.atomic
def talent_save(
    *,
    resident: Resident,
    actor,
    skill: str,
    detail: str = "",
    certificate: str = "",
    willing_to_serve: bool = False,
    consent: bool = False,
    request=None,
) -> Talent:
    """Add or change a person's entry in the talent pool. Consent must be recorded before a
    person is listed as willing to serve (PIPL Art. 14)."""
    if not permissions.may_edit_area(actor, resident.household.grid):
        raise _denied()
    if skill not in Talent.Skill.values:
        message = _("Choose a skill.")
        raise DomainError("invalid", message, {"skill": [message]})
    if willing_to_serve and not consent:
        message = _("Record the person's consent before listing them as willing to serve.")
        raise DomainError("consent_required", message, {"consent": [message]})
    talent, _created = Talent.objects.get_or_create(resident=resident, skill=skill)
    talent.detail = detail.strip()[:200]
    talent.certificate = certificate.strip()[:100]
    talent.willing_to_serve = willing_to_serve
    if consent and talent.consent_at is None:
        talent.consent_at = timezone.now()
        talent.consent_by = actor
    if not consent:
        talent.consent_at = None
        talent.consent_by = None
    talent.save()
    audit_record(action="talent.save", actor=actor, target=talent, request=request)
    return talent
