"""Pages for visits and care (走访, 民情日志): the overdue list that warns a grid worker
whom to visit next (动态监测预警), recent visits, the visit form, one visit and its
photos. Built for a phone: a visit is recorded from the overdue list in a few taps."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.scopes import restrict_to_areas
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add
from linli.people import permissions, selectors, services
from linli.people.forms_care import OverdueFilterForm, VisitFilterForm, VisitForm
from linli.people.models import Visit, VisitPhoto
from linli.people.views.common import register_required

PAGE_SIZE = 50
PHOTO_KINDS = {"image", "thumbnail"}


# The date of the latest visit, as a correlated subquery so the list stays one query
# however many visits each person has had (the (resident, -visited_at) index answers it).
LAST_VISIT = Subquery(
    Visit.objects.filter(resident=OuterRef("pk")).order_by("-visited_at").values("visited_at")[:1]
)


@register_required
def overdue(request: HttpRequest) -> HttpResponse:
    grids = list(selectors.grids_in_scope_for(viewer=request.user))
    form = OverdueFilterForm(
        request.GET or None, grids=selectors.grids_in_scope_for(viewer=request.user)
    )
    grid = form.cleaned_data.get("grid") if form.is_valid() else None
    today = timezone.localdate()
    people = selectors.overdue_visits_for(viewer=request.user, on=today, grid=grid)
    page = Paginator(people.annotate(last_visit_at=LAST_VISIT), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    for person in page.object_list:
        person.days_overdue = (today - person.next_visit_due).days
    counts = []
    if len(grids) > 1:
        # Community and street users first see where the backlog is, grid by grid.
        by_grid = dict(
            selectors.overdue_visits_for(viewer=request.user, on=today)
            .prefetch_related(None)
            .order_by()
            .values_list("household__grid_id")
            .annotate(n=Count("id"))
        )
        counts = [(g, by_grid[g.pk]) for g in grids if by_grid.get(g.pk)]
    context = {"form": form, "grids": grids, "page": page, "counts": counts, "grid": grid}
    template = "people/overdue.html#rows" if request.htmx else "people/overdue.html"
    return render(request, template, context)


@register_required
def visit_list(request: HttpRequest) -> HttpResponse:
    scoped = selectors.visits_for(viewer=request.user)
    # The staff of the viewer's area, not "everyone who ever visited": that would scan
    # every visit of a street to fill one drop-down.
    visitors = restrict_to_areas(
        get_user_model().objects.filter(role__in=permissions.REGISTER_ROLES, is_active=True),
        request.user,
        "area",
    ).order_by("name", "username")
    form = VisitFilterForm(
        request.GET or None,
        grids=selectors.grids_in_scope_for(viewer=request.user),
        visitors=[(u.pk, u.name or u.username) for u in visitors],
    )
    visits = scoped.select_related("resident__household__grid")
    if form.is_valid():
        if form.cleaned_data["grid"] is not None:
            visits = visits.filter(
                resident__household__grid__path__startswith=form.cleaned_data["grid"].path
            )
        if form.cleaned_data["visitor"]:
            visits = visits.filter(visitor_id=form.cleaned_data["visitor"])
        if form.cleaned_data["follow_up"]:
            visits = visits.filter(follow_up_needed=True)
    page = Paginator(visits.order_by("-visited_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    template = "people/visit_list.html#rows" if request.htmx else "people/visit_list.html"
    return render(request, template, {"form": form, "page": page})


@register_required
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    resident = selectors.resident_detail_for(viewer=request.user, pk=pk)
    if resident is None:
        raise Http404
    form = VisitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.visit_create(
                resident=resident,
                visitor=request.user,
                method=data["method"],
                findings=data["findings"],
                visited_at=data["visited_at"],
                follow_up_needed=data["follow_up_needed"],
                follow_up_note=data["follow_up_note"],
                photos=data["photos"],
                request=request,
            )
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request, _("The visit to %(name)s is recorded.") % {"name": resident.name}
            )
            return redirect("people:resident", resident.pk)
    recent = selectors.visits_for(viewer=request.user, resident=resident)[:3]
    context = {"form": form, "resident": resident, "recent": recent}
    status = 400 if form.errors else 200
    return render(request, "people/visit_form.html", context, status=status)


@register_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = selectors.visit_detail_for(viewer=request.user, pk=pk)
    if visit is None:
        raise Http404
    return render(request, "people/visit_detail.html", {"visit": visit})


@register_required
def visit_photo(request: HttpRequest, pk: int, kind: str) -> FileResponse:
    """A visit photo, only to someone who may see the visit: media files are never
    served from a public URL, since a photo may show a person's home."""
    if kind not in PHOTO_KINDS:
        raise Http404
    photo = VisitPhoto.objects.filter(
        pk=pk, visit__in=selectors.visits_for(viewer=request.user).order_by().values("pk")
    ).first()
    if photo is None:
        raise Http404
    field = getattr(photo, kind)
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


urlpatterns = [
    path("visits/overdue/", overdue, name="overdue"),
    path("visits/", visit_list, name="visits"),
    path("visits/<int:pk>/", visit_detail, name="visit"),
    path("visits/photos/<int:pk>/<str:kind>/", visit_photo, name="visit_photo"),
    path("residents/<int:pk>/visits/new/", visit_new, name="visit_new"),
]
