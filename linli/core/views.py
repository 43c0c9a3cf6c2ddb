from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

# django-ratelimit's own decorator does not say how long is left; its windows are at most
# this long in linli's settings.
DEFAULT_RETRY_AFTER = 600


def rate_limited(
    request: HttpRequest, exception: Exception | None, *, retry_after: int | None = None
) -> HttpResponse:
    """429 with Retry-After (seconds), in the page's or the API's shape. Also
    RATELIMIT_VIEW, django-ratelimit's answer for its decorator."""
    wait = retry_after or DEFAULT_RETRY_AFTER
    minutes = max(1, -(-wait // 60))
    message = ngettext(
        "Too many requests. Please wait %(minutes)d minute and try again.",
        "Too many requests. Please wait %(minutes)d minutes and try again.",
        minutes,
    ) % {"minutes": minutes}
    if request.path.startswith(("/api/", "/open311/")):
        response = JsonResponse(
            {"code": "rate_limited", "message": message, "fields": {}}, status=429
        )
    else:
        response = render(request, "core/error.html", {"title": message}, status=429)
    response["Retry-After"] = str(wait)
    return response
