"""/api/v1/matters, /api/v1/cases and one POST per move of a case (docs/api-cases.md).

The same selectors and services as the pages, so the same scope and the same rules. A case
is always looked up through the viewer first (selectors.case_view_for): an id outside the
caller's scope answers 404 exactly as a missing one, before any permission is checked, so
that an outsider learns nothing; a case the caller sees but may not move answers 403.
Lists carry nothing personal; a case's detail carries what the viewer's level allows.

Filing a case, replying and the on-site check take either a JSON body or
multipart/form-data with `photos` files. Django ninja binds one content type per
operation, so these three read the body themselves (`_body`) and validate it with the same
schema, answering the same 422 shape, and document both content types in OpenAPI.
"""

import json
from datetime import datetime
from typing import Any, get_origin

import pydantic
from django.core import signing
from django.db.models import Count, F, Q, QuerySet, prefetch_related_objects
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.errors import HttpError, ValidationError

from linli.accounts.auth import token_auth
from linli.accounts.models import Department
from linli.cases import case_services, exemptions, permissions, selectors, suggest
from linli.cases.forms_report import matter_visible
from linli.cases.models import Case, CaseSupport, Extension, Matter, Source, WhistleCall
from linli.cases.schemas import (
    CaseDetailOut,
    CaseIn,
    CaseListQuery,
    CasePageOut,
    DispatchIn,
    DuplicateOut,
    DuplicateQuery,
    EventOut,
    ExemptionDecisionIn,
    ExemptionIn,
    ExemptionOut,
    ExemptionPageOut,
    ExemptionQuery,
    ExtensionDecideIn,
    ExtensionIn,
    ExtensionOut,
    ExtensionPageOut,
    MatterChangeIn,
    MatterOut,
    MatterSuggestIn,
    MatterSuggestOut,
    MergeIn,
    NoteIn,
    RateIn,
    RejectIn,
    SendBackIn,
    VerifyIn,
    WhistleCallOut,
    WhistleIn,
    WhistleOut,
)
from linli.cases.selectors import PUBLIC, STAFF, CaseView
from linli.cases.workflow import RUNNING_STATUSES, Action, Note, allowed_actions
from linli.cases.workflow import Status as CaseStatus
from linli.core.errors import DomainError
from linli.core.pagination import KeysetPage, PageQuery
from linli.core.ratelimits import INTAKE_LIMITS, rate_limit_wait
from linli.core.schemas import ErrorOut, Id, nul_fields, nul_refusal
from linli.core.views import rate_limited

router = Router(tags=["cases"], auth=token_auth)

ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
CENTRE_ROLES = permissions.CENTRE_ROLES
# The source follows the caller's role; the centre enters what reaches it by phone or in
# person. Sensors, imports and Open311 have entrances of their own.
SOURCE_BY_ROLE = {"resident": Source.RESIDENT, "grid_worker": Source.GRID_WORKER}
CENTRE_SOURCES = (Source.HOTLINE, Source.RESIDENT, Source.GRID_WORKER)
CENTRE_ONLY_FIELDS = ("contact_name", "contact_phone", "external_ref")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# The API's names of the moves (URL segments); both outcomes of the check are "verify".
MOVE_NAMES = {
    Action.SEND_BACK.value: "send-back",
    Action.VERIFY_PASS.value: "verify",
    Action.VERIFY_FAIL.value: "verify",
}


# --- looking things up through the viewer ------------------------------------------------------


def _not_found(message=None):
    return HttpError(404, str(message or _("No such case in your area.")))


def _view(request, case_id: Id) -> CaseView:
    view = selectors.case_view_for(request.user, case_id)
    if view is None:
        raise _not_found()
    return view


def _residents_only_public(user) -> bool:
    """Residents are offered the public matters; staff every active one."""
    return user.role == "resident"


def _matter(request, code: str, *, field: str = "matter") -> Matter:
    """The matter a case is filed under, as the report page finds it (residents: the
    public ones; a retired one is found, so that the service says it is not in use)."""
    public_only = _residents_only_public(request.user)
    matter = selectors.matter_for_filing(code.strip(), public_only=public_only)
    if matter is None:
        message = _("No such matter; choose one from the catalogue.")
        raise DomainError("invalid", message, {field: [message]})
    return matter


def _departments(codes: list[str], *, field: str) -> list[Department]:
    codes = list(dict.fromkeys(code.strip() for code in codes if code.strip()))
    found = {d.code: d for d in Department.objects.filter(code__in=codes, is_active=True)}
    missing = [code for code in codes if code not in found]
    if missing:
        message = _("No such department: %(codes)s.") % {"codes": ", ".join(missing)}
        raise DomainError("invalid", message, {field: [message]})
    return [found[code] for code in codes]


def _merge_target(request, reference: str) -> Case:
    """The case a duplicate joins, by number or id, among the cases the caller sees whole."""
    reference = reference.strip()
    found = Q(number=reference)
    if reference.isdigit():
        found |= Q(pk=int(reference))
    into = selectors.cases_for(request.user).filter(found).first()
    if into is None:
        message = _("No such case in your area.")
        raise DomainError("invalid", message, {"into": [message]})
    return into


