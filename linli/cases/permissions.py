"""Who may move a case, one condition per line (STYLE.md 13).

The centre (dispatchers, and administrators) runs the queue for the grids in its area
scope; the lead department works the case; the grid worker of the case's grid checks it
on site; the reporter rates their own case. Co-handling departments see the case but the
lead answers for it, so only the lead signs, sends back, starts and replies.
"""

from linli.accounts.scopes import can_see_area

CENTRE_ROLES = {"dispatcher", "admin"}

CENTRE_ACTIONS = {
    "accept",
    "reject",
    "dispatch",
    "park",
    "resume",
    "verify_pass",
    "verify_fail",
    "rate",
    "reopen",
    "archive",
    "merge",
}
DEPARTMENT_ACTIONS = {"sign", "send_back", "start", "reply"}
GRID_WORKER_ACTIONS = {"verify_pass", "verify_fail"}
REPORTER_ACTIONS = {"rate"}


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_centre_for(user, case) -> bool:
    if not _active(user):
        return False
    if user.role not in CENTRE_ROLES:
        return False
    return can_see_area(user, case.grid)


def is_lead_handler(user, case) -> bool:
    if not _active(user):
        return False
    if user.role != "handler":
        return False
    if case.lead_department_id is None:
        return False
    return user.department_id == case.lead_department_id


def is_grid_worker_of(user, case) -> bool:
    if not _active(user):
        return False
    if user.role != "grid_worker":
        return False
    return can_see_area(user, case.grid)


def is_reporter_of(user, case) -> bool:
    if not _active(user):
        return False
    return case.reporter_id is not None and case.reporter_id == user.pk


def may_act(user, case, action: str) -> bool:
    """Whether `user` may take `action` on `case`, whatever the case's state."""
    if action in CENTRE_ACTIONS and is_centre_for(user, case):
        return True
    if action in DEPARTMENT_ACTIONS and is_lead_handler(user, case):
        return True
    if action in GRID_WORKER_ACTIONS and is_grid_worker_of(user, case):
        return True
    return action in REPORTER_ACTIONS and is_reporter_of(user, case)
