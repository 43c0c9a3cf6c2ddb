from django.db.models import Count, QuerySet

from linli.accounts.models import ApiToken
from linli.accounts.scopes import restrict_to_areas, scope_root, sees_everything
from linli.areas.models import Area, Building


def home_summary_for(*, viewer) -> dict:
    """What the landing page shows: the viewer's scope and how many places it holds."""
    areas = restrict_to_areas(Area.objects.all(), viewer)
    by_level = dict(areas.values_list("level").annotate(n=Count("id")).order_by())
    return {
        "scope": None if sees_everything(viewer) else scope_root(viewer),
        "department": viewer.department if viewer.role == "handler" else None,
        "counts": [
            (label, by_level.get(level, 0))
            for level, label in Area.Level.choices
            if by_level.get(level)
        ],
        "buildings": restrict_to_areas(Building.objects.all(), viewer, "grid").count()
        if by_level
        else 0,
    }


def profile_for(*, viewer) -> dict:
    """The viewer's own account: role, scope and the masked mobile number."""
    return {
        "account": viewer,
        "scope": scope_root(viewer),
        "department": viewer.department if viewer.role == "handler" else None,
        "phone_masked": viewer.phone_masked,
        "has_phone": bool(viewer.phone_encrypted),
    }


def api_tokens_for(*, viewer) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=viewer).order_by("-created_at")