# --- reading a body that is JSON or a form with photos -----------------------------------------


def _invalid_shape(errors: list[dict]) -> ValidationError:
    # The same locations as ninja's own body errors, so that linli.api names the fields;
    # the kind and its limits stay, so that it can say them in the caller's language.
    return ValidationError([{**e, "loc": ("body", "payload", *e["loc"])} for e in errors])


# The longest JSON text a form's object field (`answers`) may carry.
ANSWERS_FIELD_MAX = 20_000


def _form_data(post, schema) -> dict:
    """Form fields as the schema's JSON: lists from repeated fields, objects from a JSON
    string (`answers`); an empty field counts as left out."""
    data: dict[str, Any] = {}
    for name, field in schema.model_fields.items():
        values = [value for value in post.getlist(name) if value != ""]
        if not values:
            continue
        origin = get_origin(field.annotation)
        if origin is list:
            data[name] = values
        elif origin is dict:
            if len(values[-1]) > ANSWERS_FIELD_MAX:
                message = _("At most %(n)d characters.") % {"n": ANSWERS_FIELD_MAX}
                raise _invalid_shape([{"loc": (name,), "msg": message}])
            try:
                data[name] = json.loads(values[-1])
            except ValueError:
                raise _invalid_shape(
                    [{"loc": (name,), "msg": _('Give a JSON object such as {"floor": 3}.')}]
                ) from None
        else:
            data[name] = values[-1]
    return data


def _body(request, schema) -> tuple[Any, list]:
    """The request's body validated by `schema`, and its `photos` files (multipart only)."""
    if request.content_type in FORM_TYPES:
        data = _form_data(request.POST, schema)
        photos = request.FILES.getlist("photos")
    else:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise DomainError("invalid", _("The request body is not valid JSON.")) from None
        photos = []
    if not isinstance(data, dict):
        raise DomainError("invalid", _("The request body must be a JSON object."))
    try:
        payload = schema.model_validate(data)
    except pydantic.ValidationError as problem:
        raise _invalid_shape(problem.errors(include_url=False)) from None
    # What linli.core.schemas.refuse_nul does for the bodies ninja reads.
    if fields := nul_fields(payload):
        raise nul_refusal(fields)
    return payload, photos


def _json_or_multipart(schema, description: str) -> dict:
    """OpenAPI for an operation that reads its own body (see the module's docstring)."""
    json_schema = schema.model_json_schema()
    form = json.loads(json.dumps(json_schema))
    for name, prop in form["properties"].items():
        if prop.get("type") == "object":
            form["properties"][name] = {
                "type": "string",
                "maxLength": ANSWERS_FIELD_MAX,
                "description": "A JSON object",
            }
    form["properties"]["photos"] = {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
        "maxItems": 6,
    }
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {"schema": json_schema},
                "multipart/form-data": {"schema": form},
            },
        }
    }


# --- output ------------------------------------------------------------------------------------


def _code_name(obj) -> dict | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _display_name(user) -> str | None:
    return (user.name or user.username) if user is not None else None


def _overdue(case: Case, now: datetime) -> bool:
    return bool(case.status in RUNNING_STATUSES and case.deadline and case.deadline < now)


def _row(case: Case, now: datetime) -> dict:
    return {
        "id": case.pk,
        "number": case.number,
        "source": case.source,
        "matter": _code_name(case.matter),
        "urgency": case.urgency,
        "status": case.status,
        "status_label": str(CaseStatus(case.status).label),
        "grid": _code_name(case.grid),
        "lead_department": _code_name(case.lead_department),
        "description": case.description,
        "reported_at": case.reported_at,
        "deadline": case.deadline,
        "overdue": _overdue(case, now),
        "closed_at": case.closed_at,
    }


def _action_label(action: str) -> str:
    if action == "report":
        return _("reported")
    if action in Action.values:
        return str(Action(action).label)
    if action in Note.values:
        return str(Note(action).label)
    return action


def _event(event, case: Case, level: str, photos: list | None = None) -> dict:
    """A timeline entry; `photos` are its photos when in hand (else read through it)."""
    staff = level == STAFF
    actor = event.actor
    return {
        "id": event.pk,
        "action": event.action,
        "action_label": _action_label(event.action),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "at": event.created_at,
        "by": selectors.event_public_actor(event, case),
        "actor": {
            "name": _display_name(actor),
            "role": actor.role,
            "department": _code_name(actor.department),
        }
        if staff and actor is not None
        else None,
        "data": event.data if staff else None,
        "photo_ids": [p.pk for p in (event.photos.all() if photos is None else photos)]
        if level != PUBLIC
        else [],
    }


def _photo_url(pk: int, kind: str) -> str:
    # Reversed at request time: the photo page belongs to the case pages' module.
    try:
        return reverse("cases:photo", args=[pk, kind])
    except NoReverseMatch:
        return f"/cases/photos/{pk}/{kind}/"


