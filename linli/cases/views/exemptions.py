"""Exemptions from the KPIs (免考核) on the pages: the request form and the leader's
answer on the case page (offered in its action panel), and the list of requests for
leaders, dispatchers and administrators. The rules are linli.cases.exemptions'."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.cases import exemptions, selectors
from linli.cases.forms_case import ActionForm
from linli.cases.forms_lists import PAGE_SIZE
from linli.cases.models import EVENT_NOTE_MAX, Case, Exemption, ExemptReason
from linli.cases.workflow import Status
from linli.core.decorators import role_required
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add

REQUEST_KEY = "exemption"


class ExemptionRequestForm(ActionForm):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why it should not count"),
        choices=[("", "---------"), *ExemptReason.choices],
    )
    note = forms.CharField(
        label=gettext_lazy("Explanation"),
        max_length=EVENT_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ExemptionDecideForm(ActionForm):
    approve = forms.TypedChoiceField(
        label=gettext_lazy("Decision"),
        choices=[("yes", gettext_lazy("approve")), ("no", gettext_lazy("refuse"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note (needed to refuse)"),
        required=False,
        max_length=EVENT_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ExemptionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("all")), *Exemption.Status.choices],
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        required=False,
        choices=[("", gettext_lazy("all")), *ExemptReason.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"


def decide_key(exemption: Exemption) -> str:
    return f"exemption-{exemption.pk}"


def offers(user, case: Case, offer_class, make_form) -> list:
    """The case panel's exemption forms for `user`: asking, for the centre or the lead
    department; answering a waiting request, for a leader who did not ask."""
    found = []
    if case.status == Status.MERGED:
        return found
    ask = exemptions.may_ask(user, case)
    decide = exemptions.may_decide(user, case)
    if not (ask or decide):
        return found
    pending = list(case.exemptions.filter(status=Exemption.Status.PENDING))
    if ask and not case.exempt_reason and not pending:
        found.append(
            offer_class(
                key=REQUEST_KEY,
                label=_("Exempt from the KPIs"),
                url=reverse("cases:exemption_request", args=[case.pk]),
                form=make_form(ExemptionRequestForm, case, user, REQUEST_KEY),
                style="outline-secondary",
            )
        )
    for exemption in pending:
        if decide and exemption.requested_by_id != user.pk:
            key = decide_key(exemption)
            found.append(
                offer_class(
                    key=key,
                    label=_("Answer the exemption request (%(reason)s)")
                    % {"reason": exemption.get_reason_display()},
                    url=reverse("cases:exemption_decide", args=[exemption.pk]),
                    form=make_form(ExemptionDecideForm, case, user, key),
                    style="warning",
                )
            )
    return found


def _refused(form, exc: DomainError) -> None:
    if exc.code == "forbidden":
        raise PermissionDenied(str(exc.message)) from exc
    form_errors_add(form, exc)


@require_POST
@login_required
def exemption_request(request: HttpRequest, pk: int) -> HttpResponse:
    from linli.cases.views import case as case_views

    view = selectors.case_view_for(request.user, pk)
    if view is None:
        raise Http404
    if not view.is_staff:
        raise PermissionDenied
    form = case_views._form(
        ExemptionRequestForm, view.case, request.user, REQUEST_KEY, request.POST
    )
    if form.is_valid():
        try:
            exemptions.exemption_request(
                case=view.case,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Exemption asked for; a leader will answer."))
            return case_views._to_case(request, view.case)
    return case_views._render(request, view, failed=(REQUEST_KEY, form), status=400)


@require_POST
@login_required
def exemption_decide(request: HttpRequest, pk: int) -> HttpResponse:
    from linli.cases.views import case as case_views

    exemption = exemptions.exemption_for(request.user, pk)
    if exemption is None:
        raise Http404
    view = selectors.case_view_for(request.user, exemption.case_id)
    key = decide_key(exemption)
    form = case_views._form(ExemptionDecideForm, view.case, request.user, key, request.POST)
    if form.is_valid():
        try:
            exemption = exemptions.exemption_decide(
                exemption=exemption,
                actor=request.user,
                approve=form.cleaned_data["approve"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            _refused(form, exc)
        else:
            if exemption.status == Exemption.Status.APPROVED:
                messages.success(request, _("Exemption approved; the case leaves the rates."))
            else:
                messages.success(request, _("Exemption refused."))
            if request.POST.get("next") == "list":
                return _to_list(request)
            return case_views._to_case(request, view.case)
    if request.POST.get("next") == "list":
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _to_list(request, status=400)
    return case_views._render(request, view, failed=(key, form), status=400)


def _to_list(request: HttpRequest, status: int = 302) -> HttpResponse:
    if status == 302:
        return redirect("cases:exemptions")
    return exemption_list_page(request, status=status)


@role_required(exemptions.LIST_ROLES)
def exemption_list(request: HttpRequest) -> HttpResponse:
    return exemption_list_page(request)


def exemption_list_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    """Waiting requests first, then approved and refused ones; filters by status and
    reason (in the query string, so links keep them)."""
    form = ExemptionFilterForm(request.GET or None)
    rows = exemptions.exemptions_for(request.user)
    if form.is_valid():
        rows = exemptions.exemption_filter(
            rows, status=form.cleaned_data["status"], reason=form.cleaned_data["reason"]
        )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for exemption in page:
        exemption.may_answer = (
            exemption.status == Exemption.Status.PENDING
            and exemption.requested_by_id != request.user.pk
            and exemptions.may_decide(request.user, exemption.case)
        )
    return render(request, "cases/exemptions.html", {"page": page, "form": form}, status=status)
