"""What every register page shares: the role gate and service errors on forms."""

from linli.core.decorators import permission_required
from linli.core.errors import DomainError
from linli.people import permissions

# Signed in, and in a role that works with the register person by person.
register_required = permission_required(permissions.may_use_register)


def problems_text(exc: DomainError) -> str:
    """A service's error as one line, for a message above the page."""
    problems = [str(m) for errors in exc.fields.values() for m in errors]
    return " ".join(problems) or str(exc.message)