def _photo(photo) -> dict:
    return {
        "id": photo.pk,
        "kind": photo.kind,
        "width": photo.width,
        "height": photo.height,
        "created_at": photo.created_at,
        "url": _photo_url(photo.pk, "image"),
        "thumbnail_url": _photo_url(photo.pk, "thumbnail"),
    }


def _extension(extension: Extension) -> dict:
    return {
        "id": extension.pk,
        "case_id": extension.case_id,
        "department": _code_name(extension.department),
        "requested_by": _display_name(extension.requested_by),
        "reason": extension.reason,
        "amount": extension.amount,
        "unit": extension.unit,
        "old_deadline": extension.old_deadline,
        "new_deadline": extension.new_deadline,
        "status": extension.status,
        "decided_by": _display_name(extension.decided_by),
        "decided_at": extension.decided_at,
        "decision_note": extension.decision_note,
        "created_at": extension.created_at,
    }


def _call(call: WhistleCall, blown_at: datetime) -> dict:
    minutes = None
    if call.reported_at is not None:
        minutes = int((call.reported_at - blown_at).total_seconds() // 60)
    return {
        "id": call.pk,
        "department": _code_name(call.department),
        "reported_at": call.reported_at,
        "reported_by": _display_name(call.reported_by),
        "note": call.note,
        "response_minutes": minutes,
    }


def _whistle(whistle) -> dict:
    return {
        "id": whistle.pk,
        "case_id": whistle.case_id,
        "called_by": _display_name(whistle.called_by),
        "note": whistle.note,
        "created_at": whistle.created_at,
        "calls": [_call(call, whistle.created_at) for call in whistle.calls.all()],
    }


def _moves_for(viewer, case: Case) -> list[str]:
    names = []
    for action in allowed_actions(case.status):
        name = MOVE_NAMES.get(action, action)
        if name not in names and permissions.may_act(viewer, case, action):
            names.append(name)
    return names


def _detail(view: CaseView, viewer, *, filed: bool = False) -> dict:
    """The case as `viewer` may see it. `filed`: the case case_report has just written,
    answered from the objects in hand instead of read back; nobody follows it yet,
    nothing is assigned, asked for or summoned, and its timeline is the report entry with
    the photos filed with it (the same answer as GET /cases/{id}, tested)."""
    case, level = view.case, view.level
    staff = level == STAFF
    public = level == PUBLIC
    if filed:
        report, photos = case._last_event, case._last_photos
        supporters = 0
        timeline = [_event(report, case, level, photos)] if staff or report.public else []
    else:
        supporters = case.supports.count()
        events = selectors.case_timeline(case, level=level)
        timeline = [_event(event, case, level) for event in events]
        photos = selectors.case_photos(case, level=level)
    # The reporter's own answers and choice of anonymity are theirs and the staff's;
    # residents who follow the case ("me too") see the place and photos only.
    own = staff or (not public and permissions.is_reporter_of(viewer, case))
    detail = {
        "id": case.pk,
        "number": case.number,
        "level": level,
        "matter": _code_name(case.matter),
        "status": case.status,
        "status_label": str(CaseStatus(case.status).label),
        "grid": _code_name(case.grid),
        "description": case.description,
        "reported_at": case.reported_at,
        "accepted_at": case.accepted_at,
        "dispatched_at": case.dispatched_at,
        "replied_at": case.replied_at,
        "closed_at": case.closed_at,
        "archived_at": case.archived_at,
        "deadline": case.deadline,
        "overdue": _overdue(case, timezone.now()),
        "lead_department": _code_name(case.lead_department),
        "supporters": supporters,
        "merged_into": case.merged_into.number if case.merged_into_id else None,
        "timeline": timeline,
        "actions": [] if public else _moves_for(viewer, case),
        "source": None if public else case.source,
        "urgency": None if public else case.urgency,
        "lon": None if public else case.lon,
        "lat": None if public else case.lat,
        "address": None if public else case.address,
        "satisfaction": None if public else case.satisfaction,
        "resolved": None if public else case.resolved,
        "photos": None if public else [_photo(photo) for photo in photos],
        "anonymous": case.anonymous if own else None,
        "answers": case.answers if own else None,
    }
    staff_only = dict.fromkeys(
        [
            "reporter",
            "contact_name",
            "contact_phone_masked",
            "external_ref",
            "rework_count",
            "sendback_count",
            "reopen_count",
            "assignments",
            "extensions",
            "whistles",
        ]
    )
    if not staff:
        return detail | staff_only
    reporter = case.reporter if case.reporter_id and not case.anonymous else None
    if filed:
        assignments, extensions, whistles = [], [], []
    else:
        assignments = case.assignments.select_related("department")
        extensions = case.extensions.select_related("department", "requested_by", "decided_by")
        whistles = case.whistles.select_related("called_by").prefetch_related(
            "calls__department", "calls__reported_by"
        )
    return detail | {
        "reporter": {"name": _display_name(reporter), "phone_masked": reporter.phone_masked}
        if reporter is not None
        else None,
        "contact_name": case.contact_name,
        "contact_phone_masked": case.contact_phone_masked,
        "external_ref": case.external_ref,
        "rework_count": case.rework_count,
        "sendback_count": case.sendback_count,
        "reopen_count": case.reopen_count,
        "assignments": [
            {"department": _code_name(a.department), "role": a.role} for a in assignments
        ],
        "extensions": [_extension(e) for e in extensions],
        "whistles": [_whistle(w) for w in whistles],
    }


def _after(request, before: CaseView) -> dict:
    """The case after a move, at the level the caller now has; when the move took it out
    of their sight (a department sending it back), at the level they had a moment ago."""
    after = selectors.case_view_for(request.user, before.case.pk)
    if after is None:
        before.case.refresh_from_db()
        after = CaseView(before.case, before.level)
    return _detail(after, request.user)


def _duplicate(found, supporters: int) -> dict:
    case = found.case
    return {
        "case_id": case.pk,
        "number": case.number,
        "matter": _code_name(case.matter),
        "status": case.status,
        "status_label": str(CaseStatus(case.status).label),
        "grid": _code_name(case.grid),
        "description": case.description,
        "reported_at": case.reported_at,
        "supporters": supporters,
        "distance_m": round(found.distance_m, 1),
        "similarity": round(found.similarity, 3),
    }


def _duplicates(found: list) -> list[dict]:
    """Duplicate candidates as any resident may see them (the public level: nothing
    personal), whoever asks: they may lie just across the edge of the caller's grid."""
    supporters = dict(
        CaseSupport.objects.filter(case_id__in=[d.case.pk for d in found])
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    return [_duplicate(d, supporters.get(d.case.pk, 0)) for d in found]


# --- the cursor ---------------------------------------------------------------------------------


class CasePaginator:
    """Keyset ("cursor") pagination of a case list: each page continues strictly after the
    last row of the one before, by (reported_at, id) or (deadline, id), so cases filed
    while a client walks the list never shift a page (no repeats, no gaps), as an offset
    would. The cursor is signed: opaque to clients, and a tampered one is refused."""

    SALT = "linli.cases.api.cursor"

    def __init__(self, sort: str):
        self.sort = sort

    def order(self, cases: QuerySet[Case]) -> QuerySet[Case]:
        if self.sort == "reported":
            return cases.order_by("reported_at", "id")
        if self.sort == "deadline":
            # Cases without a deadline (not yet dispatched) last, on every database.
            return cases.order_by(F("deadline").asc(nulls_last=True), "id")
        return cases.order_by("-reported_at", "-id")

    def _key(self, case: Case) -> list:
        value = case.deadline if self.sort == "deadline" else case.reported_at
        return [value.isoformat() if value is not None else None, case.pk]

    def _after(self, cases: QuerySet[Case], value: datetime | None, pk: int) -> QuerySet[Case]:
        if self.sort == "reported":
            return cases.filter(Q(reported_at__gt=value) | Q(reported_at=value, id__gt=pk))
        if self.sort == "deadline":
            if value is None:
                return cases.filter(deadline__isnull=True, id__gt=pk)
            return cases.filter(
                Q(deadline__gt=value) | Q(deadline=value, id__gt=pk) | Q(deadline__isnull=True)
            )
        return cases.filter(Q(reported_at__lt=value) | Q(reported_at=value, id__lt=pk))

    def _decode(self, cursor: str) -> tuple[datetime | None, int]:
        message = _("This cursor is not valid for this list; start again without one.")
        try:
            data = signing.loads(cursor, salt=self.SALT)
            if data["sort"] != self.sort:
                raise ValueError(data["sort"])
            raw, pk = data["key"]
            value = parse_datetime(raw) if raw is not None else None
            if (raw is not None and value is None) or not isinstance(pk, int):
                raise ValueError(raw)
            if value is None and self.sort != "deadline":
                raise ValueError(raw)
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise DomainError("invalid", message, {"cursor": [message]}) from None
        return value, pk

    def page(self, cases: QuerySet[Case], *, cursor: str | None, limit: int) -> tuple[list, str]:
        cases = self.order(cases)
        if cursor:
            cases = self._after(cases, *self._decode(cursor))
        rows = list(cases[: limit + 1])
        more = len(rows) > limit
        rows = rows[:limit]
        following = None
        if more:
            key = {"sort": self.sort, "key": self._key(rows[-1])}
            following = signing.dumps(key, salt=self.SALT, compress=True)
        return rows, following


# --- the catalogue -----------------------------------------------------------------------------


@router.get(
    "/matters",
    response=list[MatterOut],
    summary="The catalogue of matters a case can be filed under",
)
def matter_list(request, q: str | None = None):
    """Residents get the matters offered to them, staff every active one. `q` is the start
    of a code, or words in the name or keywords (at most 20 matches, best first)."""
    public_only = _residents_only_public(request.user)
    if q and q.strip():
        matters = selectors.matter_search(q, public_only=public_only)
    else:
        groups = selectors.matter_choices_for(public_only=public_only)
        matters = [matter for group in groups for matter in group.matters]
    prefetch_related_objects(matters, "questions__options")
    return matters


# Before /matters/{code}, whose pattern would otherwise take "suggest" for a code.
@router.post(
    "/matters/suggest",
    response={200: MatterSuggestOut, **ERRORS},
    summary="The matters a report's words are most likely about (智能派单)",
)
def matter_suggest(request, payload: MatterSuggestIn):
    """Up to three active matters with the model's confidence (0–1), most likely first;
    residents get only the matters offered to them. Learnt from the centre's closed cases:
    without a trained model `ready` is false and `reason` is `not_enough_history`. A POST
    that changes nothing, so that the words stay out of URLs and access logs."""
    found = suggest.matter_suggest(payload.text, public_only=_residents_only_public(request.user))
    info = found.model
    return {
        "ready": found.ready,
        "reason": found.reason,
        "message": found.message,
        "suggestions": [
            {"code": s.matter.code, "name": s.matter.name, "confidence": s.confidence}
            for s in found.items
        ],
        "model": {
            "trained_at": info.trained_at,
            "accuracy_top1": round(info.accuracy_top1, 4),
            "accuracy_top3": round(info.accuracy_top3, 4),
            "cases": info.n_cases,
        }
        if info is not None
        else None,
    }


@router.get("/matters/{code}", response={200: MatterOut, 404: ErrorOut})
def matter_detail(request, code: str):
    matter = matter_visible(code, public_only=_residents_only_public(request.user))
    if matter is None or not matter.is_active:
        raise _not_found(_("No such matter."))
    prefetch_related_objects([matter], "questions__options")
    return matter


# --- filing and reading cases ------------------------------------------------------------------


@router.post(
    "/cases/duplicates",
    response={200: list[DuplicateOut], **ERRORS},
    summary="Open cases a new report may repeat (ask before filing)",
)
def duplicates_before_filing(request, query: DuplicateQuery):
    """Open cases of the same matter nearby, reported lately, with similar text — to add
    "me too" to instead of filing again. Public details only. A POST that changes nothing:
    the description stays out of URLs and access logs."""
    matter = _matter(request, query.matter)
    found = selectors.case_duplicates(
        matter=matter, lon=query.lon, lat=query.lat, description=query.description
    )
    return _duplicates(found)


@router.post(
    "/cases",
    # 413 comes from core.middleware.RequestSizeLimitMiddleware, before this runs.
    response={201: CaseDetailOut, **ERRORS, 413: ErrorOut, 429: ErrorOut},
    summary="File a case (JSON, or multipart/form-data with photos)",
    openapi_extra=_json_or_multipart(
        CaseIn, "JSON, or the same fields as a form with up to 6 `photos` files"
    ),
)
def case_create(request):
    """The source follows the caller's role: a resident files a resident report, a grid
    worker a patrol report; the centre (dispatchers, administrators) enters a 12345 call
    (`hotline`, the default) or a report made to it in person (`resident`,
    `grid_worker`), and may give the caller's name and phone and the 12345 order number.
    Without lon and lat, the first photo's GPS position places the case. A refused case
    stores nothing, photos included. Filings are counted per address and per account
    (LINLI_INTAKE_RATE_PER_IP / _PER_ACCOUNT, shared with the report page): over either,
    429 with Retry-After."""
    wait = rate_limit_wait(request, INTAKE_LIMITS)
    if wait is not None:
        return rate_limited(request, None, retry_after=wait)
    payload, photos = _body(request, CaseIn)
    user = request.user
    if user.role in CENTRE_ROLES:
        source = payload.source or Source.HOTLINE
        if source not in CENTRE_SOURCES:
            message = _("Choose hotline, resident or grid_worker.")
            raise DomainError("invalid", message, {"source": [message]})
        reporter = None
    elif user.role in SOURCE_BY_ROLE:
        source, reporter = SOURCE_BY_ROLE[user.role], user
        message = _("Only the dispatch centre gives this.")
        fields = {name: [message] for name in CENTRE_ONLY_FIELDS if getattr(payload, name)}
        if payload.source not in (None, source):
            fields["source"] = [message]
        if fields:
            raise DomainError("invalid", _("Please correct the marked fields."), fields)
    else:
        raise DomainError("forbidden", _("Your role does not file cases."))
    case = case_services.case_report(
        matter=_matter(request, payload.matter),
        description=payload.description,
        lon=payload.lon,
        lat=payload.lat,
        source=source,
        reporter=reporter,
        # The timeline names whoever typed it in; for a 12345 call that is the dispatcher,
        # while the caller (no account) hears the news by SMS.
        entered_by=user,
        address=payload.address,
        urgency=payload.urgency,
        anonymous=payload.anonymous,
        answers=payload.answers,
        photos=photos,
        external_ref=payload.external_ref,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
    )
    from linli.api import api  # the API this router is mounted on (it imports this module)

    detail = _detail(selectors.case_view_filed(user, case), user, filed=True)
    # Rendered as it is rather than validated once more against CaseDetailOut, which took
    # a tenth of a filing: it is the dict GET /cases/{id} answers through that schema, and
    # linli/cases/tests/test_intake_speed.py checks that the two answers are equal.
    return api.create_response(request, detail, status=201)


@router.get(
    "/cases",
    response={200: CasePageOut, **ERRORS},
    summary="The caller's cases, a page at a time (cursor)",
)
def case_list(request, query: Query[CaseListQuery]):
    """Staff get the cases in their scope (a department its own), residents the cases they
    reported or follow. Pass `next` as `cursor` for the following page; new cases never
    shift the pages. Rows carry nothing personal."""
    cases = selectors.case_filter(
        selectors.cases_for(request.user),
        status=query.status,
        matter=query.matter,
        grid=query.grid,
        source=query.source,
        department=query.department,
        overdue=query.overdue,
        q=query.q,
        sort=query.sort,
    )
    rows, following = CasePaginator(query.sort).page(cases, cursor=query.cursor, limit=query.limit)
    now = timezone.now()
    return {"items": [_row(case, now) for case in rows], "next": following}


@router.get("/cases/{case_id}", response={200: CaseDetailOut, **ERRORS})
def case_detail(request, case_id: Id):
    """Staff see the whole case; the reporter and residents following it the place, the
    photos and the public timeline without names; other residents the public view."""
    return _detail(_view(request, case_id), request.user)


@router.get("/cases/{case_id}/timeline", response={200: list[EventOut], **ERRORS})
def case_timeline(request, case_id: Id):
    """Oldest first; the public entries only, without names, below the staff level."""
    view = _view(request, case_id)
    events = selectors.case_timeline(view.case, level=view.level)
    return [_event(event, view.case, view.level) for event in events]


@router.get(
    "/cases/{case_id}/duplicates",
    response={200: list[DuplicateOut], **ERRORS},
    summary="Open cases this one may repeat (to merge it)",
)
def case_duplicates(request, case_id: Id):
    view = _view(request, case_id)
    if not view.is_staff:
        raise HttpError(403, _("Only staff look for duplicates of a case."))
    case = view.case
    found = selectors.case_duplicates(
        matter=case.matter,
        lon=case.lon,
        lat=case.lat,
        description=case.description,
        at=case.reported_at,
        exclude=case.pk,
    )
    return _duplicates(found)


# --- the moves: one POST each --------------------------------------------------------------------


# Each move: find the case through the caller (404 outside their scope), call its one
# service (403 for a caller who may not, 409 for a move the case's state does not allow,
# 400 for bad input), answer the case as the caller now sees it.

MOVED = {200: CaseDetailOut, **ERRORS}


def _note(payload) -> str:
    return payload.note if payload is not None else ""


@router.post("/cases/{case_id}/accept", response=MOVED, summary="Accept a reported case (立案)")
def case_accept(request, case_id: Id, payload: NoteIn | None = None):
    view = _view(request, case_id)
    case_services.case_accept(case=view.case, actor=request.user, note=_note(payload))
    return _after(request, view)


@router.post("/cases/{case_id}/reject", response=MOVED, summary="Reject a reported case")
def case_reject(request, case_id: Id, payload: RejectIn):
    """The reason is shown to the reporter."""
    view = _view(request, case_id)
    case_services.case_reject(case=view.case, actor=request.user, reason=payload.reason)
    return _after(request, view)


@router.post("/cases/{case_id}/dispatch", response=MOVED, summary="Dispatch to departments")
def case_dispatch(request, case_id: Id, payload: DispatchIn):
    """`department` leads (the matter's lead department when left out); the deadline runs
    from now by the matter's limit at `urgency` (the case's when left out)."""
    view = _view(request, case_id)
    lead = payload.department
    case_services.case_dispatch(
        case=view.case,
        actor=request.user,
        department=_departments([lead], field="department")[0] if lead else None,
        co_departments=_departments(payload.co_departments, field="co_departments"),
        urgency=payload.urgency.value if payload.urgency else None,
        note=payload.note,
    )
    return _after(request, view)


@router.post("/cases/{case_id}/sign", response=MOVED, summary="Sign for a dispatched case")
def case_sign(request, case_id: Id, payload: NoteIn | None = None):
    view = _view(request, case_id)
    case_services.case_sign(case=view.case, actor=request.user, note=_note(payload))
    return _after(request, view)


@router.post(
    "/cases/{case_id}/send-back", response=MOVED, summary="Send a mis-dispatched case back"
)
def case_send_back(request, case_id: Id, payload: SendBackIn):
    """The lead department returns the case to the centre with a reason; after three
    returns the centre decides (`send_back_limit`)."""
    view = _view(request, case_id)
    case_services.case_send_back(
        case=view.case, actor=request.user, reason_code=payload.reason_code, note=payload.note
    )
    return _after(request, view)


@router.post("/cases/{case_id}/start", response=MOVED, summary="Start handling a signed case")
def case_start(request, case_id: Id, payload: NoteIn | None = None):
    view = _view(request, case_id)
    case_services.case_start(case=view.case, actor=request.user, note=_note(payload))
    return _after(request, view)


@router.post(
    "/cases/{case_id}/reply",
    response=MOVED,
    summary="Report the case handled (JSON, or multipart/form-data with photos)",
    openapi_extra=_json_or_multipart(NoteIn, "`note` (required), and up to 6 `photos` files"),
)
def case_reply(request, case_id: Id):
    """The note is the answer the reporter reads; the photos show the result."""
    view = _view(request, case_id)
    payload, photos = _body(request, NoteIn)
    case_services.case_reply(case=view.case, actor=request.user, note=payload.note, photos=photos)
    return _after(request, view)


@router.post(
    "/cases/{case_id}/verify",
    response=MOVED,
    summary="The on-site check (JSON, or multipart/form-data with photos)",
    openapi_extra=_json_or_multipart(
        VerifyIn, "`passed`, `note` (required), and up to 6 `photos` files"
    ),
)
def case_verify(request, case_id: Id):
    """A pass closes the case (a matter that needs a check photo needs one); a fail sends
    it back to the department as rework."""
    view = _view(request, case_id)
    payload, photos = _body(request, VerifyIn)
    case_services.case_verify(
        case=view.case,
        actor=request.user,
        passed=payload.passed,
        note=payload.note,
        photos=photos,
    )
    return _after(request, view)


@router.post("/cases/{case_id}/rate", response=MOVED, summary="Record the reporter's rating")
def case_rate(request, case_id: Id, payload: RateIn):
    """By the reporter, or by the centre's callback."""
    view = _view(request, case_id)
    case_services.case_rate(
        case=view.case,
        actor=request.user,
        resolved=payload.resolved,
        satisfaction=payload.satisfaction.value,
        note=payload.note,
    )
    return _after(request, view)


@router.post("/cases/{case_id}/reopen", response=MOVED, summary="Reopen a case rated unsatisfied")
def case_reopen(request, case_id: Id, payload: NoteIn):
    view = _view(request, case_id)
    case_services.case_reopen(case=view.case, actor=request.user, note=payload.note)
    return _after(request, view)


@router.post("/cases/{case_id}/archive", response=MOVED, summary="Archive a rated case")
def case_archive(request, case_id: Id, payload: NoteIn | None = None):
    view = _view(request, case_id)
    case_services.case_archive(case=view.case, actor=request.user, note=_note(payload))
    return _after(request, view)


@router.post(
    "/cases/{case_id}/park", response=MOVED, summary="Park a case that cannot be solved now"
)
def case_park(request, case_id: Id, payload: NoteIn):
    """挂账, with the written explanation (`note`, required); the deadline stops."""
    view = _view(request, case_id)
    case_services.case_park(case=view.case, actor=request.user, note=payload.note)
    return _after(request, view)


@router.post("/cases/{case_id}/resume", response=MOVED, summary="Resume a parked case")
def case_resume(request, case_id: Id, payload: NoteIn | None = None):
    view = _view(request, case_id)
    case_services.case_resume(case=view.case, actor=request.user, note=_note(payload))
    return _after(request, view)


@router.post("/cases/{case_id}/merge", response=MOVED, summary="Merge a duplicate into a case")
def case_merge(request, case_id: Id, payload: MergeIn):
    """`into` is the number or id of the open case this one repeats; this case's reporter
    and supporters then follow that one."""
    view = _view(request, case_id)
    into = _merge_target(request, payload.into)
    case_services.case_merge(case=view.case, actor=request.user, into=into, note=payload.note)
    return _after(request, view)


@router.post(
    "/cases/{case_id}/me-too",
    response={201: CaseDetailOut, **MOVED},
    summary="Say “me too” on an open case",
)
def case_me_too(request, case_id: Id):
    """Residents only (staff get 403: "me too" is the residents' voice, as on the case
    page). 201 when the caller's support is new, 200 when they had already given it;
    either way they now follow the case and hear its outcome."""
    view = _view(request, case_id)
    if request.user.role != "resident":
        raise DomainError("forbidden", _("Only residents say “me too”."))
    _support, created = case_services.case_me_too(case=view.case, user=request.user)
    return Status(201 if created else 200, _after(request, view))


@router.post(
    "/cases/{case_id}/matter",
    response=MOVED,
    summary="File the case under another matter (the centre, before dispatch)",
)
def case_reclassify(request, case_id: Id, payload: MatterChangeIn):
    view = _view(request, case_id)
    matter = Matter.objects.filter(code=payload.matter.strip()).first()
    if matter is None:
        message = _("No such matter; choose one from the catalogue.")
        raise DomainError("invalid", message, {"matter": [message]})
    case_services.case_reclassify(
        case=view.case, actor=request.user, matter=matter, note=payload.note
    )
    return _after(request, view)


@router.post("/cases/{case_id}/urge", response=MOVED, summary="Urge the department (催办)")
def case_urge(request, case_id: Id, payload: NoteIn | None = None):
    view = _view(request, case_id)
    case_services.case_urge(case=view.case, actor=request.user, note=_note(payload))
    return _after(request, view)


@router.post(
    "/cases/{case_id}/extensions",
    response={201: ExtensionOut, **ERRORS},
    summary="Ask for more time (the lead department, before the deadline)",
)
def extension_request(request, case_id: Id, payload: ExtensionIn):
    view = _view(request, case_id)
    extension = case_services.extension_request(
        case=view.case,
        actor=request.user,
        amount=payload.amount,
        unit=payload.unit.value,
        reason=payload.reason,
    )
    return Status(201, _extension(extension))


@router.get(
    "/extensions",
    response={200: ExtensionPageOut, **ERRORS},
    summary="Extension requests waiting for the centre, oldest first",
)
def extension_list(request, query: Query[PageQuery]):
    """What the centre's extensions page lists, in the caller's scope (others: none). A
    page at a time: pass `next` as `cursor` for the following one."""
    rows = selectors.extensions_pending_for(request.user)
    page, following = KeysetPage(rows).page(cursor=query.cursor, limit=query.limit)
    return {"items": [_extension(e) for e in page], "next": following}


@router.post(
    "/extensions/{extension_id}/decide",
    response={200: ExtensionOut, **ERRORS},
    summary="Approve or refuse an extension (the centre)",
)
def extension_decide(request, extension_id: Id, payload: ExtensionDecideIn):
    """A refusal needs a `note`; an approval moves the case's deadline."""
    extension = selectors.extension_for(request.user, extension_id)
    if extension is None:
        raise _not_found(_("No such extension in your area."))
    extension = case_services.extension_decide(
        extension=extension, actor=request.user, approve=payload.approve, note=payload.note
    )
    return _extension(extension)


# --- exemptions from the KPIs (免考核; linli.cases.exemptions) ----------------------------------


def _exemption(exemption) -> dict:
    return {
        "id": exemption.pk,
        "case_id": exemption.case_id,
        "case_number": exemption.case.number,
        "reason": exemption.reason,
        "note": exemption.note,
        "status": exemption.status,
        "requested_by": _display_name(exemption.requested_by),
        "decided_by": _display_name(exemption.decided_by),
        "decided_at": exemption.decided_at,
        "decision_note": exemption.decision_note,
        "created_at": exemption.created_at,
    }


@router.post(
    "/cases/{case_id}/exemptions",
    response={201: ExemptionOut, **ERRORS},
    summary="Ask to take a case out of the KPIs (the centre or the lead department)",
)
def exemption_request(request, case_id: Id, payload: ExemptionIn):
    view = _view(request, case_id)
    if not view.is_staff:
        raise HttpError(403, _("You may not do this."))
    exemption = exemptions.exemption_request(
        case=view.case, actor=request.user, reason=payload.reason, note=payload.note
    )
    return Status(201, _exemption(exemption))


@router.post(
    "/exemptions/{exemption_id}/decision",
    response={200: ExemptionOut, **ERRORS},
    summary="Approve or refuse an exemption (a leader other than who asked)",
)
def exemption_decide(request, exemption_id: Id, payload: ExemptionDecisionIn):
    """A refusal needs a `note`; an approval takes the case out of the rates."""
    exemption = exemptions.exemption_for(request.user, exemption_id)
    if exemption is None:
        raise _not_found(_("No such exemption in your area."))
    exemption = exemptions.exemption_decide(
        exemption=exemption, actor=request.user, approve=payload.approve, note=payload.note
    )
    return _exemption(exemptions.exemption_for(request.user, exemption.pk) or exemption)


@router.get(
    "/exemptions",
    response={200: ExemptionPageOut, **ERRORS},
    summary="Exemptions of the cases you see: waiting first, then approved and refused",
)
def exemption_list(request, query: Query[ExemptionQuery]):
    """A page at a time: pass `next` as `cursor` for the following one."""
    rows = exemptions.exemption_filter(
        exemptions.exemptions_for(request.user), status=query.status, reason=query.reason
    )
    page, following = KeysetPage(rows).page(cursor=query.cursor, limit=query.limit)
    return {"items": [_exemption(e) for e in page], "next": following}


@router.post(
    "/cases/{case_id}/whistle",
    response={201: WhistleOut, **ERRORS},
    summary="Summon departments to the case (吹哨)",
)
def whistle_blow(request, case_id: Id, payload: WhistleIn):
    view = _view(request, case_id)
    whistle = case_services.whistle_blow(
        case=view.case,
        actor=request.user,
        departments=_departments(payload.departments, field="departments"),
        note=payload.note,
    )
    return Status(201, _whistle(whistle))


@router.post(
    "/whistle-calls/{call_id}/report-in",
    response={200: WhistleCallOut, **ERRORS},
    summary="Report in to a whistle (报到), for the caller's department",
)
def whistle_report_in(request, call_id: Id, payload: NoteIn | None = None):
    call = selectors.whistle_call_for(request.user, call_id)
    if call is None:
        raise _not_found(_("No such summons in your area."))
    call = case_services.whistle_report_in(call=call, actor=request.user, note=_note(payload))
    return _call(call, call.whistle.created_at)
