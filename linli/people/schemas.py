"""Shapes of the register's JSON API. Output schemas carry masked personal data only: the
full ID number, phone or address leaves the server through `POST …/reveal` alone, which
writes an access-log row."""

from datetime import date, datetime
from typing import Literal

from django.utils import timezone
from ninja import Schema
from pydantic import Field

from linli.people.models import Household, Resident, Visit


class GridOut(Schema):
    code: str
    name: str


class TagOut(Schema):
    code: str
    name: str
    grade: str

    @staticmethod
    def resolve_code(link) -> str:
        return link.tag.code

    @staticmethod
    def resolve_name(link) -> str:
        return link.tag.name


# --- households ----------------------------------------------------------------------------


class HouseholdOut(Schema):
    id: int
    number: str
    grid: GridOut
    building_code: str | None
    # Down to the unit; the room is personal data and is shown only through reveal.
    address_masked: str
    tenure: Household.Tenure
    registration: Household.Registration
    is_active: bool
    n_members: int = Field(description="People living here now")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_building_code(household) -> str | None:
        return household.building.code if household.building_id else None


class MemberOut(Schema):
    id: int
    name: str
    relation: Resident.Relation
    moved_out_on: date | None


class HouseholdDetailOut(HouseholdOut):
    note: str
    members: list[MemberOut]

    @staticmethod
    def resolve_members(household) -> list:
        # Loaded by the API through selectors.household_members_for (scoped).
        return household.member_list


class HouseholdIn(Schema):
    grid: str = Field(max_length=20, description="Code of a grid or micro-grid in your scope")
    building: str | None = Field(default=None, max_length=40, description="Building code")
    address: str = Field(max_length=200, description="Street address down to the building")
    unit: str = Field(default="", max_length=20)
    room: str = Field(default="", max_length=20)
    tenure: Household.Tenure
    registration: Household.Registration
    note: str = Field(default="", max_length=2000)


class HouseholdPatch(Schema):
    """Only the fields sent change. `grid` moves the household (and its people) to another
    grid in your scope."""

    grid: str | None = Field(default=None, max_length=20)
    building: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=200)
    unit: str | None = Field(default=None, max_length=20)
    room: str | None = Field(default=None, max_length=20)
    tenure: Household.Tenure | None = None
    registration: Household.Registration | None = None
    note: str | None = Field(default=None, max_length=2000)
    is_active: bool | None = None


# --- residents -----------------------------------------------------------------------------


class HouseholdBriefOut(Schema):
    id: int
    number: str
    address_masked: str
    grid: GridOut


class ResidentOut(Schema):
    id: int
    name: str
    gender: Resident.Gender
    birth_date: date
    ethnicity: str
    relation: Resident.Relation
    id_number_masked: str
    phone_masked: str
    household: HouseholdBriefOut
    moved_in_on: date | None
    moved_out_on: date | None
    next_visit_due: date | None
    tags: list[TagOut] = Field(description="Tags the caller may see")

    @staticmethod
    def resolve_tags(resident) -> list:
        # Prefetched by selectors.resident_list_for without the sensitive tags the caller
        # may not see; never resident.tags, which holds them all.
        return resident.visible_tag_links


class TalentOut(Schema):
    skill: str
    detail: str
    certificate: str
    willing_to_serve: bool


class ResidentDetailOut(ResidentOut):
    moved_out_reason: str
    talents: list[TalentOut]

    @staticmethod
    def resolve_talents(resident) -> list:
        return list(resident.talents.all())


class OverdueOut(ResidentOut):
    days_overdue: int

    @staticmethod
    def resolve_days_overdue(resident) -> int:
        return (timezone.localdate() - resident.next_visit_due).days


class ResidentIn(Schema):
    household: int = Field(description="Household id")
    name: str = Field(max_length=50)
    relation: Resident.Relation
    id_number: str = Field(
        default="", max_length=30, description="18 characters; birth date and gender follow it"
    )
    birth_date: date | None = Field(default=None, description="Needed without an ID number")
    gender: Literal["", "M", "F"] = Field(default="", description="Needed without an ID number")
    phone: str = Field(default="", max_length=30)
    ethnicity: str = Field(default="", max_length=10, description="One of the 56; 汉族 if empty")
    moved_in_on: date | None = None


class ResidentPatch(Schema):
    """Only the fields sent change; an empty `phone` removes the phone."""

    name: str | None = Field(default=None, max_length=50)
    relation: Resident.Relation | None = None
    id_number: str | None = Field(default=None, max_length=30)
    birth_date: date | None = None
    gender: Literal["", "M", "F"] | None = None
    phone: str | None = Field(default=None, max_length=30)
    ethnicity: str | None = Field(default=None, max_length=10)
    moved_in_on: date | None = None


class MoveOutIn(Schema):
    on: date | None = Field(default=None, description="Today if not given")
    reason: str = Field(default="", max_length=100)


class RevealIn(Schema):
    field: Literal["id_number", "phone", "address"]
    reason: str = Field(default="", max_length=200, description="Required; written to the log")


class RevealOut(Schema):
    field: str
    value: str


# --- visits --------------------------------------------------------------------------------


class VisitResidentOut(Schema):
    id: int
    name: str
    household_number: str

    @staticmethod
    def resolve_household_number(resident) -> str:
        return resident.household.number


class VisitOut(Schema):
    id: int
    resident: VisitResidentOut
    visitor: str
    visited_at: datetime
    method: Visit.Method
    findings: str
    follow_up_needed: bool
    follow_up_note: str
    n_photos: int = Field(description="Photos are uploaded and seen through the visit page")
    created_at: datetime

    @staticmethod
    def resolve_visitor(visit) -> str:
        return visit.visitor.name or visit.visitor.username

    @staticmethod
    def resolve_n_photos(visit) -> int:
        return len(visit.photos.all())


class VisitIn(Schema):
    resident: int = Field(description="Resident id")
    method: Visit.Method
    findings: str = Field(max_length=2000)
    visited_at: datetime | None = Field(default=None, description="Now if not given")
    follow_up_needed: bool = False
    follow_up_note: str = Field(default="", max_length=500)


class VisitPatch(Schema):
    """The visitor may correct their own visit within 24 hours of recording it."""

    findings: str | None = Field(default=None, max_length=2000)
    follow_up_needed: bool | None = None
    follow_up_note: str | None = Field(default=None, max_length=500)


class TagIn(Schema):
    tag: str = Field(max_length=40, description="The tag's code, e.g. elderly-alone")
    grade: str = Field("", max_length=20, description="Needed by a tag with grades")
    note: str = Field("", max_length=200)
