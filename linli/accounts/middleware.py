import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login

SIGNED_IN_AT = "linli_signed_in_at"
LAST_SEEN_AT = "linli_last_seen_at"


class SessionLifetimeMiddleware:
    """Ends a session idle for LINLI_IDLE_TIMEOUT_MINUTES or older than
    LINLI_SESSION_MAX_HOURS. The cookie's age already slides; the server-side clock
    means a copied cookie cannot be kept alive past either limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            started = request.session.setdefault(SIGNED_IN_AT, now)
            last = request.session.get(LAST_SEEN_AT, now)
            idle = settings.LINLI_IDLE_TIMEOUT_MINUTES * 60
            if now - last > idle or now - started > settings.LINLI_SESSION_MAX_HOURS * 3600:
                logout(request)
                if not request.path.startswith("/api/"):
                    return redirect_to_login(request.get_full_path())
            else:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)
