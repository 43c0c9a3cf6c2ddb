"""Pages of the register itself (人、房、户), phone first: my grid, people and households
with their forms, the "show in full" reveal, counts by tag, the talent pool and the
access log. Personal data is masked on every page; the full value comes only from
services.resident_reveal, which asks for a reason and logs the view."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.accounts.backends import user_by_login
from linli.accounts.scopes import restrict_to_areas, scope_root, sees_everything
from linli.areas.models import Area, Building
from linli.core.decorators import permission_required
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add
from linli.people import permissions, selectors, services
from linli.people.forms import (
    PAGE_SIZE,
    AccessLogFilterForm,
    AreaPickForm,
    HouseholdEditForm,
    HouseholdFilterForm,
    HouseholdForm,
    MoveOutForm,
    OverviewForm,
    ResidentEditForm,
    ResidentFilterForm,
    ResidentForm,
    RevealForm,
    TagForm,
    TalentFilterForm,
    TalentForm,
)
from linli.people.models import AccessLog, Household, Resident
from linli.people.views.common import problems_text, register_required

HOME_OVERDUE = 5
HOME_RECENT = 5


overview_required = permission_required(permissions.may_see_overview)
access_log_required = permission_required(permissions.may_read_access_log)


def _areas_for(viewer):
    """The communities and grids in the viewer's scope, each grid after its community."""
    areas = Area.objects.filter(level__in=[Area.Level.COMMUNITY, Area.Level.GRID])
    return restrict_to_areas(areas, viewer).order_by("path")


def _buildings_in(grid: Area | None):
    """The buildings a household in `grid` may name (the rule of services.building_fits)."""
    if grid is None:
        return Building.objects.none()
    where = Q(grid=grid) | Q(grid__parent=grid)
    if grid.level == Area.Level.MICROGRID:
        where |= Q(grid_id=grid.parent_id)
    return Building.objects.filter(where).order_by("code")


def _resident_or_404(request: HttpRequest, pk: int) -> Resident:
    resident = selectors.resident_detail_for(viewer=request.user, pk=pk)
    if resident is None:
        raise Http404
    return resident


def _household_or_404(request: HttpRequest, pk: int) -> Household:
    household = selectors.household_detail_for(viewer=request.user, pk=pk)
    if household is None:
        raise Http404
    return household


def _may_edit_or_403(request: HttpRequest, grid: Area) -> None:
    if not permissions.may_edit_area(request.user, grid):
        raise PermissionDenied


def _with_ages(people) -> list[Resident]:
    today = timezone.localdate()
    rows = list(people)
    for person in rows:
        person.age = person.age_on(today)
    return rows


# --- my grid -------------------------------------------------------------------------------


