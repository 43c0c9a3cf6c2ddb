"""A resident's own record and the corrections they ask for (PIPL Art. 44 and 46: the
rights to view and to correct), and the page where grid workers answer those requests."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core.crypto import mask_phone
from linli.core.decorators import permission_required
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add
from linli.people import permissions, selectors, services
from linli.people.forms_care import (
    CorrectionAnswerForm,
    CorrectionRequestForm,
    CorrectionStatusForm,
)
from linli.people.models import CorrectionRequest
from linli.people.views.common import problems_text, register_required
from linli.people.views.visits import PAGE_SIZE

# Signed in as a resident.
resident_required = permission_required(permissions.is_resident)


def _shown(corrections) -> list[CorrectionRequest]:
    """Corrections with the proposed value as a page may show it: a proposed mobile
    number is personal data like the stored one, so it is masked."""
    rows = list(corrections)
    for correction in rows:
        proposed = correction.proposed
        if correction.field == CorrectionRequest.Field.PHONE:
            proposed = mask_phone(proposed.replace(" ", "").replace("-", ""))
        correction.proposed_shown = proposed
    return rows


@resident_required
def mine(request: HttpRequest) -> HttpResponse:
    me, members = selectors.my_household_for(user=request.user)
    context = {
        "me": me,
        "members": members,
        "household": me.household if me else None,
        "corrections": _shown(selectors.corrections_for(viewer=request.user)) if me else [],
    }
    return render(request, "people/mine.html", context)


@resident_required
def correction_new(request: HttpRequest) -> HttpResponse:
    me, members = selectors.my_household_for(user=request.user)
    if me is None:
        return render(request, "people/correction_form.html", {"form": None})
    initial = {"resident": request.GET.get("resident", me.pk)}
    form = CorrectionRequestForm(request.POST or None, members=members, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = next(m for m in members if m.pk == data["resident"])
        try:
            services.correction_request_create(
                resident=person,
                requested_by=request.user,
                field=data["field"],
                proposed=data["proposed"],
                explanation=data["explanation"],
            )
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request, _("Your request is sent. Your grid worker will answer it here.")
            )
            return redirect("people:mine")
    status = 400 if form.errors else 200
    return render(request, "people/correction_form.html", {"form": form}, status=status)


@register_required
def correction_list(request: HttpRequest) -> HttpResponse:
    form = CorrectionStatusForm(request.GET or None)
    status = CorrectionRequest.Status.OPEN
    if form.is_bound and form.is_valid():
        status = form.cleaned_data["status"] or None
    corrections = selectors.corrections_for(viewer=request.user, status=status).select_related(
        "resident__household__grid", "requested_by"
    )
    page = Paginator(corrections.order_by("created_at", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = _shown(page.object_list)
    context = {"form": form, "page": page, "status": status, "Status": CorrectionRequest.Status}
    return render(request, "people/correction_list.html", context)


@register_required
@require_POST
def correction_answer(request: HttpRequest, pk: int) -> HttpResponse:
    correction = selectors.corrections_for(viewer=request.user).filter(pk=pk).first()
    if correction is None:
        raise Http404
    form = CorrectionAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to approve or to answer."))
        return redirect("people:corrections")
    try:
        services.correction_request_answer(
            correction=correction,
            actor=request.user,
            approve=form.cleaned_data["approve"],
            answer=form.cleaned_data["answer"],
            request=request,
        )
    except DomainError as exc:
        messages.error(
            request,
            _("%(name)s: %(problem)s")
            % {"name": correction.resident.name, "problem": problems_text(exc)},
        )
    else:
        messages.success(
            request, _("The request from %(name)s is answered.") % {"name": correction.resident}
        )
    return redirect("people:corrections")


urlpatterns = [
    path("mine/", mine, name="mine"),
    path("mine/corrections/new/", correction_new, name="correction_new"),
    path("corrections/", correction_list, name="corrections"),
    path("corrections/<int:pk>/answer/", correction_answer, name="correction_answer"),
]
