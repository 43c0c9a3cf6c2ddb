"""linli's statuses as Open311 reads them (docs/open311.md, "Statuses"): `open` or
`closed`, and the extended status of the mySociety extensions (open311.md X5)."""

from linli.cases.workflow import CLOSED_STATUSES, Action, Status

# X5, lower case.
EXTENDED = (
    "open",
    "closed",
    "fixed",
    "in_progress",
    "planned",
    "action_scheduled",
    "investigating",
    "duplicate",
    "not_councils_responsibility",
    "no_further_action",
    "internal_referral",
    "cancelled",
    "reopen",
    "for_triage",
    "unchanged",
)
# Which side each extended status stands on; "unchanged" on neither.
OPEN_OR_CLOSED = {
    "open": "open",
    "in_progress": "open",
    "planned": "open",
    "action_scheduled": "open",
    "investigating": "open",
    "reopen": "open",
    "for_triage": "open",
    "internal_referral": "open",
    "closed": "closed",
    "fixed": "closed",
    "duplicate": "closed",
    "not_councils_responsibility": "closed",
    "no_further_action": "closed",
    "cancelled": "closed",
}
# linli status → extended status.
BY_STATUS = {
    Status.REPORTED: "open",
    Status.ACCEPTED: "investigating",
    Status.DISPATCHED: "action_scheduled",
    Status.SIGNED: "in_progress",
    Status.HANDLING: "in_progress",
    Status.REPLIED: "in_progress",
    # Parked (挂账): it cannot be solved now and waits, still open, to be taken up again.
    Status.PARKED: "planned",
    Status.CLOSED: "fixed",
    Status.RATED: "fixed",
    Status.ARCHIVED: "fixed",
    Status.REJECTED: "no_further_action",
    Status.MERGED: "duplicate",
}
ENDED = CLOSED_STATUSES | {Status.REJECTED.value, Status.MERGED.value}


def open_or_closed(status: str) -> str:
    """Open311's status of a case: closed once checked on site (or merged, or refused)."""
    return "closed" if status in ENDED else "open"


def extended(status: str, action: str = "") -> str:
    """The extended status of a case in `status`; a reopen reads "reopen"."""
    if action == Action.REOPEN:
        return "reopen"
    return BY_STATUS.get(status, "open")
