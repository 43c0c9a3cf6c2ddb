from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer for django-ratelimit: 429 with Retry-After, in the page's or the API's shape."""
    message = _("Too many requests from this address. Please wait a few minutes and try again.")
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"code": "rate_limited", "message": message, "fields": {}}, status=429
        )
    else:
        response = render(request, "core/error.html", {"title": message}, status=429)
    response["Retry-After"] = "600"
    return response
