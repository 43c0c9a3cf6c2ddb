"""Form helpers shared by every app's pages."""

from linli.core.errors import DomainError


def form_errors_add(form, exc: DomainError, default: str | None = None) -> None:
    """A service's field errors on the form's fields; the rest on `default` (a field name)
    or, when None, above the form (STYLE.md 7: domain rules live in services)."""
    if not exc.fields:
        form.add_error(default, str(exc.message))
    for field, errors in exc.fields.items():
        for error in errors:
            form.add_error(field if field in form.fields else default, str(error))
