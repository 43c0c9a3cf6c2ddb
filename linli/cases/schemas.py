"""Shapes of the cases JSON API (/api/v1/matters, /cases and the moves).

Input schemas check the shape only (types, ranges, known choices → 422 naming the field);
the domain rules (a point inside a grid, the matter's questions, who may move a case) are
the services' and answer 400 or 403 with the same error shape. Output schemas carry masked
personal data only, and a case's detail carries only what the viewer's level allows:
fields a level may not see are null (see docs/api-cases.md).
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field, field_validator

from linli.cases.models import (
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    EVENT_NOTE_MAX,
    LimitUnit,
    Satisfaction,
    Source,
    Urgency,
)
from linli.cases.workflow import Status

Level = Literal["staff", "reporter", "public"]
# Literal types built from the model's choices rather than the enums themselves: the filing
# schemas are put into OpenAPI inline (cases/api.py, _json_or_multipart), where a $ref to
# an enum's own definition would dangle.
UrgencyValue = Literal[tuple(Urgency.values)]
SourceValue = Literal[tuple(Source.values)]
Sort = Literal["-reported", "reported", "deadline"]
# Generous caps: the services give the precise limits in the user's language; these only
# stop a body from carrying megabytes of text.
TEXT_CAP = 10 * DESCRIPTION_MAX
# A department's or an area's code (accounts.Department.code, areas.Area.code).
CODE_MAX = 32
DepartmentCode = Annotated[str, Field(max_length=CODE_MAX)]
# More departments than a street has, for one dispatch or one whistle.
DEPARTMENTS_MAX = 50


# --- the catalogue ---------------------------------------------------------------------------


class CodeName(Schema):
    code: str
    name: str


class OptionOut(Schema):
    key: str
    name: str


class QuestionOut(Schema):
    code: str
    prompt: str
    datatype: str = Field(
        description="string, text, number, datetime, singlevaluelist or multivaluelist"
    )
    required: bool
    help_text: str
    options: list[OptionOut] = Field(description="The choices of a list question")

    @staticmethod
    def resolve_options(question) -> list:
        return list(question.options.all())


class MatterOut(Schema):
    code: str
    name: str
    matter_class: CodeName
    allows_anonymous: bool
    needs_check_photo: bool
    questions: list[QuestionOut]

    @staticmethod
    def resolve_questions(matter) -> list:
        return list(matter.questions.all())


class MatterSuggestIn(Schema):
    text: str = Field(max_length=TEXT_CAP, description="What the report says, as typed so far")


class MatterSuggestionOut(Schema):
    code: str
    name: str
    confidence: float = Field(description="The model's probability, 0–1")


class SuggesterModelOut(Schema):
    trained_at: datetime
    accuracy_top1: float = Field(description="Held-out share with the right matter first, 0–1")
    accuracy_top3: float = Field(description="Held-out share with it among the first three")
    cases: int = Field(description="Closed cases the model learnt from")


class MatterSuggestOut(Schema):
    ready: bool = Field(description="Whether a trained model is in use")
    reason: str | None = Field(
        description="Why there are no suggestions: not_enough_history, unreadable, too_short "
        "or no_match; null when there are"
    )
    message: str = Field(description="The reason in the caller's language; empty when none")
    suggestions: list[MatterSuggestionOut]
    model: SuggesterModelOut | None


# --- filing a case ---------------------------------------------------------------------------


class CaseIn(Schema):
    """A new case. In multipart/form-data the same fields are form fields, `answers` is a
    JSON object in one field and the photos are `photos` files (up to 6)."""

    matter: str = Field(max_length=16, description="The matter's code, e.g. 06010")
    description: str = Field("", max_length=TEXT_CAP)
    lon: float | None = Field(
        None, ge=-180, le=180, description="WGS-84; leave out with lat to use the photo's GPS"
    )
    lat: float | None = Field(None, ge=-90, le=90)
    address: str = Field("", max_length=10 * ADDRESS_MAX)
    urgency: UrgencyValue = "normal"
    anonymous: bool = False
    answers: dict[str, Any] = Field(
        default_factory=dict, description="Answers to the matter's questions, by question code"
    )
    source: SourceValue | None = Field(
        None, description="Dispatchers only: hotline (default), resident or grid_worker"
    )
    contact_name: str = Field("", max_length=500, description="Dispatchers only")
    contact_phone: str = Field("", max_length=500, description="Dispatchers only")
    external_ref: str = Field("", max_length=500, description="Dispatchers only: 12345 order no.")


# --- the moves ---------------------------------------------------------------------------------


def note_field():
    return Field("", max_length=10 * EVENT_NOTE_MAX)


class NoteIn(Schema):
    note: str = note_field()


class MatterChangeIn(Schema):
    matter: str = Field(max_length=16, description="the code of the matter to file the case under")
    note: str = note_field()


class RejectIn(Schema):
    reason: str = note_field()


class DispatchIn(Schema):
    department: str | None = Field(
        None, max_length=CODE_MAX, description="Department code; the matter's by default"
    )
    co_departments: list[DepartmentCode] = Field(
        default_factory=list, max_length=DEPARTMENTS_MAX, description="Department codes"
    )
    urgency: Urgency | None = None
    note: str = note_field()


class SendBackIn(Schema):
    reason_code: Literal["not_ours", "wrong_area", "unclear", "duplicate"]
    note: str = note_field()


class VerifyIn(Schema):
    """In multipart/form-data: `passed`, `note` and up to 6 `photos` files."""

    passed: bool
    note: str = note_field()


class RateIn(Schema):
    resolved: bool
    satisfaction: Satisfaction
    note: str = note_field()


class MergeIn(Schema):
    into: str = Field(max_length=32, description="The case number or id to merge into")
    note: str = note_field()


class ExtensionIn(Schema):
    amount: int = Field(ge=1, le=1000)
    unit: LimitUnit
    reason: str = note_field()


class ExtensionDecideIn(Schema):
    approve: bool
    note: str = note_field()


class ExemptionIn(Schema):
    reason: str = Field(
        max_length=CODE_MAX,
        description="Why the case should not count: malicious, unreasonable, outside, "
        "force_majeure",
    )
    note: str = note_field()


class ExemptionDecisionIn(Schema):
    approve: bool
    note: str = Field("", max_length=10 * EVENT_NOTE_MAX, description="Needed to refuse")


class ExemptionQuery(Schema):
    status: Literal["pending", "approved", "refused"] | None = None
    reason: Literal["malicious", "unreasonable", "outside", "force_majeure"] | None = None
    cursor: str | None = Field(None, max_length=1000, description="`next` of the previous page")
    limit: int = Field(50, ge=1, le=100)


class WhistleIn(Schema):
    departments: list[DepartmentCode] = Field(
        max_length=DEPARTMENTS_MAX, description="Codes of the departments summoned"
    )
    note: str = note_field()


# --- reading cases -----------------------------------------------------------------------------


class CaseListQuery(Schema):
    status: list[str] | None = Field(
        None, description="One or more (repeat the parameter): " + ", ".join(Status.values)
    )
    matter: str | None = Field(None, description="A matter code or its start, e.g. 06")
    grid: str | None = Field(None, description="An area code: the grid or an area above it")
    source: Source | None = None
    department: str | None = Field(None, description="The lead department's code")
    overdue: bool | None = None
    q: str | None = Field(None, description="Case number, or words in description or address")
    sort: Sort = Field("-reported", description="-reported (newest first), reported, deadline")
    cursor: str | None = Field(None, description="`next` of the previous page")
    limit: int = Field(20, ge=1, le=100)

    @field_validator("status")
    @classmethod
    def known_statuses(cls, value: list[str] | None) -> list[str] | None:
        # Checked here rather than typed as list[Status], so that an error names the
        # parameter ("status") and not the position of the bad value in the list.
        unknown = [status for status in value or () if status not in Status.values]
        if unknown:
            raise ValueError(_("Unknown status: %(s)s.") % {"s": ", ".join(unknown)})
        return value


class CaseOut(Schema):
    """A row of a list: nothing personal (no reporter, contact, address or photos)."""

    id: int
    number: str
    source: str
    matter: CodeName
    urgency: str
    status: str
    status_label: str
    grid: CodeName
    lead_department: CodeName | None
    description: str
    reported_at: datetime
    deadline: datetime | None
    overdue: bool
    closed_at: datetime | None


class CasePageOut(Schema):
    items: list[CaseOut]
    next: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class PersonOut(Schema):
    name: str
    phone_masked: str


class ActorOut(Schema):
    name: str
    role: str
    department: CodeName | None


class EventOut(Schema):
    id: int
    action: str = Field(description="A move (accept, dispatch…), report, or a note (urge…)")
    action_label: str
    from_status: str
    to_status: str
    note: str
    at: datetime
    by: str = Field(description="Who, as a role or department name (never a person's name)")
    actor: ActorOut | None = Field(description="Staff only: the person")
    data: dict[str, Any] | None = Field(description="Staff only: the move's details")
    photo_ids: list[int]


class PhotoOut(Schema):
    id: int
    kind: str = Field(description="report, reply or check")
    width: int
    height: int
    created_at: datetime
    url: str = Field(description="A page of this site that checks the viewer's scope")
    thumbnail_url: str


class AssignmentOut(Schema):
    department: CodeName
    role: str


class ExtensionOut(Schema):
    id: int
    case_id: int
    department: CodeName
    requested_by: str
    reason: str
    amount: int
    unit: str
    old_deadline: datetime
    new_deadline: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    created_at: datetime


class WhistleCallOut(Schema):
    id: int
    department: CodeName
    reported_at: datetime | None
    reported_by: str | None
    note: str
    response_minutes: int | None = Field(description="From the whistle to reporting in")


class ExemptionOut(Schema):
    id: int
    case_id: int
    case_number: str
    reason: str
    note: str
    status: str
    requested_by: str
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    created_at: datetime


class ExtensionPageOut(Schema):
    items: list[ExtensionOut]
    next: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class ExemptionPageOut(Schema):
    items: list[ExemptionOut]
    next: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class WhistleOut(Schema):
    id: int
    case_id: int
    called_by: str
    note: str
    created_at: datetime
    calls: list[WhistleCallOut]


class CaseDetailOut(Schema):
    """One case at the viewer's level: `staff` sees it all; `reporter` (the reporter and
    residents following it) the place, photos and the public timeline without names;
    `public` (other residents) the matter, status, grid, dates, description and the public
    timeline only. What a level may not see is null."""

    id: int
    number: str
    level: Level
    matter: CodeName
    status: str
    status_label: str
    grid: CodeName
    description: str
    reported_at: datetime
    accepted_at: datetime | None
    dispatched_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    archived_at: datetime | None
    deadline: datetime | None
    overdue: bool
    lead_department: CodeName | None
    supporters: int = Field(description="Residents who said “me too” or were merged in")
    merged_into: str | None = Field(description="The number of the case this one joined")
    timeline: list[EventOut]
    actions: list[str] = Field(description="The moves the viewer may take now")
    # reporter and staff
    source: str | None
    urgency: str | None
    lon: float | None
    lat: float | None
    address: str | None
    satisfaction: str | None
    resolved: bool | None
    photos: list[PhotoOut] | None
    # the reporter themself and staff
    anonymous: bool | None
    answers: dict[str, Any] | None
    # staff only
    reporter: PersonOut | None = Field(description="Staff only; null when anonymous")
    contact_name: str | None
    contact_phone_masked: str | None
    external_ref: str | None
    rework_count: int | None
    sendback_count: int | None
    reopen_count: int | None
    assignments: list[AssignmentOut] | None
    extensions: list[ExtensionOut] | None
    whistles: list[WhistleOut] | None


class DuplicateOut(Schema):
    case_id: int
    number: str
    matter: CodeName
    status: str
    status_label: str
    grid: CodeName
    description: str
    reported_at: datetime
    supporters: int
    distance_m: float
    similarity: float = Field(description="0–1, by character bigrams")


class DuplicateQuery(Schema):
    matter: str = Field(max_length=16)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    description: str = Field("", max_length=TEXT_CAP)
