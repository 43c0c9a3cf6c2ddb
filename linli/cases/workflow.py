"""The case workflow as data: the states, the actions and the one table of legal moves
(STYLE.md 8). Services in case_services.py consult TRANSITIONS and nothing else, and
tests/test_workflow.py walks every (state, action) pair against it.

The steps follow the national model (governance-standards §1.4: 受理 → 立案 → 派遣 → 处置 →
反馈 → 核查结案 → 评价) and the 12345 work-order states (§2.4), with the side paths
send-back (退单), rework (返工), reopen (重办) and park (挂账).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    REPORTED = "reported", _("reported")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")
    DISPATCHED = "dispatched", _("dispatched")
    SIGNED = "signed", _("signed for")
    HANDLING = "handling", _("being handled")
    REPLIED = "replied", _("replied")
    CLOSED = "closed", _("closed")
    RATED = "rated", _("rated")
    ARCHIVED = "archived", _("archived")
    PARKED = "parked", _("parked")
    MERGED = "merged", _("merged into another case")


class Action(models.TextChoices):
    ACCEPT = "accept", _("accept")
    REJECT = "reject", _("reject")
    DISPATCH = "dispatch", _("dispatch")
    SIGN = "sign", _("sign for")
    SEND_BACK = "send_back", _("send back")
    START = "start", _("start handling")
    REPLY = "reply", _("reply")
    VERIFY_PASS = "verify_pass", _("pass the check")
    VERIFY_FAIL = "verify_fail", _("fail the check")
    RATE = "rate", _("record the rating")
    REOPEN = "reopen", _("reopen")
    ARCHIVE = "archive", _("archive")
    PARK = "park", _("park")
    RESUME = "resume", _("resume")
    MERGE = "merge", _("merge into another case")


S, A = Status, Action

# (from status, action) → to status: the whole workflow. Creating a case ("report") is
# not a move; it always starts in REPORTED.
_MOVES = {
    (S.REPORTED, A.ACCEPT): S.ACCEPTED,
    (S.REPORTED, A.REJECT): S.REJECTED,
    (S.ACCEPTED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.SIGN): S.SIGNED,
    # A department may return a mis-dispatched case with a reason (§2.4); the centre then
    # re-dispatches it or insists.
    (S.DISPATCHED, A.SEND_BACK): S.ACCEPTED,
    (S.SIGNED, A.START): S.HANDLING,
    (S.HANDLING, A.REPLY): S.REPLIED,
    (S.REPLIED, A.VERIFY_PASS): S.CLOSED,
    # A failed on-site check is rework (返工), counted against the department.
    (S.REPLIED, A.VERIFY_FAIL): S.HANDLING,
    (S.CLOSED, A.RATE): S.RATED,
    (S.RATED, A.ARCHIVE): S.ARCHIVED,
    # 重办: an unsatisfied callback sends the case straight back to the same department.
    (S.RATED, A.REOPEN): S.DISPATCHED,
    # 挂账: cannot be solved now (§1.4); explained in writing, resumed later.
    (S.ACCEPTED, A.PARK): S.PARKED,
    (S.DISPATCHED, A.PARK): S.PARKED,
    (S.SIGNED, A.PARK): S.PARKED,
    (S.HANDLING, A.PARK): S.PARKED,
    (S.PARKED, A.RESUME): S.ACCEPTED,
    # A duplicate of an open case is merged into it before anyone works on it; its
    # reporter then follows the case it was merged into and hears its outcome.
    (S.REPORTED, A.MERGE): S.MERGED,
    (S.ACCEPTED, A.MERGE): S.MERGED,
}
# Plain strings, so that a status read from the database looks up the same key.
TRANSITIONS: dict[tuple[str, str], str] = {
    (status.value, action.value): to.value for (status, action), to in _MOVES.items()
}

# Moves a reporter sees on the public timeline of their case. Send-backs and failed checks
# are the centre's business with the department.
PUBLIC_ACTIONS = frozenset(
    {"report"} | {a.value for a in Action} - {A.SEND_BACK.value, A.VERIFY_FAIL.value}
)

# States in which the case is still someone's work; the rest are ended or waiting on the
# reporter.
OPEN_STATUSES = frozenset(
    s.value
    for s in (S.REPORTED, S.ACCEPTED, S.DISPATCHED, S.SIGNED, S.HANDLING, S.REPLIED, S.PARKED)
)
# States in which a department is working against a deadline (the SLA sweep's scope).
RUNNING_STATUSES = frozenset(s.value for s in (S.DISPATCHED, S.SIGNED, S.HANDLING))
# States a case reaches only through a passed on-site check.
CLOSED_STATUSES = frozenset(s.value for s in (S.CLOSED, S.RATED, S.ARCHIVED))


# Timeline entries that record something about a case without moving it: "me too" support,
# extensions, supervision by the centre and by the SLA sweep, the whistle and the departments
# reporting in, photos added. Their from and to are the case's current status.
class Note(models.TextChoices):
    MERGED_IN = "merged_in", _("duplicate merged in")
    EXTENSION_REQUEST = "extension_request", _("extension requested")
    EXTENSION_APPROVE = "extension_approve", _("extension approved")
    EXTENSION_REFUSE = "extension_refuse", _("extension refused")
    URGE = "urge", _("urged (催办)")
    REMIND = "remind", _("deadline reminder")
    SUPERVISE = "supervise", _("overdue notice (督办)")
    ESCALATE = "escalate", _("escalated to the leaders")
    WHISTLE = "whistle", _("whistle blown (吹哨)")
    REPORT_IN = "report_in", _("department reported in (报到)")
    COMMENT = "comment", _("note")
    EXEMPTION_REQUEST = "exemption_request", _("exemption from the KPIs asked for")
    EXEMPTION_APPROVE = "exemption_approve", _("exempted from the KPIs")
    EXEMPTION_REFUSE = "exemption_refuse", _("exemption refused")
    RECLASSIFY = "reclassify", _("matter changed")


# Which of these the reporter sees on the public timeline.
PUBLIC_NOTES = frozenset({Note.MERGED_IN.value, Note.EXTENSION_APPROVE.value})


def allowed_actions(status: str) -> list[str]:
    """The actions legal from `status`, in the order of Action."""
    return [action.value for action in Action if (status, action.value) in TRANSITIONS]


def target(status: str, action: str) -> str | None:
    """Where `action` takes a case in `status`, or None when the move is illegal."""
    return TRANSITIONS.get((status, action))
