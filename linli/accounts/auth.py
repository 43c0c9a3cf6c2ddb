"""Bearer-token authentication for the JSON API: `Authorization: Bearer <token>`.

Every API request starts here, so it costs one indexed query for a resident — the token by
its hash, joined to its user — and one more for each of a staff user's area and department.
Each query's SQL is compiled once per database connection: compiling it through the ORM
took longer than the database took to answer it, and PostgreSQL plans a join of the token,
the user, the area and the department four times as long as the token and the user alone
(docs/performance.md, intake).
"""

import hashlib
import weakref
from datetime import timedelta

from django.db import connections, router
from django.db.models.query import get_related_populators
from django.utils import timezone
from ninja.security import HttpBearer

from linli.accounts.models import ApiToken, Department
from linli.areas.models import Area

# Writing last_used_at on every request would turn each read into a write; once every few
# minutes is enough to tell an administrator which tokens are alive.
LAST_USED_GRANULARITY = timedelta(minutes=5)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class _CompiledLookup:
    """`queryset.filter(<field>=value).first()`-like reads of a field that is unique,
    compiled once per connection (connections belong to a thread) and read back as
    Django's ModelIterable reads a queryset: the database's converters, then the model and
    its select_related objects. `sample` is any value of the field, to compile with."""

    def __init__(self, queryset, field: str, sample):
        self.queryset = queryset
        self.field = field
        self.sample = sample
        self._compiled = weakref.WeakKeyDictionary()

    def _compile(self, connection):
        queryset = self.queryset.filter(**{self.field: self.sample})
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if len(params) != 1:
            raise ValueError(f"expected one parameter, the {self.field}; got {params!r}")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        compiled = (
            compiler,
            sql,
            compiler.get_converters([column for column, _sql, _alias in select]),
            [column.target.attname for column, _sql, _alias in select[start:end]],
            (start, end),
            get_related_populators(klass_info, select, connection.alias),
        )
        self._compiled[connection] = compiled
        return compiled

    def get(self, value):
        model = self.queryset.model
        connection = connections[router.db_for_read(model)]
        compiled = self._compiled.get(connection) or self._compile(connection)
        compiler, sql, converters, attnames, (start, end), populators = compiled
        with connection.cursor() as cursor:
            cursor.execute(sql, [value])
            rows = cursor.fetchall()
        if converters:
            rows = compiler.apply_converters(rows, converters)
        for row in rows:
            obj = model.from_db(connection.alias, attnames, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            return obj
        return None


_token_lookup = _CompiledLookup(ApiToken.objects.select_related("user").order_by(), "key_hash", "")
# A staff user's area is their scope: checking it needs the area's path, not its boundary.
_area_lookup = _CompiledLookup(Area.objects.defer("geometry").order_by(), "pk", 0)
_department_lookup = _CompiledLookup(Department.objects.order_by(), "pk", 0)


def api_token_for(raw: str) -> ApiToken | None:
    """The live token (not revoked, not expired, of an active user) whose hash matches,
    with its user and the user's area and department; None otherwise."""
    api_token = _token_lookup.get(token_hash(raw))
    if api_token is None or api_token.revoked_at is not None:
        return None
    user = api_token.user
    if api_token.expires_at <= timezone.now() or not user.is_active:
        return None
    # Loaded here so that scope checks and names cost no query later. Both are protected
    # from deletion while a user points at them.
    if user.area_id is not None:
        user.area = _area_lookup.get(user.area_id)
    if user.department_id is not None:
        user.department = _department_lookup.get(user.department_id)
    return api_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        if not token:
            return None
        api_token = api_token_for(token)
        if api_token is None:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        request.api_token = api_token
        return api_token.user


token_auth = TokenAuth()
