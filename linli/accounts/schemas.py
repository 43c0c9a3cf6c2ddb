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


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]
