"""Small database helpers shared by the apps."""

from datetime import date, datetime

from django.db import connection, connections, models


def planner_statistics_refresh() -> None:
    """ANALYZE every table, after a bulk load (the demo build, a large import).

    Fresh from a bulk load the query planner has no statistics: SQLite then joins the
    register's tables in the wrong order and a grid worker's page takes three times as long
    (docs/performance.md). PostgreSQL's autovacuum would catch up within minutes; SQLite
    has no such thing. Allowed inside a transaction on both."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- one row, inserted at the cost of the SQL -----------------------------------------------

# Field types whose Python value of one of these exact types is what the database drivers
# take as it is (sqlite3 and psycopg alike): no conversion to do, so none is called.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
# Django's own classes, not their names: a subclass may convert in its own way (encrypt,
# say), so it keeps its get_db_prep_save.
_PLAIN_FIELDS = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.SmallAutoField,
        models.BigIntegerField,
        models.BooleanField,
        models.CharField,
        models.FloatField,
        models.ForeignKey,
        models.IntegerField,
        models.OneToOneField,
        models.PositiveBigIntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.SlugField,
        models.SmallIntegerField,
        models.TextField,
    }
)
PLAIN, MOMENT, DAY, OTHER = range(4)
_inserts: dict = {}
# The save() arguments row_insert honours; any other (update_fields, a forced update…)
# goes the usual way.
INSERT_ONLY = frozenset({"force_insert", "using"})


def _kind(field) -> int:
    kind = type(field)
    if kind in _PLAIN_FIELDS:
        return PLAIN
    # What DateTimeField and DateField do for an aware datetime and a date: the backend's
    # adapter, the rest of their conversion being for other inputs.
    if kind is models.DateTimeField:
        return MOMENT
    return DAY if kind is models.DateField else OTHER


def _insert_plan(model, connection, with_pk: bool):
    key = (model, connection.alias, with_pk)
    plan = _inserts.get(key)
    if plan is not None:
        return plan
    meta = model._meta
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    quote = connection.ops.quote_name
    # The model's own table and column names, quoted; the values go as parameters.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    returning = not with_pk and connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {quote(meta.pk.column)}"
    columns = [
        (
            field,
            field.attname,
            _kind(field),
            # auto_now / auto_now_add: only pre_save sets them.
            bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)),
        )
        for field in fields
    ]
    relations = [field for field in fields if field.is_relation]
    plan = _inserts[key] = (sql, columns, relations, returning)
    return plan


def _related_check(instance, relations) -> None:
    """What save does before an insert: a related object assigned before it had an id is
    an error rather than a NULL, and one saved since lends its id."""
    for field in relations:
        if not field.is_cached(instance):
            continue
        obj = field.get_cached_value(instance)
        if obj is None:
            continue
        if obj.pk is None:
            raise ValueError(
                "save() prohibited to prevent data loss due to unsaved related object "
                f"'{field.name}'."
            )
        if getattr(instance, field.attname) in field.empty_values:
            setattr(instance, field.attname, obj.pk)
        if getattr(obj, field.target_field.attname) != getattr(instance, field.attname):
            field.delete_cached_value(instance)


def row_insert(instance, using: str) -> bool:
    """INSERT one new model instance, as `save(force_insert=True)` would, for a fraction
    of the CPU: the statement is built once per model and database, and a value that is
    already what the driver takes (a str for a text column, an int for a key) skips
    Django's per-field conversion, which dominates a wide row's insert; an aware datetime
    or a date goes straight to the backend's adapter. Any other value goes through the
    field's own `get_db_prep_save`. False, having done nothing, for a model with save
    signals or parents: the caller then saves as usual."""
    model = type(instance)
    if model._meta.parents or any(
        signal.has_listeners(model)
        for signal in (models.signals.pre_save, models.signals.post_save)
    ):
        return False
    connection = connections[using]
    with_pk = instance.pk is not None
    sql, columns, relations, returning = _insert_plan(model, connection, with_pk)
    _related_check(instance, relations)
    adapt_moment = connection.ops.adapt_datetimefield_value
    adapt_day = connection.ops.adapt_datefield_value
    values = []
    for field, attname, kind, auto in columns:
        value = field.pre_save(instance, True) if auto else getattr(instance, attname)
        if kind == PLAIN:
            if type(value) not in _PLAIN_TYPES:
                value = field.get_db_prep_save(value, connection)
        elif kind == MOMENT and (
            value is None or (type(value) is datetime and value.utcoffset() is not None)
        ):
            value = adapt_moment(value)
        elif kind == DAY and (value is None or type(value) is date):
            value = adapt_day(value)
        else:
            value = field.get_db_prep_save(value, connection)
        values.append(value)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if not with_pk:
            if returning:
                new_pk = cursor.fetchone()[0]
            else:
                new_pk = connection.ops.last_insert_id(
                    cursor, model._meta.db_table, model._meta.pk.column
                )
            instance.pk = new_pk
    instance._state.adding = False
    instance._state.db = using
    return True
