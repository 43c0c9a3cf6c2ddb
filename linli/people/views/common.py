"""What every register page shares: the role gate and service errors on forms."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from linli.core.errors import DomainError
from linli.people import permissions


def register_required(view):
    """Signed in, and in a role that works with the register person by person."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not permissions.may_use_register(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def problems_text(exc: DomainError) -> str:
    """A service's error as one line, for a message above the page."""
    problems = [str(m) for errors in exc.fields.values() for m in errors]
    return " ".join(problems) or str(exc.message)
