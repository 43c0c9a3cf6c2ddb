"""The case page and its actions.

One page, three levels (linli.cases.selectors.case_view_for): staff see the whole case
and the forms of the actions they may take now; the reporter and the residents following
the case see its public side (no staff names: a department's name or a role instead) and
the reporter rates it once closed; any other resident sees the public timeline and may
say "me too". Every action posts to one view that maps its name to one service; the
state table refuses a move that is not possible now, so a double submit changes nothing.
Photos are served only through the scoped photo view.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from linli.accounts.models import Department
from linli.cases import case_services, forms_case, permissions, selectors, workflow
from linli.cases.models import (
    Case,
    CaseAssignment,
    CaseEvent,
    CaseSupport,
    ExemptReason,
    Extension,
    PhotoKind,
    Satisfaction,
    WhistleCall,
)
from linli.cases.selectors import CaseView
from linli.cases.views import exemptions as exemption_views
from linli.cases.workflow import OPEN_STATUSES, RUNNING_STATUSES, Action, Note, Status
from linli.core import workcal
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add

PHOTO_KINDS = {"image", "thumbnail"}

STATUS_BADGES = {
    Status.REPORTED: "text-bg-secondary",
    Status.ACCEPTED: "text-bg-info",
    Status.REJECTED: "text-bg-dark",
    Status.DISPATCHED: "text-bg-primary",
    Status.SIGNED: "text-bg-primary",
    Status.HANDLING: "text-bg-warning",
    Status.REPLIED: "text-bg-info",
    Status.CLOSED: "text-bg-success",
    Status.RATED: "text-bg-success",
    Status.ARCHIVED: "text-bg-light border",
    Status.PARKED: "text-bg-secondary",
    Status.MERGED: "text-bg-light border",
}

# Timeline headings, in the past tense the reporter reads them in.
EVENT_LABELS = {
    "report": gettext_lazy("Reported"),
    Action.ACCEPT: gettext_lazy("Accepted as a case"),
    Action.REJECT: gettext_lazy("Not accepted"),
    Action.DISPATCH: gettext_lazy("Dispatched"),
    Action.SIGN: gettext_lazy("Signed for by the department"),
    Action.SEND_BACK: gettext_lazy("Sent back to the centre"),
    Action.START: gettext_lazy("Handling started"),
    Action.REPLY: gettext_lazy("Handled; reply given"),
    Action.VERIFY_PASS: gettext_lazy("Checked on site: resolved"),
    Action.VERIFY_FAIL: gettext_lazy("Checked on site: not resolved (rework)"),
    Action.RATE: gettext_lazy("Rated"),
    Action.REOPEN: gettext_lazy("Reopened"),
    Action.ARCHIVE: gettext_lazy("Archived"),
    Action.PARK: gettext_lazy("Parked: cannot be solved now"),
    Action.RESUME: gettext_lazy("Resumed"),
    Action.MERGE: gettext_lazy("Merged into another case"),
    Note.MERGED_IN: gettext_lazy("A duplicate report was merged in"),
    Note.EXTENSION_REQUEST: gettext_lazy("Extension requested"),
    Note.EXTENSION_APPROVE: gettext_lazy("More time granted"),
    Note.EXTENSION_REFUSE: gettext_lazy("Extension refused"),
    Note.URGE: gettext_lazy("Urged by the centre"),
    Note.REMIND: gettext_lazy("Deadline reminder"),
    Note.SUPERVISE: gettext_lazy("Overdue notice"),
    Note.ESCALATE: gettext_lazy("Escalated to the leaders"),
    Note.WHISTLE: gettext_lazy("Whistle blown: departments summoned"),
    Note.REPORT_IN: gettext_lazy("A summoned department reported in"),
    Note.COMMENT: gettext_lazy("Note"),
    Note.EXEMPTION_REQUEST: gettext_lazy("Exemption from the KPIs asked for"),
    Note.EXEMPTION_APPROVE: gettext_lazy("Exempted from the KPIs"),
    Note.EXEMPTION_REFUSE: gettext_lazy("Exemption from the KPIs refused"),
}
EXEMPTION_NOTES = {Note.EXEMPTION_REQUEST, Note.EXEMPTION_APPROVE, Note.EXEMPTION_REFUSE}
# Supervision entries stand out on the staff timeline.
ALERT_EVENTS = {Note.URGE, Note.REMIND, Note.SUPERVISE, Note.ESCALATE, Note.WHISTLE}


# --- the actions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """One action of the panel: its form, the one service call, and what to say when done
    (formatted with the form's cleaned data)."""

    form: type[forms_case.ActionForm]
    run: Callable[[Case, object, dict], object]
    done: Promise
    label: Promise
    style: str = "primary"


def _merge(case, user, d):
    return case_services.case_merge(case=case, actor=user, into=d["into"], note=d["note"])


ACTS: dict[str, Act] = {
    Action.ACCEPT: Act(
        forms_case.NoteForm,
        lambda case, user, d: case_services.case_accept(case=case, actor=user, note=d["note"]),
        gettext_lazy("Case accepted."),
        gettext_lazy("Accept as a case"),
    ),
    Action.REJECT: Act(
        forms_case.RejectForm,
        lambda case, user, d: case_services.case_reject(case=case, actor=user, reason=d["reason"]),
        gettext_lazy("Case rejected."),
        gettext_lazy("Reject"),
        "outline-danger",
    ),
    Action.DISPATCH: Act(
        forms_case.DispatchForm,
        lambda case, user, d: case_services.case_dispatch(
            case=case,
            actor=user,
            department=d["department"],
            co_departments=d["co_departments"],
            urgency=d["urgency"],
            note=d["note"],
        ),
        gettext_lazy("Case dispatched."),
        gettext_lazy("Dispatch"),
    ),
    Action.SIGN: Act(
        forms_case.NoteForm,
        lambda case, user, d: case_services.case_sign(case=case, actor=user, note=d["note"]),
        gettext_lazy("Case signed for."),
        gettext_lazy("Sign for the case"),
    ),
    Action.SEND_BACK: Act(
        forms_case.SendBackForm,
        lambda case, user, d: case_services.case_send_back(
            case=case, actor=user, reason_code=d["reason_code"], note=d["note"]
        ),
        gettext_lazy("Case sent back to the centre."),
        gettext_lazy("Send back"),
        "outline-danger",
    ),
    Action.START: Act(
        forms_case.NoteForm,
        lambda case, user, d: case_services.case_start(case=case, actor=user, note=d["note"]),
        gettext_lazy("Handling started."),
        gettext_lazy("Start handling"),
    ),
    Action.REPLY: Act(
        forms_case.ReplyForm,
        lambda case, user, d: case_services.case_reply(
            case=case, actor=user, note=d["note"], photos=d["photos"]
        ),
        gettext_lazy("Reply sent; the case waits for the on-site check."),
        gettext_lazy("Reply: handled"),
    ),
    Action.VERIFY_PASS: Act(
        forms_case.VerifyPassForm,
        lambda case, user, d: case_services.case_verify(
            case=case, actor=user, passed=True, note=d["note"], photos=d["photos"]
        ),
        gettext_lazy("Check passed: the case is closed."),
        gettext_lazy("Check passed"),
        "success",
    ),
    Action.VERIFY_FAIL: Act(
        forms_case.VerifyForm,
        lambda case, user, d: case_services.case_verify(
            case=case, actor=user, passed=False, note=d["note"], photos=d["photos"]
        ),
        gettext_lazy("Check failed: the case goes back to the department."),
        gettext_lazy("Check failed"),
        "outline-danger",
    ),
    Action.RATE: Act(
        forms_case.RateForm,
        lambda case, user, d: case_services.case_rate(
            case=case,
            actor=user,
            resolved=d["resolved"],
            satisfaction=d["satisfaction"],
            note=d["note"],
        ),
        gettext_lazy("Rating recorded. Thank you."),
        gettext_lazy("Record the callback"),
    ),
    Action.REOPEN: Act(
        forms_case.ReopenForm,
        lambda case, user, d: case_services.case_reopen(case=case, actor=user, note=d["note"]),
        gettext_lazy("Case reopened and sent back to its department."),
        gettext_lazy("Reopen"),
        "outline-danger",
    ),
    Action.ARCHIVE: Act(
        forms_case.NoteForm,
        lambda case, user, d: case_services.case_archive(case=case, actor=user, note=d["note"]),
        gettext_lazy("Case archived."),
        gettext_lazy("Archive"),
        "secondary",
    ),
    Action.PARK: Act(
        forms_case.ParkForm,
        lambda case, user, d: case_services.case_park(case=case, actor=user, note=d["note"]),
        gettext_lazy("Case parked."),
        gettext_lazy("Park (cannot be solved now)"),
        "outline-secondary",
    ),
    Action.RESUME: Act(
        forms_case.NoteForm,
        lambda case, user, d: case_services.case_resume(case=case, actor=user, note=d["note"]),
        gettext_lazy("Case resumed; dispatch it again."),
        gettext_lazy("Resume"),
    ),
    Action.MERGE: Act(
        forms_case.MergeForm,
        _merge,
        gettext_lazy("Case merged."),
        gettext_lazy("Merge into another case"),
        "outline-secondary",
    ),
    Note.URGE: Act(
        forms_case.NoteForm,
        lambda case, user, d: case_services.case_urge(case=case, actor=user, note=d["note"]),
        gettext_lazy("The department has been urged."),
        gettext_lazy("Urge the department"),
        "outline-warning",
    ),
    Note.EXTENSION_REQUEST: Act(
        forms_case.ExtensionRequestForm,
        lambda case, user, d: case_services.extension_request(
            case=case, actor=user, amount=d["amount"], unit=d["unit"], reason=d["reason"]
        ),
        gettext_lazy("Extension requested; the centre will answer."),
        gettext_lazy("Ask for more time"),
        "outline-secondary",
    ),
    Note.WHISTLE: Act(
        forms_case.WhistleForm,
        lambda case, user, d: case_services.whistle_blow(
            case=case, actor=user, departments=d["departments"], note=d["note"]
        ),
        gettext_lazy("Whistle blown; the departments are summoned."),
        gettext_lazy("Blow the whistle (summon departments)"),
        "outline-danger",
    ),
}


def _may_urge(user, case, extensions) -> bool:
    if not permissions.is_centre_for(user, case):
        return False
    return case.status in RUNNING_STATUSES


def _may_ask_extension(user, case, extensions) -> bool:
    if not permissions.is_lead_handler(user, case):
        return False
    if case.status not in RUNNING_STATUSES or case.deadline is None:
        return False
    if case.deadline <= timezone.now():
        return False
    return not any(e.status == Extension.Status.PENDING for e in extensions)


def _may_whistle(user, case, extensions) -> bool:
    if not permissions.is_centre_for(user, case):
        return False
    return case.status in OPEN_STATUSES - {Status.REPORTED, Status.MERGED}


# The actions that record something without moving the case, offered when they make sense
# now; the services check the same conditions again.
NOTE_OFFERS = {
    Note.URGE: _may_urge,
    Note.EXTENSION_REQUEST: _may_ask_extension,
    Note.WHISTLE: _may_whistle,
}


@dataclass
class Offer:
    key: str
    label: str
    url: str
    form: forms_case.ActionForm
    style: str = "primary"
    open: bool = False


def _form(act_form, case, user, key, data=None, files=None):
    return act_form(data, files, case=case, viewer=user, auto_id=f"id_{key}_%s")


def _offers(user, case: Case, extensions, calls, failed) -> tuple[list[Offer], list[str]]:
    """The forms the panel shows `user` now, and the errors of a refused form that is no
    longer among them (a move the case has left behind: shown above the panel)."""
    failed_key, failed_form = failed or (None, None)
    offers: list[Offer] = []
    names = [a for a in workflow.allowed_actions(case.status) if permissions.may_act(user, case, a)]
    names += [name for name, check in NOTE_OFFERS.items() if check(user, case, extensions)]
    for name in names:
        act = ACTS[name]
        label = act.label
        if name == Action.RATE and permissions.is_reporter_of(user, case):
            label = _("Rate how your case was handled")
        offers.append(
            Offer(
                key=name,
                label=str(label),
                url=reverse("cases:act", args=[case.pk, name]),
                form=_form(act.form, case, user, name),
                style=act.style,
            )
        )
    for extension in extensions:
        if extension.status == Extension.Status.PENDING and permissions.is_centre_for(user, case):
            key = f"extension-{extension.pk}"
            offers.append(
                Offer(
                    key=key,
                    label=_("Answer the extension request (+%(amount)d %(unit)s)")
                    % {"amount": extension.amount, "unit": extension.get_unit_display()},
                    url=reverse("cases:extension_decide", args=[extension.pk]),
                    form=_form(forms_case.ExtensionDecideForm, case, user, key),
                )
            )
    for call in calls:
        if call.reported_at is None and _summoned(user, call):
            key = f"call-{call.pk}"
            offers.append(
                Offer(
                    key=key,
                    label=_("Report in for %(department)s") % {"department": call.department.name},
                    url=reverse("cases:report_in", args=[call.pk]),
                    form=_form(forms_case.ReportInForm, case, user, key),
                    style="warning",
                )
            )
    # Exemptions from the KPIs (linli.cases.views.exemptions): ask, or answer.
    offers += exemption_views.offers(user, case, Offer, _form)
    stray: list[str] = []
    if failed_form is not None:
        for offer in offers:
            if offer.key == failed_key:
                offer.form, offer.open = failed_form, True
                break
        else:
            stray = [str(e) for errors in failed_form.errors.values() for e in errors]
    return offers, stray


def _summoned(user, call: WhistleCall) -> bool:
    return user.role == "handler" and user.department_id == call.department_id


# --- what the page shows ------------------------------------------------------------------------


@dataclass
class Entry:
    """One timeline entry as the viewer may see it."""

    event: CaseEvent
    label: str
    who: str
    moved: bool
    from_label: str
    to_label: str
    details: list[str] = field(default_factory=list)
    note: str = ""
    photos: list = field(default_factory=list)
    alert: bool = False


def _status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def _staff_who(event: CaseEvent) -> str:
    actor = event.actor
    if actor is None:
        return _("the system (supervision sweep)")
    role = actor.department.name if actor.department_id else actor.get_role_display()
    return f"{actor} · {role}"


def _details(event: CaseEvent, names: dict[str, str], staff: bool) -> list[str]:
    """What an entry's data says, in words; staff see all of it, others the public part."""
    d, action = event.data or {}, event.action
    out: list[str] = []
    if action == Action.DISPATCH:
        code = d.get("department", "")
        out.append(_("To: %(department)s") % {"department": names.get(code, code)})
        co = [names.get(code, code) for code in d.get("co_departments", [])]
        if co:
            out.append(_("Co-handlers: %(departments)s") % {"departments": "、".join(co)})
        if staff and d.get("deadline"):
            out.append(_("Due: %(when)s") % {"when": _when(d["deadline"])})
    elif action == Action.SEND_BACK and staff:
        label = forms_case.SEND_BACK_LABELS.get(d.get("reason_code"), d.get("reason_code"))
        out.append(_("Reason: %(reason)s") % {"reason": label})
    elif action == Action.RATE and staff:
        satisfaction = d.get("satisfaction")
        if satisfaction in Satisfaction.values:
            out.append(str(Satisfaction(satisfaction).label))
        if d.get("resolved") is not None:
            out.append(_("resolved") if d["resolved"] else _("not resolved"))
    elif action == Action.REOPEN and staff and d.get("deadline"):
        out.append(_("New deadline: %(when)s") % {"when": _when(d["deadline"])})
    elif action == Action.MERGE:
        out.append(_("Into case %(number)s") % {"number": d.get("into", "")})
    elif action == Note.MERGED_IN:
        out.append(_("Case %(number)s") % {"number": d.get("case", "")})
    elif action in (Note.EXTENSION_REQUEST, Note.EXTENSION_APPROVE):
        when = d.get("new_deadline") or d.get("deadline")
        if when:
            out.append(_("New deadline: %(when)s") % {"when": _when(when)})
    elif action == Note.WHISTLE and staff:
        summoned = [names.get(code, code) for code in d.get("departments", [])]
        out.append(_("Summoned: %(departments)s") % {"departments": "、".join(summoned)})
    elif action == Note.REPORT_IN and staff:
        out.append(
            _("%(department)s, %(minutes)d minutes after the whistle")
            % {
                "department": names.get(d.get("department", ""), d.get("department", "")),
                "minutes": d.get("minutes", 0),
            }
        )
    elif action in EXEMPTION_NOTES and staff and d.get("reason") in ExemptReason.values:
        out.append(_("Reason: %(reason)s") % {"reason": ExemptReason(d["reason"]).label})
    elif action == Note.REMIND and staff and "working_hours_left" in d:
        out.append(_("%(hours)s working hours left") % {"hours": d["working_hours_left"]})
    elif action == Note.ESCALATE and staff and "working_days_overdue" in d:
        out.append(_("%(days)s working days overdue") % {"days": d["working_days_overdue"]})
    return out


def _timeline(case: Case, level: str) -> list[Entry]:
    events = selectors.case_timeline(case, level=level)
    codes: set[str] = set()
    for event in events:
        d = event.data or {}
        codes.update(c for c in [d.get("department"), *d.get("co_departments", [])] if c)
        codes.update(d.get("departments", []))
    names = dict(Department.objects.filter(code__in=codes).values_list("code", "name"))
    staff = level == selectors.STAFF
    entries = []
    for event in events:
        moved = bool(event.from_status) and event.from_status != event.to_status
        entries.append(
            Entry(
                event=event,
                label=str(EVENT_LABELS.get(event.action, event.action)),
                who=_staff_who(event) if staff else selectors.event_public_actor(event, case),
                moved=moved,
                from_label=_status_label(event.from_status),
                to_label=_status_label(event.to_status),
                details=_details(event, names, staff),
                # The public sees what happened, not what anyone wrote: a note may name a
                # person or a home.
                note=event.note if level != selectors.PUBLIC else "",
                photos=list(event.photos.all()) if level != selectors.PUBLIC else [],
                alert=staff and event.action in ALERT_EVENTS,
            )
        )
    return entries


def _deadline(case: Case) -> dict | None:
    """The deadline, and for a case being worked on how much working time is left or how
    late it is, by the working-time calendar."""
    if case.deadline is None:
        return None
    info = {"at": case.deadline, "running": case.status in RUNNING_STATUSES}
    if info["running"]:
        now = timezone.now()
        info["overdue"] = case.deadline < now
        info["hours"] = abs(workcal.working_hours_between(now, case.deadline))
    return info


def _answers(case: Case) -> list[tuple[str, str]]:
    """The reporter's answers, each labelled with its question's prompt."""
    answers = case.answers or {}
    if not answers:
        return []
    rows = []
    questions = {q.code: q for q in case.matter.questions.prefetch_related("options")}
    for code, value in answers.items():
        question = questions.get(code)
        if question is None:
            rows.append((code, str(value)))
            continue
        options = {o.key: o.name for o in question.options.all()}
        values = value if isinstance(value, list) else [value]
        shown = "、".join(str(options.get(v, v)) if options else str(v) for v in values)
        rows.append((question.prompt, shown))
    return rows


def _photo_groups(case: Case, level: str) -> list[tuple[str, list]]:
    photos = selectors.case_photos(case, level=level)
    return [
        (str(kind.label), [p for p in photos if p.kind == kind])
        for kind in PhotoKind
        if any(p.kind == kind for p in photos)
    ]


def _whistles(case: Case) -> list:
    calls = WhistleCall.objects.select_related("department", "reported_by")
    whistles = list(
        case.whistles.select_related("called_by").prefetch_related(Prefetch("calls", calls))
    )
    for whistle in whistles:
        whistle.call_rows = []
        for call in whistle.calls.all():
            call.whistle = whistle
            waited = call.response_time
            call.minutes = None if waited is None else int(waited.total_seconds() // 60)
            whistle.call_rows.append(call)
    return whistles


def _context(request: HttpRequest, view: CaseView, failed=None) -> dict:
    case, level, user = view.case, view.level, request.user
    context = {
        "case": case,
        "level": level,
        "status_badge": STATUS_BADGES.get(case.status, "text-bg-secondary"),
        "community": case.grid.parent if case.grid.parent_id else None,
        "timeline": _timeline(case, level),
        "is_open": case.status in OPEN_STATUSES and case.status != Status.MERGED,
    }
    if level == selectors.PUBLIC:
        context["supported"] = CaseSupport.objects.filter(case=case, user=user).exists()
        return context
    context["photo_groups"] = _photo_groups(case, level)
    replies = [e for e in context["timeline"] if e.event.action == Action.REPLY]
    context["answer"] = replies[-1].note if replies else ""
    extensions, calls = [], []
    if level == selectors.STAFF:
        assignments = list(case.assignments.select_related("department"))
        extensions = list(case.extensions.select_related("department", "requested_by"))
        whistles = _whistles(case)
        calls = [call for whistle in whistles for call in whistle.call_rows]
        context |= {
            "co_handlers": [
                a.department for a in assignments if a.role == CaseAssignment.Role.CO_HANDLER
            ],
            "deadline": _deadline(case),
            "answers": _answers(case),
            "me_too_count": case.supports.filter(kind=CaseSupport.Kind.ME_TOO).count(),
            "merged_cases": list(case.merged_cases.only("pk", "number", "status")),
            "extensions": extensions,
            "whistles": whistles,
            "tile_url": settings.LINLI_TILE_URL,
            "tile_attribution": settings.LINLI_TILE_ATTRIBUTION,
        }
    offers, stray = _offers(user, case, extensions, calls, failed)
    context |= {"offers": offers, "stray_errors": stray}
    return context


def _render(request: HttpRequest, view: CaseView, *, failed=None, status: int = 200):
    context = _context(request, view, failed)
    template = "cases/partials/case_panel.html" if request.htmx else "cases/case.html"
    return render(request, template, context, status=status)


def _to_case(request: HttpRequest, case: Case) -> HttpResponse:
    url = reverse("cases:case", args=[case.pk])
    # An htmx form would otherwise swap the whole page into the panel.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- views --------------------------------------------------------------------------------------


@login_required
def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    view = selectors.case_view_for(request.user, pk)
    if view is None:
        raise Http404
    return _render(request, view)


@require_POST
@login_required
def case_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    act = ACTS.get(action)
    if act is None:
        raise Http404
    view = selectors.case_view_for(request.user, pk)
    if view is None:
        raise Http404
    if view.is_public:
        raise PermissionDenied
    form = _form(act.form, view.case, request.user, action, request.POST, request.FILES)
    if form.is_valid():
        try:
            act.run(view.case, request.user, form.cleaned_data)
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied(str(exc.message)) from exc
            form_errors_add(form, exc)
        else:
            messages.success(request, str(act.done))
            return _to_case(request, view.case)
    return _render(request, view, failed=(action, form), status=400)


@require_POST
@login_required
def extension_decide(request: HttpRequest, pk: int) -> HttpResponse:
    extension = selectors.extension_for(request.user, pk)
    if extension is None:
        raise Http404
    view = selectors.case_view_for(request.user, extension.case_id)
    key = f"extension-{extension.pk}"
    form = _form(
        forms_case.ExtensionDecideForm, view.case, request.user, key, request.POST, request.FILES
    )
    if form.is_valid():
        try:
            extension = case_services.extension_decide(
                extension=extension,
                actor=request.user,
                approve=form.cleaned_data["approve"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied(str(exc.message)) from exc
            form_errors_add(form, exc)
        else:
            if extension.status == Extension.Status.APPROVED:
                messages.success(request, _("Extension approved; the deadline has moved."))
            else:
                messages.success(request, _("Extension refused."))
            return _to_case(request, view.case)
    return _render(request, view, failed=(key, form), status=400)


@require_POST
@login_required
def report_in(request: HttpRequest, pk: int) -> HttpResponse:
    call = selectors.whistle_call_for(request.user, pk)
    if call is None:
        raise Http404
    view = selectors.case_view_for(request.user, call.whistle.case_id)
    key = f"call-{call.pk}"
    form = _form(forms_case.ReportInForm, view.case, request.user, key, request.POST)
    if form.is_valid():
        try:
            case_services.whistle_report_in(
                call=call, actor=request.user, note=form.cleaned_data["note"]
            )
        except DomainError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied(str(exc.message)) from exc
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Your department has reported in."))
            return _to_case(request, view.case)
    return _render(request, view, failed=(key, form), status=400)


@login_required
def photo(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    """A case photo, only to someone who sees the case whole or follows it: media files
    are never served from a public URL, since a photo may show a person or a home."""
    if kind not in PHOTO_KINDS:
        raise Http404
    found = selectors.photo_for(request.user, pk)
    if found is None:
        raise Http404
    try:
        handle = getattr(found, kind).open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
