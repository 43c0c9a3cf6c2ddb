"""The staff lists: every case in scope with its filters, the centre's queue with bulk
accept and dispatch, the department's inbox, the grid worker's on-site checks and the
extension requests waiting for the centre.

A dispatch centre takes in some 300 reports a day, so every list costs a fixed number of
queries whatever its length (one page of 50 rows, related rows joined or fetched once for
the page), filters travel in the query string (links and the browser's back button keep
them) and the queue acts on many cases at once. Each case in a bulk action is looked up
again through the viewer's scope and moved by its own service call, in its own
transaction: one refusal does not undo the others, and a second submission of the same
form finds every case already moved and changes nothing."""

from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from linli.cases import case_services, selectors
from linli.cases.forms_lists import PAGE_SIZE, BulkForm, CaseFilterForm, QueueFilterForm
from linli.cases.models import Case, CaseEvent, CasePhoto, PhotoKind
from linli.cases.workflow import RUNNING_STATUSES, Action, Status
from linli.core.decorators import role_required
from linli.core.errors import DomainError

STAFF_ROLES = {"grid_worker", "dispatcher", "handler", "leader", "admin"}
CENTRE_ROLES = {"dispatcher", "admin"}
CHECK_ROLES = {"grid_worker", "dispatcher", "admin"}
# The outcome of a bulk action, kept in the session for the page the browser is sent back
# to (post/redirect/get: reloading that page does not submit again).
BULK_RESULT_KEY = "cases_bulk_result"


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    statuses: tuple[str, ...]


QUEUE_TABS = [
    Tab("reported", gettext_lazy("To accept"), (Status.REPORTED,)),
    Tab("accepted", gettext_lazy("To dispatch"), (Status.ACCEPTED,)),
    Tab("replied", gettext_lazy("To check"), (Status.REPLIED,)),
]
INBOX_TABS = [
    Tab("dispatched", gettext_lazy("To sign for"), (Status.DISPATCHED,)),
    Tab("handling", gettext_lazy("Being handled"), (Status.SIGNED, Status.HANDLING)),
    Tab("replied", gettext_lazy("Waiting for the check"), (Status.REPLIED,)),
    Tab("parked", gettext_lazy("Parked"), (Status.PARKED,)),
]


def _mark_overdue(cases, now: datetime) -> list[Case]:
    """Flag the rows past their deadline while a department works on them (the same rule
    as selectors.case_filter's `overdue`)."""
    rows = list(cases)
    for case in rows:
        case.is_overdue = bool(
            case.status in RUNNING_STATUSES and case.deadline is not None and case.deadline < now
        )
    return rows


def _by_deadline(cases: QuerySet[Case]) -> QuerySet[Case]:
    # Cases without a deadline (not dispatched yet, parked) last on every database:
    # SQLite sorts NULL first, PostgreSQL last.
    return cases.order_by(F("deadline").asc(nulls_last=True), "reported_at", "id")