@register_required
def home(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    areas = _areas_for(viewer)
    form = AreaPickForm(request.GET or None, areas=areas)
    area = form.cleaned_data.get("area") if form.is_valid() else None
    # Counted per grid in two grouped queries, then summed over the grids in view.
    counts = selectors.tag_counts_for(viewer=viewer, level=Area.Level.GRID)
    grid_ids = [g.pk for g in counts["areas"] if area is None or g.path.startswith(area.path)]
    tag_totals = []
    for tag in counts["tags"]:
        n = sum(counts["counts"].get((g, tag.pk), 0) for g in grid_ids)
        if n:
            tag_totals.append((tag, n))
    overdue = selectors.overdue_visits_for(viewer=viewer, grid=area)
    # Counted and picked without the member-count annotation of household_list_for, whose
    # GROUP BY would run over every household of a street before the LIMIT applies.
    households = selectors.households_for(viewer=viewer).filter(is_active=True)
    if area is not None:
        households = households.filter(grid__path__startswith=area.path)
    recent_ids = list(
        households.order_by("-created_at", "-id").values_list("pk", flat=True)[:HOME_RECENT]
    )
    recent = selectors.household_list_for(viewer=viewer).filter(pk__in=recent_ids)
    context = {
        "form": form,
        "area": area,
        "scope": None if sees_everything(viewer) else scope_root(viewer),
        "several_areas": areas.count() > 1,
        "people": sum(counts["people"].get(g, 0) for g in grid_ids),
        "households": households.count(),
        "tag_totals": tag_totals,
        "overdue": _with_ages(overdue[:HOME_OVERDUE]),
        "overdue_count": overdue.count(),
        "recent": recent.order_by("-created_at", "-id"),
        "search_form": ResidentFilterForm(areas=areas),
    }
    return render(request, "people/register_home.html", context)


# --- residents -----------------------------------------------------------------------------


@register_required
def resident_list(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    tags = list(selectors.visible_tags_for(viewer=viewer))
    form = ResidentFilterForm(request.GET or None, areas=_areas_for(viewer), tags=tags)
    filters = form.cleaned_data if form.is_valid() else {}
    residents = selectors.resident_list_for(
        viewer=viewer,
        q=filters.get("q") or None,
        grid=filters.get("grid"),
        tag=filters.get("tag") or None,
        include_moved_out=bool(filters.get("moved_out")),
    )
    page = Paginator(residents, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_ages(page.object_list)
    context = {"form": form, "page": page, "q": filters.get("q", "")}
    template = "people/resident_list.html#rows" if request.htmx else "people/resident_list.html"
    return render(request, template, context)


def _slot(resident: Resident | None, field: str, *, value=None, form=None) -> dict:
    """One "show in full" control: the masked value, or the revealed one, or the form
    again with its error."""
    if resident is None:
        masked = ""
    elif field == AccessLog.Field.ID_NUMBER:
        masked = resident.id_number_masked
    elif field == AccessLog.Field.PHONE:
        masked = resident.phone_masked
    else:
        masked = resident.household.address_masked
    # An address without a room shows in full already: nothing more to reveal.
    revealable = bool(masked) and (field != AccessLog.Field.ADDRESS or resident.household.room)
    return {
        "field": field,
        "resident_pk": resident.pk if resident else None,
        "masked": masked,
        "value": value,
        "form": form,
        "revealable": revealable,
    }


def _resident_page(request: HttpRequest, resident: Resident, **slots) -> dict:
    viewer = request.user
    shown_tags = {link.tag_id for link in resident.visible_tag_links}
    members = selectors.household_members_for(viewer=viewer, household=resident.household)
    reveals = {
        field: slots.get(field) or _slot(resident, field)
        for field in (AccessLog.Field.ID_NUMBER, AccessLog.Field.PHONE, AccessLog.Field.ADDRESS)
    }
    return {
        "resident": resident,
        "household": resident.household,
        "age": resident.age_on(timezone.localdate()),
        "members": [m for m in members if m.pk != resident.pk],
        "visits": selectors.visits_for(viewer=viewer, resident=resident)[:5],
        "talents": list(resident.talents.all()),
        "may_edit": permissions.may_edit_area(viewer, resident.household.grid),
        "may_reveal": permissions.may_reveal(viewer),
        "addable_tags": [
            t for t in selectors.visible_tags_for(viewer=viewer) if t.pk not in shown_tags
        ],
        "move_out_form": MoveOutForm(),
        "reveals": reveals,
    }


@register_required
def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident_or_404(request, pk)
    return render(request, "people/resident_detail.html", _resident_page(request, resident))


@never_cache
@register_required
@require_POST
def resident_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident_or_404(request, pk)
    if not permissions.may_reveal(request.user):
        raise PermissionDenied
    form = RevealForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("This field cannot be revealed."))
    field = form.cleaned_data["field"]
    value = None
    try:
        value = services.resident_reveal(
            resident=resident,
            viewer=request.user,
            field=field,
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except DomainError as exc:
        form_errors_add(form, exc)
    slot = _slot(resident, field, value=value, form=form)
    if request.htmx:
        # htmx swaps only 2xx answers, so the form with its error comes back as 200.
        return render(request, "people/resident_reveal.html", {"slot": slot, "may_reveal": True})
    context = _resident_page(request, resident, **{field: slot})
    status = 400 if form.errors else 200
    return render(request, "people/resident_detail.html", context, status=status)


@register_required
def resident_new(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_or_404(request, pk)
    _may_edit_or_403(request, household.grid)
    first = not household.members.exists()
    form = ResidentForm(request.POST or None, initial={"relation": "head" if first else ""})
    if request.method == "POST" and form.is_valid():
        try:
            resident = services.resident_create(
                actor=request.user, household=household, request=request, **form.cleaned_data
            )
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": resident.name})
            return redirect("people:resident", resident.pk)
    context = {"form": form, "household": household, "resident": None}
    status = 400 if form.errors else 200
    return render(request, "people/resident_form.html", context, status=status)


@register_required
def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident_or_404(request, pk)
    _may_edit_or_403(request, resident.household.grid)
    form = ResidentEditForm(request.POST or None, resident=resident)
    if request.method == "POST" and form.is_valid():
        try:
            services.resident_update(
                resident=resident, actor=request.user, request=request, **form.changes()
            )
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("people:resident", resident.pk)
    context = {"form": form, "household": resident.household, "resident": resident}
    status = 400 if form.errors else 200
    return render(request, "people/resident_form.html", context, status=status)


@register_required
@require_POST
def resident_move_out(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident_or_404(request, pk)
    form = MoveOutForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please give a valid date."))
        return redirect("people:resident", resident.pk)
    try:
        services.resident_move_out(
            resident=resident,
            actor=request.user,
            on=form.cleaned_data["on"],
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except DomainError as exc:
        messages.error(request, problems_text(exc))
    else:
        messages.success(request, _("%(name)s is marked as moved out.") % {"name": resident.name})
    return redirect("people:resident", resident.pk)


@register_required
@require_POST
def resident_account(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the person's own resident account (found by username or mobile number), or
    unlink it, so that they see their household at people:mine."""
    resident = _resident_or_404(request, pk)
    try:
        if request.POST.get("action") == "unlink":
            services.resident_unlink_user(resident=resident, actor=request.user, request=request)
            messages.success(request, _("The account is no longer linked."))
        else:
            login = request.POST.get("login", "").strip()
            user = user_by_login(login) if login else None
            services.resident_link_user(
                resident=resident, user=user, actor=request.user, request=request
            )
            messages.success(request, _("The account is linked: they now see their household."))
    except DomainError as exc:
        messages.error(request, problems_text(exc))
    return redirect("people:resident", resident.pk)


@register_required
@require_POST
def resident_tag(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident_or_404(request, pk)
    # Only tags the viewer may see can be named: a sensitive one is "not a choice".
    form = TagForm(request.POST, tags=selectors.visible_tags_for(viewer=request.user))
    if not form.is_valid():
        messages.error(request, _("Choose a tag."))
        return redirect("people:resident", resident.pk)
    data = form.cleaned_data
    try:
        if data["action"] == "add":
            services.resident_tag_add(
                resident=resident,
                tag=data["tag"],
                actor=request.user,
                grade=data["grade"],
                note=data["note"],
                request=request,
            )
        else:
            services.resident_tag_remove(
                resident=resident, tag=data["tag"], actor=request.user, request=request
            )
    except DomainError as exc:
        messages.error(request, problems_text(exc))
    return redirect(reverse("people:resident", args=[resident.pk]) + "#tags")


# --- households ----------------------------------------------------------------------------


@register_required
def household_list(request: HttpRequest) -> HttpResponse:
    form = HouseholdFilterForm(request.GET or None, areas=_areas_for(request.user))
    filters = form.cleaned_data if form.is_valid() else {}
    households = selectors.household_list_for(
        viewer=request.user, q=filters.get("q") or None, grid=filters.get("grid")
    )
    page = Paginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page}
    template = "people/household_list.html#rows" if request.htmx else "people/household_list.html"
    return render(request, template, context)


@register_required
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_or_404(request, pk)
    members = _with_ages(selectors.household_members_for(viewer=request.user, household=household))
    # The full address is revealed, and logged, against a member who lives here.
    current = [m for m in members if m.lives_here]
    address = _slot(current[0], AccessLog.Field.ADDRESS) if current else None
    context = {
        "household": household,
        "members": members,
        "address": address,
        "may_edit": permissions.may_edit_area(request.user, household.grid),
        "may_reveal": permissions.may_reveal(request.user),
    }
    return render(request, "people/household_detail.html", context)


def _picked_grid(request: HttpRequest, grids, default: Area | None = None) -> Area | None:
    """The grid named in the form (or the query string), for the building choices."""
    raw = request.POST.get("grid") or request.GET.get("grid")
    if raw and raw.isdigit():
        return grids.filter(pk=int(raw)).first()
    if default is not None:
        return default
    return grids.first() if grids.count() == 1 else None


@register_required
def household_new(request: HttpRequest) -> HttpResponse:
    grids = selectors.grids_in_scope_for(viewer=request.user)
    grid = _picked_grid(request, grids)
    form = HouseholdForm(
        request.POST or None,
        grids=grids,
        buildings=_buildings_in(grid),
        refresh_url=request.path,
        initial={"grid": grid.pk if grid else None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            household = services.household_create(actor=request.user, request=request, **data)
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The household is added. Now register its members."))
            return redirect("people:resident_new", household.pk)
    context = {"form": form, "household": None}
    status = 400 if form.errors else 200
    return render(request, "people/household_form.html", context, status=status)


@register_required
def household_edit(request: HttpRequest, pk: int) -> HttpResponse:
    household = _household_or_404(request, pk)
    _may_edit_or_403(request, household.grid)
    grids = selectors.grids_in_scope_for(viewer=request.user)
    grid = _picked_grid(request, grids, default=household.grid)
    form = HouseholdEditForm(
        request.POST or None,
        grids=grids,
        buildings=_buildings_in(grid),
        refresh_url=request.path,
        household=household,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {
            name: data[name] for name in ("address", "unit", "tenure", "registration", "note")
        }
        if data["room"].strip():
            changes["room"] = data["room"]
        moved = data["grid"] != household.grid
        building = data["building"]
        try:
            services.household_update(
                household=household,
                actor=request.user,
                grid=data["grid"] if moved else None,
                building=building if building != household.building else None,
                request=request,
                **changes,
            )
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The changes are saved."))
            return redirect("people:household", household.pk)
    context = {"form": form, "household": household}
    status = 400 if form.errors else 200
    return render(request, "people/household_form.html", context, status=status)


# --- counts, talents, access log -----------------------------------------------------------


@overview_required
def overview(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    root = None if sees_everything(viewer) else scope_root(viewer)
    wide = root is None or root.level in (Area.Level.DISTRICT, Area.Level.STREET)
    # Street users start from communities and may drill down to grids; community and grid
    # users see their grids.
    level = Area.Level.COMMUNITY if wide else Area.Level.GRID
    form = OverviewForm(request.GET or None)
    if wide and form.is_valid() and form.cleaned_data["level"]:
        level = form.cleaned_data["level"]
    data = selectors.tag_counts_for(viewer=viewer, level=level)
    tags = data["tags"]
    rows = [
        {
            "area": area,
            "people": data["people"].get(area.pk, 0),
            "counts": [data["counts"].get((area.pk, tag.pk), 0) for tag in tags],
        }
        for area in data["areas"]
    ]
    totals = [sum(row["counts"][i] for row in rows) for i in range(len(tags))]
    context = {
        "level": level,
        "wide": wide,
        "tags": tags,
        "rows": rows,
        "totals": totals,
        "people": sum(row["people"] for row in rows),
        "chart": {"labels": [t.name for t in tags], "values": totals},
        "may_open": permissions.may_use_register(viewer),
    }
    return render(request, "people/overview.html", context)


@register_required
def talent_list(request: HttpRequest) -> HttpResponse:
    form = TalentFilterForm(request.GET or None)
    skill = form.cleaned_data["skill"] if form.is_valid() else ""
    # The pool lists only people whose consent is recorded (PIPL Art. 14); those willing
    # to serve come first.
    talents = (
        selectors.talents_for(viewer=request.user, skill=skill or None)
        .filter(consent_at__isnull=False)
        .order_by("-willing_to_serve", "skill", "resident__name", "id")
    )
    page = Paginator(talents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/talents.html", {"form": form, "page": page})


@register_required
def talent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    resident = _resident_or_404(request, pk)
    _may_edit_or_403(request, resident.household.grid)
    talents = list(resident.talents.all())
    current = next((t for t in talents if t.skill == request.GET.get("skill")), None)
    initial = {}
    if current is not None:
        initial = {
            "skill": current.skill,
            "detail": current.detail,
            "certificate": current.certificate,
            "willing_to_serve": current.willing_to_serve,
            "consent": current.consent_at is not None,
        }
    form = TalentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.talent_save(
                resident=resident, actor=request.user, request=request, **form.cleaned_data
            )
        except DomainError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The talent pool entry is saved."))
            return redirect("people:resident", resident.pk)
    context = {"form": form, "resident": resident, "talents": talents}
    status = 400 if form.errors else 200
    return render(request, "people/resident_talent_form.html", context, status=status)


@access_log_required
def access_log(request: HttpRequest) -> HttpResponse:
    form = AccessLogFilterForm(request.GET or None)
    logs = selectors.access_log_for(viewer=request.user)
    if form.is_valid():
        data = form.cleaned_data
        if data["viewer"]:
            logs = logs.filter(viewer__username=data["viewer"].strip())
        if data["field"]:
            logs = logs.filter(field=data["field"])
        if data["since"]:
            logs = logs.filter(created_at__date__gte=data["since"])
        if data["until"]:
            logs = logs.filter(created_at__date__lte=data["until"])
    page = Paginator(logs.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/access_log.html", {"form": form, "page": page})


urlpatterns = [
    path("", home, name="home"),
    path("residents/", resident_list, name="residents"),
    path("residents/<int:pk>/", resident_detail, name="resident"),
    path("residents/<int:pk>/reveal/", resident_reveal, name="resident_reveal"),
    path("residents/<int:pk>/edit/", resident_edit, name="resident_edit"),
    path("residents/<int:pk>/move-out/", resident_move_out, name="resident_move_out"),
    path("residents/<int:pk>/tags/", resident_tag, name="resident_tag"),
    path("residents/<int:pk>/account/", resident_account, name="resident_account"),
    path("residents/<int:pk>/talents/", talent_edit, name="talent_edit"),
    path("households/", household_list, name="households"),
    path("households/new/", household_new, name="household_new"),
    path("households/<int:pk>/", household_detail, name="household"),
    path("households/<int:pk>/edit/", household_edit, name="household_edit"),
    path("households/<int:pk>/residents/new/", resident_new, name="resident_new"),
    path("overview/", overview, name="overview"),
    path("talents/", talent_list, name="talents"),
    path("access-log/", access_log, name="access_log"),
]
