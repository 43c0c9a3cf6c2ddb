"""Who may do what with the register, one condition per line (STYLE.md 13).

Scope follows the grid hierarchy (standards §4.3): a grid worker sees their grid, a
community user their community, a street user the street. Department handlers see no
one (they see cases); leaders see counts, not people; residents see their own household.
"""

from django.conf import settings

from linli.accounts.scopes import can_see_area, sees_everything

# Roles that work with the register person by person (masked by default).
REGISTER_ROLES = {"grid_worker", "dispatcher", "admin"}
# Roles that see the counts by tag of their scope.
OVERVIEW_ROLES = REGISTER_ROLES | {"leader"}


def _active(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def is_resident(user) -> bool:
    """A resident's own pages (their household, their correction requests)."""
    return _active(user) and user.role == "resident"


def may_use_register(user) -> bool:
    return _active(user) and user.role in REGISTER_ROLES


def may_see_overview(user) -> bool:
    return _active(user) and user.role in OVERVIEW_ROLES


def may_edit_area(user, grid) -> bool:
    """Whether `user` may add or change households and residents in `grid`."""
    if not may_use_register(user):
        return False
    return sees_everything(user) or can_see_area(user, grid)


def may_reveal(user) -> bool:
    """See an ID number or phone in full (always with a reason, always logged)."""
    if not may_use_register(user):
        return False
    if user.role in settings.LINLI_REVEAL_ROLES:
        return True
    return user.has_perm("people.reveal_personal_data")


def may_see_sensitive(user) -> bool:
    if not may_use_register(user):
        return False
    if user.role in settings.LINLI_SENSITIVE_ROLES:
        return True
    return user.has_perm("people.view_sensitive_tags")


def may_see_sensitive_counts(user) -> bool:
    """Counts by sensitive tag are still sensitive in a small grid: the same designation
    applies to leaders reading the overview."""
    if not may_see_overview(user):
        return False
    if user.role in settings.LINLI_SENSITIVE_ROLES:
        return True
    return user.has_perm("people.view_sensitive_tags")


def may_export_full(user) -> bool:
    if not may_reveal(user):
        return False
    if user.role in settings.LINLI_FULL_EXPORT_ROLES:
        return True
    return user.has_perm("people.export_full")


def may_read_access_log(user) -> bool:
    return _active(user) and user.role == "admin"