def _page(request: HttpRequest, rows) -> Page:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _tab_counts(cases: QuerySet[Case], tabs: list[Tab]) -> dict[str, int]:
    """Rows per tab in one grouped query."""
    by_status = dict(
        cases.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {tab.key: sum(by_status.get(s, 0) for s in tab.statuses) for tab in tabs}


def _tab(request: HttpRequest, tabs: list[Tab], counts: dict[str, int]) -> Tab:
    """The tab asked for, or else the first one with work in it."""
    wanted = request.GET.get("tab")
    for tab in tabs:
        if tab.key == wanted:
            return tab
    return next((tab for tab in tabs if counts.get(tab.key)), tabs[0])


# --- every case in scope ---------------------------------------------------------------------


@role_required(STAFF_ROLES)
def case_list(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    now = timezone.now()
    form = CaseFilterForm(request.GET or None, viewer=viewer)
    cases = selectors.cases_for(viewer)
    if form.is_bound and not form.is_valid():
        # A bad filter (an out-of-date link, an area outside the scope) lists nothing
        # rather than everything.
        cases = cases.none()
    else:
        filters = form.filters() if form.is_bound else {"sort": "-reported"}
        cases = selectors.case_filter(cases, **filters, at=now)
        if filters["sort"] == "deadline":
            cases = _by_deadline(cases)
    page = _page(request, cases)
    page.object_list = _mark_overdue(page.object_list, now)
    context = {"form": form, "page": page}
    template = "cases/list.html#rows" if request.htmx else "cases/list.html"
    return render(request, template, context)


# --- the centre's queue ----------------------------------------------------------------------


@role_required(CENTRE_ROLES)
def queue(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    now = timezone.now()
    form = QueueFilterForm(request.GET or None, viewer=viewer)
    waiting = selectors.case_queue(viewer)
    if form.is_bound and not form.is_valid():
        waiting = waiting.none()
    elif form.is_bound:
        waiting = selectors.case_filter(waiting, **form.filters(), sort="deadline", at=now)
    counts = _tab_counts(waiting, QUEUE_TABS)
    tab = _tab(request, QUEUE_TABS, counts)
    page = _page(request, _by_deadline(waiting.filter(status__in=tab.statuses)))
    page.object_list = _mark_overdue(page.object_list, now)
    if tab.key == "reported":
        hints = selectors.case_duplicates_of(page.object_list)
        for case in page.object_list:
            case.duplicates = hints.get(case.pk, [])
    context = {
        "form": form,
        "tabs": [(t, counts[t.key]) for t in QUEUE_TABS],
        "tab": tab,
        "page": page,
        "selectable": tab.key in ("reported", "accepted"),
        "bulk_form": BulkForm(),
        "bulk_result": request.session.pop(BULK_RESULT_KEY, None),
        "extensions_waiting": selectors.extensions_pending_for(viewer).count(),
    }
    return render(request, "cases/queue.html", context)


@dataclass
class BulkResult:
    action: str
    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def as_session(self) -> dict:
        if self.action == BulkForm.ACCEPT:
            done = ngettext("%(n)d accepted", "%(n)d accepted", len(self.done))
        else:
            done = ngettext("%(n)d dispatched", "%(n)d dispatched", len(self.done))
        summary = done % {"n": len(self.done)}
        if self.refused:
            refused = ngettext("%(n)d refused", "%(n)d refused", len(self.refused))
            summary = _("%(done)s; %(refused)s:") % {
                "done": summary,
                "refused": refused % {"n": len(self.refused)},
            }
        return {
            "summary": summary,
            "ok": not self.refused,
            "done": self.done,
            "refused": [list(pair) for pair in self.refused],
        }


def _bulk_apply(*, viewer, action: str, ids: list[int], department=None, urgency=None, note=""):
    """Accept or dispatch each case of `ids` that the viewer sees, one service call (and
    one transaction) each; ids outside the scope are reported as not found and never
    touched."""
    found = {case.pk: case for case in selectors.cases_for(viewer).filter(pk__in=ids)}
    result = BulkResult(action)
    for pk in ids:
        case = found.get(pk)
        if case is None:
            result.refused.append((f"#{pk}", _("No such case in your area.")))
            continue
        try:
            if action == BulkForm.ACCEPT:
                case_services.case_accept(case=case, actor=viewer, note=note)
            else:
                case_services.case_dispatch(
                    case=case, actor=viewer, department=department, urgency=urgency, note=note
                )
        except DomainError as exc:
            result.refused.append((case.number, exc.summary()))
        else:
            result.done.append(case.number)
    return result


def _queue_url(post) -> str:
    """The queue as the dispatcher left it: the tab and the filters the bulk form carried
    along (the queue checks them again)."""
    tab = post.get("tab")
    params = {
        "tab": tab if tab in {t.key for t in QUEUE_TABS} else "",
        "q": post.get("q", "")[:100],
        "area": post.get("area", "")[:32],
    }
    query = urlencode({key: value for key, value in params.items() if value})
    return f"{reverse('cases:queue')}?{query}" if query else reverse("cases:queue")


@require_POST
@role_required(CENTRE_ROLES)
def bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    back = _queue_url(request.POST)
    if not form.is_valid():
        problems = [
            f"{form.fields[name].label}: {message}" if name in form.fields else str(message)
            for name, errors in form.errors.items()
            for message in errors
        ]
        request.session[BULK_RESULT_KEY] = {
            "summary": _("Nothing was done: %(problems)s") % {"problems": " ".join(problems)},
            "ok": False,
            "done": [],
            "refused": [],
        }
        return redirect(back)
    data = form.cleaned_data
    action = data["action"]
    result = _bulk_apply(
        viewer=request.user,
        action=action,
        ids=data["ids"],
        department=data["department"] if action == BulkForm.DISPATCH else None,
        urgency=(data["urgency"] or None) if action == BulkForm.DISPATCH else None,
        note=data["note"],
    )
    request.session[BULK_RESULT_KEY] = result.as_session()
    return redirect(back)


# --- the department's inbox ------------------------------------------------------------------


@role_required({"handler"})
def inbox(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    now = timezone.now()
    cases = selectors.department_inbox(viewer)
    counts = _tab_counts(cases, INBOX_TABS)
    tab = _tab(request, INBOX_TABS, counts)
    # Ascending deadlines put the overdue cases first.
    page = _page(request, _by_deadline(cases.filter(status__in=tab.statuses)))
    page.object_list = _mark_overdue(page.object_list, now)
    context = {
        "tabs": [(t, counts[t.key]) for t in INBOX_TABS],
        "tab": tab,
        "page": page,
        "department_id": viewer.department_id,
    }
    return render(request, "cases/inbox.html", context)


# --- on-site checks ----------------------------------------------------------------------------


def _with_replies(cases: list[Case]) -> list[Case]:
    """Give each case its latest reply (the department's note) and that reply's photos:
    two queries for the page."""
    replies: dict[int, CaseEvent] = {}
    events = CaseEvent.objects.filter(
        case_id__in=[c.pk for c in cases], action=Action.REPLY
    ).order_by("case_id", "-created_at", "-id")
    for event in events:
        replies.setdefault(event.case_id, event)
    photos: dict[int, list[CasePhoto]] = {}
    reply_photos = CasePhoto.objects.filter(
        event_id__in=[e.pk for e in replies.values()], kind=PhotoKind.REPLY
    ).order_by("created_at", "id")
    for photo in reply_photos:
        photos.setdefault(photo.event_id, []).append(photo)
    for case in cases:
        case.reply = replies.get(case.pk)
        case.reply_photos = photos.get(case.reply.pk, []) if case.reply else []
    return cases


@role_required(CHECK_ROLES)
def verify(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.cases_to_verify(request.user))
    page.object_list = _with_replies(list(page.object_list))
    return render(request, "cases/verify.html", {"page": page})


# --- extension requests ------------------------------------------------------------------------


@role_required(CENTRE_ROLES)
def extensions(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.extensions_pending_for(request.user))
    return render(request, "cases/extensions.html", {"page": page})
