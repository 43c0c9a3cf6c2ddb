"""The matter suggester on the pages (linli.cases.suggest): the report form's suggestions
as the description is typed, the centre's suggestions on a case it is about to accept or
dispatch, and the administrators' page with the model's figures."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.cases import case_services, permissions, selectors, suggest
from linli.cases.models import DESCRIPTION_MAX, Matter
from linli.cases.views.report import REPORT_ROLES
from linli.core.decorators import permission_required, role_required
from linli.core.errors import DomainError

# The case page asks only while the case waits for the centre's first decisions.
SUGGEST_STATUSES = {"reported", "accepted"}


def may_see_suggester(user) -> bool:
    if not user.is_active:
        return False
    return user.role == "admin" or user.is_superuser


@role_required(*REPORT_ROLES)
@require_POST
def suggest_report(request: HttpRequest) -> HttpResponse:
    """Suggested matters for the description typed so far (htmx partial of the report
    form). A POST, so that the words never land in a URL or an access log. Residents are
    offered the public matters only, and no reasons when there is nothing to offer."""
    is_resident = request.user.role == "resident"
    text = request.POST.get("description", "")[:DESCRIPTION_MAX]
    if not text.strip():
        # An empty box (the page just opened) is no question: nothing to show.
        return render(request, "cases/partials/suggest_report.html", {"suggestions": None})
    suggestions = suggest.matter_suggest(text, public_only=is_resident)
    context = {
        "suggestions": suggestions,
        "show_reason": not is_resident and suggestions.reason != suggest.TOO_SHORT,
    }
    return render(request, "cases/partials/suggest_report.html", context)


@login_required
@require_GET
def suggest_case(request: HttpRequest, pk: int) -> HttpResponse:
    """Suggested matters for a case's description, for the centre deciding on it (htmx
    partial of the case page's panel)."""
    case = selectors.case_for(request.user, pk)
    if case is None:
        raise Http404
    if not permissions.is_centre_for(request.user, case):
        raise PermissionDenied
    suggestions = None
    if case.status in SUGGEST_STATUSES:
        suggestions = suggest.matter_suggest(case.description)
    context = {"case": case, "suggestions": suggestions}
    return render(request, "cases/partials/suggest_case.html", context)


@login_required
@require_POST
def reclassify(request: HttpRequest, pk: int) -> HttpResponse:
    """The centre files the case under another matter (a suggestion's "use this matter"
    button), before dispatching it; back to the case page with what happened."""
    from linli.cases.views.case import _to_case

    case = selectors.case_for(request.user, pk)
    if case is None:
        raise Http404
    if not permissions.is_centre_for(request.user, case):
        raise PermissionDenied
    code = request.POST.get("matter", "")[:16]
    matter = Matter.objects.filter(code=code).first()
    try:
        case_services.case_reclassify(case=case, actor=request.user, matter=matter)
    except DomainError as exc:
        messages.error(request, exc.summary())
    else:
        messages.success(
            request,
            _("The case is now filed under %(code)s %(name)s.")
            % {"code": matter.code, "name": matter.name},
        )
    return _to_case(request, case)


@permission_required(may_see_suggester)
def suggester(request: HttpRequest) -> HttpResponse:
    """The model in use: when it was trained, on how many cases, how accurate it was on
    held-out cases, and how to retrain it."""
    exists, loaded = suggest.suggester_loaded()
    info = loaded.info if loaded is not None else None
    context = {
        "info": info,
        "top1": f"{info.accuracy_top1:.1%}" if info else "",
        "top3": f"{info.accuracy_top3:.1%}" if info else "",
        "unreadable": exists and loaded is None,
        "path": suggest.suggester_path(),
        "min_cases": suggest.MIN_CASES,
        "min_per_matter": suggest.MIN_PER_MATTER,
    }
    return render(request, "cases/suggester.html", context)
