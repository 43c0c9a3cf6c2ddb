from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import get_supported_language_variant
from django.utils.translation import gettext as _

# No inline script anywhere: data reaches scripts through json_script blocks or data-*
# attributes, so script-src can stay 'self'. Leaflet positions map panes with inline styles.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob: {tiles}",
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _tile_origin(url: str) -> str:
    if not url:
        return ""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    # Subdomain placeholders ({s}.tile.example.org) become a wildcard.
    host = host.replace("{s}", "*")
    return f"{scheme}://{host}"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = CSP.format(tiles=_tile_origin(settings.LINLI_TILE_URL)).replace("  ", " ")

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", "camera=(self), geolocation=(self)")
        return response


class LanguageMiddleware(LocaleMiddleware):
    """Pages speak Simplified Chinese unless the user chose another language (the cookie
    set by /i18n/setlang/); a browser's Accept-Language alone does not switch a street
    office's screens to English. API clients (/api/, /open311/) are answered in the
    language they ask for with Accept-Language."""

    API_PREFIXES = ("/api/", "/open311/")

    def process_request(self, request):
        if request.path.startswith(self.API_PREFIXES):
            return super().process_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        try:
            language = get_supported_language_variant(chosen) if chosen else None
        except LookupError:
            language = None
        translation.activate(language or settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = translation.get_language()


MULTIPART = "multipart/form-data"


class RequestSizeLimitMiddleware:
    """Refuses a body larger than the limit with 413 from its Content-Length alone, before
    anything reads it (CsrfViewMiddleware reads a form's body in process_view, which runs
    after every middleware's __call__). Django reads a JSON or urlencoded body into memory
    whole, so those stop at DATA_UPLOAD_MAX_MEMORY_SIZE; multipart bodies stream their
    files to disk and may carry photos, up to LINLI_MAX_REQUEST_BYTES. The reverse proxy
    should refuse them first (docs/security.md); this is the limit when it does not."""

    API_PREFIXES = ("/api/",)
    OPEN311_PREFIX = "/open311/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if request.content_type == MULTIPART:
            limit = settings.LINLI_MAX_REQUEST_BYTES
        else:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and size > limit:
            return self.refuse(request, size, limit)
        return self.get_response(request)

    def refuse(self, request, size: int, limit: int) -> HttpResponse:
        message = _(
            "The request is %(got).1f MB; at most %(limit).1f MB can be sent at once. "
            "Send fewer or smaller photos, or a shorter text."
        ) % {"got": size / 1024 / 1024, "limit": limit / 1024 / 1024}
        if request.path.startswith(self.API_PREFIXES):
            body = {"code": "too_large", "message": message, "fields": {}}
            return JsonResponse(body, status=413)
        if request.path.startswith(self.OPEN311_PREFIX):
            # GeoReport v2's error shape, in the format the path asks for.
            if request.path.endswith(".xml"):
                xml = (
                    '<?xml version="1.0" encoding="utf-8"?><errors><error><code>413</code>'
                    f"<description>{escape(message)}</description></error></errors>"
                )
                return HttpResponse(xml, status=413, content_type="text/xml; charset=utf-8")
            return JsonResponse([{"code": 413, "description": message}], status=413, safe=False)
        context = {"title": _("Too much to send at once"), "detail": message}
        return render(request, "core/error.html", context, status=413)
