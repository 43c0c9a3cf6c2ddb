"""Cursor ("keyset") pagination for every list of the JSON API, as the cases list does it
(linli.cases.api.CasePaginator): each page continues strictly after the last row of the
one before in the list's order, so rows added or removed while a client walks the list
never shift a page (no repeats, no gaps), and a page deep in a long list costs what the
first one does, where an offset would make the database count past every row before it.
The cursor is signed: opaque to clients, and a tampered or foreign one is refused."""

import datetime
from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from linli.core.errors import DomainError

PAGE_DEFAULT = 50
PAGE_MAX = 100


def _order_of(queryset: QuerySet) -> list[str]:
    """The queryset's order (its own, else its model's), ending in the primary key so that
    every row has a distinct place."""
    order = [str(f) for f in (queryset.query.order_by or queryset.model._meta.ordering)]
    if not order or order[-1].lstrip("-") not in ("id", "pk"):
        descending = bool(order) and order[-1].startswith("-")
        order.append("-id" if descending else "id")
    return order


def _value(row: Any, field: str) -> Any:
    for name in field.lstrip("-").split("__"):
        row = getattr(row, "pk" if name == "id" else name)
    if row is None:
        # A NULL has no place in a strict order; lists paged here sort on fields that
        # cannot be NULL (the cases list, whose deadlines can, has CasePaginator).
        raise ValueError(f"{field} is NULL: cannot page past it")
    if isinstance(row, datetime.date | datetime.datetime):
        # Django's date and time fields read ISO 8601 back in a lookup.
        return row.isoformat()
    return row


def _after(order: list[str], values: list) -> Q:
    """Rows strictly after `values` in `order`: the first field further on, or equal and
    the next further on, and so on."""
    after = Q()
    for i in reversed(range(len(order))):
        field = order[i].lstrip("-")
        lookup = "lt" if order[i].startswith("-") else "gt"
        further = Q(**{f"{field}__{lookup}": values[i]})
        after = further if i == len(order) - 1 else further | (Q(**{field: values[i]}) & after)
    return after


class KeysetPage:
    """One page of `queryset` in its order after `cursor`, and the cursor of the next."""

    SALT = "linli.core.pagination.cursor"

    def __init__(self, queryset: QuerySet):
        self.order = _order_of(queryset)
        self.queryset = queryset.order_by(*self.order)

    def _decode(self, cursor: str) -> list:
        message = _("This cursor is not valid for this list; start again without one.")
        try:
            data = signing.loads(cursor, salt=self.SALT)
            if data["order"] != self.order or len(data["key"]) != len(self.order):
                raise ValueError(data["order"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise DomainError("invalid", message, {"cursor": [message]}) from None
        return data["key"]

    def page(self, *, cursor: str | None, limit: int) -> tuple[list, str | None]:
        rows = self.queryset
        if cursor:
            rows = rows.filter(_after(self.order, self._decode(cursor)))
        rows = list(rows[: limit + 1])
        following = None
        if len(rows) > limit:
            rows = rows[:limit]
            key = [_value(rows[-1], field) for field in self.order]
            following = signing.dumps({"order": self.order, "key": key}, salt=self.SALT)
        return rows, following


class PageQuery(Schema):
    """`?limit=&cursor=` of a list that pages by KeysetPage itself."""

    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX, description="Rows per page")
    cursor: str | None = Field(
        None, max_length=1000, description="`next` of the previous page; left out: the first"
    )


class CursorPagination(PaginationBase):
    """`@paginate(CursorPagination)`: `?limit=&cursor=` in, `{"items", "next"}` out."""

    Input = PageQuery

    class Output(Schema):
        items: list[Any]
        next: str | None = Field(description="Pass as `cursor` for the next page; null at the end")

    items_attribute = "items"

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params
    ) -> dict:
        rows, following = KeysetPage(queryset).page(
            cursor=pagination.cursor, limit=pagination.limit
        )
        return {"items": rows, "next": following}
