"""What every register page shares: the role gate and service errors on forms."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from linli.core.errors import DomainError
from linli.people import permissions


def permission_required(check):
    """Signed in, and `check(user)` holds (one of linli.people.permissions); else 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Signed in, and in a role that works with the register person by person.
register_required = permission_required(permissions.may_use_register)


def problems_text(exc: DomainError) -> str:
    """A service's error as one line, for a message above the page."""
    problems = [str(m) for errors in exc.fields.values() for m in errors]
    return " ".join(problems) or str(exc.message)
