"""Shapes the whole JSON API shares: the one error body (STYLE.md 15), and bounded types
for ids and dates, so that a value the database or the calendar cannot take (an id past
64 bits, the year 9999 plus a month) is refused at the edge as 422 naming the field,
never answered with a 500 from deep inside a query."""

import datetime
from functools import wraps
from typing import Annotated, Any

from django.utils.translation import gettext
from ninja import Schema
from ninja.errors import ValidationError
from pydantic import BaseModel, Field

# The largest value of a 64-bit primary key (BigAutoField), on SQLite and PostgreSQL alike.
ID_MAX = 2**63 - 1
# Dates a period, a month's end or a time zone can be worked out from and still be a date.
DAY_MIN = datetime.date(1900, 1, 1)
DAY_MAX = datetime.date(2999, 12, 31)


class ErrorOut(Schema):
    """The one error shape of the API: a code to branch on, a message for people, and the
    messages of each field at fault (empty when the request as a whole is refused)."""

    code: str
    message: str
    fields: dict[str, list[str]]


Id = Annotated[int, Field(ge=1, le=ID_MAX)]
Day = Annotated[datetime.date, Field(ge=DAY_MIN, le=DAY_MAX)]
# Compared as dates: an aware and a naive time (a bare date means its midnight) alike.
Moment = Annotated[
    datetime.datetime,
    Field(
        ge=datetime.datetime.combine(DAY_MIN, datetime.time()),
        le=datetime.datetime.combine(DAY_MAX, datetime.time.max),
    ),
]


def nul_fields(value: Any, path: str = "") -> list[str]:
    """Where validated input holds U+0000, as the dotted names of the fields ("note",
    "answers.floor"). PostgreSQL text cannot store it (SQLite can), so it is refused
    before any query, on both databases alike."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, str):
        return [path or "__all__"] if "\x00" in value else []
    if isinstance(value, dict):
        items = [(str(key), inner, "\x00" in str(key)) for key, inner in value.items()]
    elif isinstance(value, list | tuple | set):
        items = [(str(i), inner, False) for i, inner in enumerate(value)]
    else:
        return []
    found = []
    for key, inner, key_has_nul in items:
        name = key.replace("\x00", "")
        name = f"{path}.{name}" if path else name
        found.extend([name] if key_has_nul else nul_fields(inner, name))
    return found


def refuse_nul(view_func):
    """An API operation's view, refusing with 422 validated input that holds U+0000 (its
    schemas and path and query parameters; a body it reads itself checks nul_fields)."""

    @wraps(view_func)
    def view(request, **values):
        fields = []
        for name, value in values.items():
            # A body or a Query[...] schema names its own fields; a parameter its name.
            fields += nul_fields(value, "" if isinstance(value, BaseModel) else name)
        if fields:
            raise nul_refusal(fields)
        return view_func(request, **values)

    return view


def nul_refusal(fields: list[str]) -> ValidationError:
    message = gettext("Remove the NUL character (U+0000): it cannot be stored.")
    return ValidationError([{"loc": ("query", name), "msg": message} for name in fields])
