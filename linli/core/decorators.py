"""The gates every app's pages use: signed in (else the login page), and allowed (else
403). Views stay thin; the rule itself lives in the app's permissions module."""

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def permission_required(check: Callable) -> Callable:
    """Signed in, and `check(user)` holds; else 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def role_required(*roles: str | Iterable[str]) -> Callable:
    """Signed in, active and in one of `roles` (names, or sets of names); else 403."""
    allowed: set[str] = set()
    for role in roles:
        allowed |= {role} if isinstance(role, str) else set(role)
    return permission_required(lambda user: user.is_active and user.role in allowed)
