"""The one small set of scope helpers every selector uses (STYLE.md 5, 13).

A staff user's area scope is the subtree under `user.area`; an administrator without an
area sees everything; a department handler's scope is their department (cases, later);
a resident has no area scope and sees only their own records.
"""

from django.db.models import Q, QuerySet

from linli.areas.models import Area

AREA_ROLES = {"grid_worker", "dispatcher", "leader", "admin"}


def sees_everything(user) -> bool:
    return (
        user.is_authenticated and user.is_active and user.role == "admin" and user.area_id is None
    )


def scope_root(user) -> Area | None:
    """The top of the user's area subtree, or None when they have no area scope."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.role not in AREA_ROLES:
        return None
    return user.area


def area_q(user, field: str = "") -> Q:
    """A filter on `field` (a path to an Area, e.g. "grid" or "" for Area itself) that keeps
    only rows inside the user's scope. An empty scope matches nothing."""
    prefix = f"{field}__" if field else ""
    if sees_everything(user):
        return Q()
    root = scope_root(user)
    if root is None:
        return Q(pk__in=[])
    return Q(**{f"{prefix}path__startswith": root.path})


def restrict_to_areas(queryset: QuerySet, user, field: str = "") -> QuerySet:
    return queryset.filter(area_q(user, field))


def can_see_area(user, area: Area) -> bool:
    if sees_everything(user):
        return True
    root = scope_root(user)
    return root is not None and area.is_within(root)
