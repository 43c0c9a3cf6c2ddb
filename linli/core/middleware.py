from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import get_supported_language_variant

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
