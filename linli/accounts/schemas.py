from datetime import datetime

from ninja import Schema
from pydantic import Field


class TokenIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(default="", max_length=100)


class TokenOut(Schema):
    token: str
    expires_at: datetime


class ScopeOut(Schema):
    code: str
    name: str
    level: str


class DepartmentOut(Schema):
    code: str
    name: str


class MeOut(Schema):
    username: str
    name: str
    role: str
    role_label: str
    scope: ScopeOut | None
    department: DepartmentOut | None
    phone_masked: str


class TokenInfoOut(Schema):
    """One of the caller's tokens, as the profile page lists it: never the token itself."""

    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to tell it apart")
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    current: bool = Field(description="True for the token this request was made with")

    @staticmethod
    def resolve_current(obj, context) -> bool:
        return obj.pk == context["request"].api_token.pk
