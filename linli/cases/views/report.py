"""Filing a report and following it: the resident's 随手拍 (also a grid worker's patrol
report and a dispatcher's entry of a 12345 call), the htmx helpers of that page (matter
search, the matter's questions, possible duplicates), "me too", and "my reports".

Built for a phone held in one hand on a bad network: the form works without JavaScript
(the grouped matter list is a plain select; the place may come from a photo's GPS), and a
double tap on "send" files one case (a one-time token, see `_token_claim`)."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.cases import case_services, selectors
from linli.cases.forms_report import SOURCE_FOR_ROLE, ReportForm, matter_visible
from linli.cases.models import DESCRIPTION_MAX, CaseSupport, Source, Urgency
from linli.cases.workflow import Status
from linli.core.decorators import role_required
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add
from linli.core.ratelimits import INTAKE_LIMITS, rate_limit_posts

REPORT_ROLES = tuple(SOURCE_FOR_ROLE)
PAGE_SIZE = 20
# Form tokens this session has been given and not yet used (several tabs may be open).
TOKENS_KEY = "cases_report_tokens"
TOKENS_KEPT = 10
# How long a used token remembers the case it filed: a resubmit from a stale tab or a
# retry of a slow upload comes well within a day.
TOKEN_TTL_SECONDS = 24 * 3600
# A claim outlives the request that holds it only if that process died mid-way; then the
# same form may be sent again after this long.
PENDING_TTL_SECONDS = 120
PENDING = "pending"


# --- the one-time token ------------------------------------------------------------------------


def _token_issue(request: HttpRequest) -> str:
    token = uuid.uuid4().hex
    tokens = [*request.session.get(TOKENS_KEY, []), token][-TOKENS_KEPT:]
    request.session[TOKENS_KEY] = tokens
    return token


def _token_key(request: HttpRequest, token: str) -> str:
    return f"cases:report-token:{request.user.pk}:{token}"


def _token_claim(request: HttpRequest, token: str) -> tuple[bool, object]:
    """Claim `token` for this submit. Returns (True, None) when this request may file, or
    (False, what the token holds: the case it filed as {"case", "number"}, PENDING while
    another request is filing it, None when this session never issued it).

    The claim is an atomic cache.add (a unique row in the database cache, SET NX in
    Redis), not the session: two taps arrive together and each request reads the session
    before the other has written it back."""
    key = _token_key(request, token)
    held = cache.get(key)
    if held is not None:
        return False, held
    if token not in request.session.get(TOKENS_KEY, []):
        return False, None
    if cache.add(key, PENDING, PENDING_TTL_SECONDS):
        return True, None
    return False, cache.get(key)


def _token_release(request: HttpRequest, token: str) -> None:
    """The report was refused: the same form may be corrected and sent again."""
    cache.delete(_token_key(request, token))


def _token_consume(request: HttpRequest, token: str, case) -> None:
    filed = {"case": case.pk, "number": case.number}
    cache.set(_token_key(request, token), filed, TOKEN_TTL_SECONDS)
    request.session[TOKENS_KEY] = [t for t in request.session.get(TOKENS_KEY, []) if t != token]


def _case_url(request: HttpRequest, case_pk: int) -> str:
    """The case page when the filer may open it; else the report page (a grid worker may
    report a problem in a grid that is not theirs, which then is not theirs to follow)."""
    if selectors.case_view_for(request.user, case_pk) is None:
        return reverse("cases:report")
    return reverse("cases:case", args=[case_pk])


# --- the report page ---------------------------------------------------------------------------


def _heading(role: str) -> str:
    if role == "grid_worker":
        return _("Patrol report")
    if role == "dispatcher":
        return _("Enter a 12345 call")
    return _("Report a problem")


def _render(request: HttpRequest, form: ReportForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "heading": _heading(form.role),
        "is_resident": form.role == "resident",
        "is_hotline": form.source == Source.HOTLINE,
        # A browser cannot keep chosen files when the page comes back with errors.
        "photos_again": form.is_bound and bool(request.FILES),
        "tile_url": settings.LINLI_TILE_URL,
        "tile_attribution": settings.LINLI_TILE_ATTRIBUTION,
    }
    return render(request, "cases/report.html", context, status=status)


def _already_filed(request: HttpRequest, held) -> HttpResponse:
    """The answer to a second submit of a form that was (or is being) filed."""
    if held == PENDING:
        messages.info(
            request,
            _(
                "Your report is being sent. It will be in “My reports” in a moment; "
                "no need to send it again."
            ),
        )
        target = "cases:mine" if request.user.role == "resident" else "cases:report"
        return redirect(target)
    messages.info(
        request,
        _("This report was already sent as case %(number)s; it was filed once.")
        % {"number": held["number"]},
    )
    return redirect(_case_url(request, held["case"]))


@role_required(*REPORT_ROLES)
@rate_limit_posts(*INTAKE_LIMITS)
def report(request: HttpRequest) -> HttpResponse:
    role = request.user.role
    if request.method != "POST":
        form = ReportForm(role=role, initial={"token": _token_issue(request)})
        return _render(request, form)
    form = ReportForm(request.POST, request.FILES, role=role)
    token = request.POST.get("token", "")
    may_file, held = _token_claim(request, token) if token else (False, None)
    if not may_file and held is not None:
        return _already_filed(request, held)
    if not may_file:
        form.is_valid()
        form.add_error(
            None,
            _("This form has expired. Please check it and send it again."),
        )
        form.data = form.data.copy()
        form.data["token"] = _token_issue(request)
        return _render(request, form, status=400)
    if not form.is_valid():
        _token_release(request, token)
        return _render(request, form, status=400)
    data = form.cleaned_data
    try:
        case = case_services.case_report(
            matter=data["matter"],
            description=data["description"],
            lon=data["lon"],
            lat=data["lat"],
            source=form.source,
            # A 12345 call is the caller's report, typed in by the dispatcher: the
            # timeline names the dispatcher, and the news goes to the caller's phone.
            reporter=None if form.source == Source.HOTLINE else request.user,
            entered_by=request.user,
            address=data["address"],
            urgency=data.get("urgency") or Urgency.NORMAL,
            anonymous=data.get("anonymous", False),
            answers=form.answers(),
            photos=data["photos"],
            external_ref=data.get("external_ref", ""),
            contact_name=data.get("contact_name", ""),
            contact_phone=data.get("contact_phone", ""),
        )
    except DomainError as exc:
        _token_release(request, token)
        form_errors_add(form, exc)
        return _render(request, form, status=400)
    except Exception:
        # Nothing was filed (the service is one transaction): the form may be sent again.
        _token_release(request, token)
        raise
    _token_consume(request, token, case)
    if case.contact_phone_masked:
        text = _("Case %(number)s is filed for %(name)s (%(phone)s).") % {
            "number": case.number,
            "name": case.contact_name or _("the caller"),
            "phone": case.contact_phone_masked,
        }
    else:
        text = _(
            "Thank you. Your report is filed as case %(number)s; you will hear when it is accepted."
        ) % {"number": case.number}
    messages.success(request, text)
    return redirect(_case_url(request, case.pk))


# --- htmx helpers of the report page -----------------------------------------------------------


@role_required(*REPORT_ROLES)
@require_GET
def matter_search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:50]
    matters = selectors.matter_search(q, public_only=request.user.role == "resident")
    context = {"matters": matters, "q": q.strip()}
    return render(request, "cases/partials/report_matters.html", context)


@role_required(*REPORT_ROLES)
@require_GET
def matter_questions(request: HttpRequest, code: str) -> HttpResponse:
    form = ReportForm(role=request.user.role, matter_code=code)
    if form.chosen_matter is None or not form.chosen_matter.is_active:
        raise Http404
    return render(request, "cases/partials/report_questions.html", {"form": form})


def _point(data) -> tuple[float, float] | None:
    try:
        lon, lat = float(data.get("lon", "")), float(data.get("lat", ""))
    except ValueError:
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _support_counts(case_ids: list[int]) -> dict[int, int]:
    rows = (
        CaseSupport.objects.filter(case_id__in=case_ids)
        .values("case_id")
        .annotate(n=Count("id"))
        .values_list("case_id", "n")
    )
    return dict(rows)


@role_required(*REPORT_ROLES)
@require_POST
def duplicates(request: HttpRequest) -> HttpResponse:
    """Open cases the report may repeat, once matter, point and description are known.
    Residents see any (as the public sees a case); staff only those in their scope. A POST,
    so that the description never lands in a URL or an access log."""
    is_resident = request.user.role == "resident"
    matter = matter_visible(request.POST.get("matter", "").strip(), public_only=is_resident)
    point = _point(request.POST)
    description = request.POST.get("description", "").strip()[:DESCRIPTION_MAX]
    found = []
    if matter is not None and point is not None and description:
        found = selectors.case_duplicates(
            matter=matter, lon=point[0], lat=point[1], description=description
        )
    if found and not is_resident:
        visible = set(
            selectors.cases_for(request.user)
            .filter(pk__in=[d.case.pk for d in found])
            .values_list("pk", flat=True)
        )
        found = [d for d in found if d.case.pk in visible]
    ids = [d.case.pk for d in found]
    supported = set(
        CaseSupport.objects.filter(case_id__in=ids, user=request.user).values_list(
            "case_id", flat=True
        )
    )
    counts = _support_counts(ids)
    rows = [
        {
            "duplicate": d,
            "count": counts.get(d.case.pk, 0),
            "supported": d.case.pk in supported,
            "own": d.case.reporter_id == request.user.pk,
        }
        for d in found
    ]
    context = {"rows": rows, "is_resident": is_resident}
    return render(request, "cases/partials/report_duplicates.html", context)


# --- me too ------------------------------------------------------------------------------------


def _back(request: HttpRequest, case_pk: int) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("cases:case", args=[case_pk])


@role_required("resident")
@require_POST
def me_too(request: HttpRequest, pk: int) -> HttpResponse:
    """A resident with the same problem supports an open case (+1); a second tap adds
    nothing. Staff are refused by the role gate: "me too" is the residents' voice."""
    view = selectors.case_view_for(request.user, pk)
    if view is None:
        raise Http404
    case = view.case
    problem = ""
    created = False
    try:
        _support, created = case_services.case_me_too(case=case, user=request.user)
    except DomainError as exc:
        problem = str(exc.message)
    if problem:
        text = problem
    elif created:
        text = _(
            "Thank you: you have this problem too (case %(number)s); you will hear its outcome."
        ) % {"number": case.number}
    else:
        text = _("Already counted: you said “me too” on case %(number)s before.") % {
            "number": case.number
        }
    if request.htmx:
        context = {
            "case": case,
            "count": _support_counts([case.pk]).get(case.pk, 0),
            "message": text,
            "problem": bool(problem),
            "supported": not problem,
        }
        return render(request, "cases/partials/report_me_too.html", context)
    if problem:
        messages.error(request, text)
    else:
        messages.success(request, text)
    return redirect(_back(request, case.pk))


# --- my reports --------------------------------------------------------------------------------


@role_required("resident")
def mine(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_reports(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    for case in page.object_list:
        case.is_own = case.reporter_id == request.user.pk
        case.to_rate = case.is_own and case.status == Status.CLOSED and case.satisfaction is None
    return render(request, "cases/mine.html", {"page": page})
