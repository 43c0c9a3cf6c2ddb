"""Exemptions from the KPIs (免考核): a malicious or unreasonable request, or one outside
the street's remit, is taken out of the rates only with a written reason and the approval
of a leader who did not ask for it (issue 5 §3; docs/kpis.md). Both steps are on the
case's timeline; approved exemptions are listed, and every KPI page counts them.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Case as Case_
from django.db.models import QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scopes import can_see_area
from linli.cases import permissions, selectors
from linli.cases.case_services import _field_error, _forbidden, _note, _record
from linli.cases.models import Case, Exemption, ExemptReason
from linli.cases.workflow import Note, Status
from linli.core.errors import DomainError

APPROVER_ROLES = {"leader", "admin"}


def may_ask(user, case) -> bool:
    """The centre of the case's area, or its lead department, may ask."""
    return permissions.is_centre_for(user, case) or permissions.is_lead_handler(user, case)


def may_decide(user, case) -> bool:
    """A leader (or administrator) whose area holds the case decides."""
    if not (user is not None and user.is_authenticated and user.is_active):
        return False
    return user.role in APPROVER_ROLES and can_see_area(user, case.grid)


@transaction.atomic
def exemption_request(
    *, case: Case, actor, reason: str, note: str, at: datetime | None = None
) -> Exemption:
    case = Case.objects.select_for_update(of=("self",)).select_related("grid").get(pk=case.pk)
    if not may_ask(actor, case):
        raise _forbidden()
    if reason not in ExemptReason.values:
        raise _field_error("reason", _("Choose why the case should not count."))
    note = _note(note, required=True)
    if case.status == Status.MERGED:
        raise DomainError("invalid", _("A merged case is already left out of the figures."))
    if case.exempt_reason:
        raise DomainError("invalid", _("This case is already exempted."))
    if case.exemptions.filter(status=Exemption.Status.PENDING).exists():
        raise DomainError("invalid", _("An exemption for this case is already waiting."))
    now = at or timezone.now()
    exemption = Exemption.objects.create(
        case=case, reason=reason, note=note, requested_by=actor, created_at=now
    )
    data = {"exemption": exemption.pk, "reason": reason}
    _record(case, actor, Note.EXEMPTION_REQUEST, now, note=note, data=data)
    return exemption


@transaction.atomic
def exemption_decide(
    *, exemption: Exemption, actor, approve: bool, note: str = "", at: datetime | None = None
) -> Exemption:
    """Approve (the case leaves the rates, counted among the exclusions) or refuse (with a
    reason). Nobody decides their own request."""
    exemption = Exemption.objects.select_for_update().get(pk=exemption.pk)
    case = (
        Case.objects.select_for_update(of=("self",))
        .select_related("grid")
        .get(pk=exemption.case_id)
    )
    if not may_decide(actor, case):
        raise _forbidden()
    if exemption.requested_by_id == actor.pk:
        raise DomainError("forbidden", _("Someone other than who asked must decide."))
    if exemption.status != Exemption.Status.PENDING:
        raise DomainError("invalid", _("This exemption has already been answered."))
    if not isinstance(approve, bool):
        raise _field_error("approve", _("Say whether the exemption is approved."))
    note = _note(note, required=not approve)
    if approve and case.status == Status.MERGED:
        raise DomainError("invalid", _("The case has been merged since; it can only be refused."))
    now = at or timezone.now()
    exemption.status = Exemption.Status.APPROVED if approve else Exemption.Status.REFUSED
    exemption.decided_by = actor
    exemption.decided_at = now
    exemption.decision_note = note
    exemption.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    data = {"exemption": exemption.pk, "reason": exemption.reason}
    if approve:
        case.exempt_reason = exemption.reason
        case.save(update_fields=["exempt_reason", "updated_at"])
        _record(case, actor, Note.EXEMPTION_APPROVE, now, note=note, data=data)
    else:
        _record(case, actor, Note.EXEMPTION_REFUSE, now, note=note, data=data)
    return exemption


# --- reading (scope rules: only staff, only the cases they see whole) ------------------------


LIST_ROLES = {"leader", "dispatcher", "admin"}
STATUS_ORDER = {
    Exemption.Status.PENDING: 0,
    Exemption.Status.APPROVED: 1,
    Exemption.Status.REFUSED: 2,
}


def exemptions_for(viewer) -> QuerySet[Exemption]:
    """The exemptions of the cases `viewer` sees whole (staff in scope); none for residents
    and anonymous users. Waiting ones first, then approved, then refused; newest first."""
    if not (viewer is not None and viewer.is_authenticated and viewer.is_active):
        return Exemption.objects.none()
    if viewer.role == "resident":
        return Exemption.objects.none()
    in_scope = selectors.cases_for(viewer).order_by().values("pk")
    rank = Case_(
        *[When(status=status, then=Value(i)) for status, i in STATUS_ORDER.items()],
        default=Value(9),
    )
    return (
        Exemption.objects.filter(case__in=in_scope)
        .select_related("case", "case__matter", "case__grid", "requested_by", "decided_by")
        .annotate(rank=rank)
        .order_by("rank", "-created_at", "-id")
    )


def exemption_for(viewer, pk) -> Exemption | None:
    """One exemption of a case `viewer` sees whole, else None (a 404)."""
    return exemptions_for(viewer).filter(pk=pk).first()


def exemption_filter(exemptions: QuerySet[Exemption], *, status=None, reason=None):
    if status:
        exemptions = exemptions.filter(status=status)
    if reason:
        exemptions = exemptions.filter(reason=reason)
    return exemptions
