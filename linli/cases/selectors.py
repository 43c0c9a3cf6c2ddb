"""Reads of the cases app. So far: the catalogue of matters, which every signed-in user
may read (it is not personal), so these selectors take no viewer; `public_only` is what
residents and Open311 clients get."""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from linli.cases.models import Matter, MatterClass, MatterLimit, Urgency

SEARCH_LIMIT = 20


@dataclass(frozen=True)
class MatterGroup:
    matter_class: MatterClass
    matters: list[Matter]


def _active_matters(*, public_only: bool) -> QuerySet[Matter]:
    matters = Matter.objects.filter(is_active=True).select_related("matter_class")
    if public_only:
        matters = matters.filter(public=True)
    return matters


def matter_choices_for(*, public_only: bool) -> list[MatterGroup]:
    """Active matters grouped by class, classes in their sort order, matters by code: the
    list the report page filters as the user types. Classes without such matters are left
    out. One query."""
    groups: dict[int, MatterGroup] = {}
    matters = _active_matters(public_only=public_only).order_by(
        "matter_class__sort", "matter_class__code", "code"
    )
    for matter in matters:
        group = groups.get(matter.matter_class_id)
        if group is None:
            group = groups[matter.matter_class_id] = MatterGroup(matter.matter_class, [])
        group.matters.append(matter)
    return list(groups.values())


def matter_search(q: str, *, public_only: bool = False, limit: int = SEARCH_LIMIT) -> list[Matter]:
    """Active matters whose code starts with `q` (digits), or whose name or keywords
    contain it; exact names first, then names starting with it, then by code."""
    q = q.strip()
    if not q:
        return []
    if q.isdigit():
        found = Q(code__startswith=q)
    else:
        found = Q(name__icontains=q) | Q(keywords__icontains=q)
    rank = Case(
        When(Q(code=q) | Q(name=q), then=Value(0)),
        When(name__startswith=q, then=Value(1)),
        When(name__icontains=q, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    matters = (
        _active_matters(public_only=public_only)
        .filter(found)
        .annotate(rank=rank)
        .order_by("rank", "code")
    )
    return list(matters[:limit])


def matter_limit(matter: Matter, urgency: str) -> MatterLimit | None:
    """The handling limit of `matter` at `urgency`, or its normal limit when the matter has
    no row for that tier (every shipped matter has a normal one); None only for a matter
    without any limit. Uses prefetched `limits` when present."""
    limits = {limit.urgency: limit for limit in matter.limits.all()}
    return limits.get(urgency) or limits.get(Urgency.NORMAL)
