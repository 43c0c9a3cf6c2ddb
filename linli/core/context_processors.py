from django.conf import settings

from linli.core.navigation import nav_for


def site(request):
    return {
        "site_name": settings.LINLI_SITE_NAME,
        "nav_items": nav_for(request.user) if hasattr(request, "user") else [],
    }
