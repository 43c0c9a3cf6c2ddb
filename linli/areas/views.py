"""Pages for areas: the map, the list, one area, the grid import."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from linli.areas import selectors, services
from linli.areas.forms import AreaFilterForm, GridImportForm
from linli.core.decorators import role_required

STAFF = tuple(selectors.STAFF_ROLES)


@login_required
def grid_map(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "areas/map.html",
        {
            "scope": selectors.map_focus_for(viewer=request.user),
            "tile_url": settings.LINLI_TILE_URL,
            "tile_attribution": settings.LINLI_TILE_ATTRIBUTION,
        },
    )


@login_required
def grids_geojson(request: HttpRequest) -> JsonResponse:
    return JsonResponse(selectors.grids_geojson_for(viewer=request.user))


@role_required(*STAFF)
def area_list(request: HttpRequest) -> HttpResponse:
    form = AreaFilterForm(
        request.GET or None, communities=selectors.community_choices_for(viewer=request.user)
    )
    filters = form.cleaned_data if form.is_valid() else {}
    areas = selectors.area_list_for(
        viewer=request.user,
        level=filters.get("level") or None,
        q=filters.get("q") or None,
        community=filters.get("community") or None,
    )
    page = Paginator(areas, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page}
    template = "areas/list.html#rows" if request.htmx else "areas/list.html"
    return render(request, template, context)


@role_required(*STAFF)
def area_detail(request: HttpRequest, code: str) -> HttpResponse:
    area = selectors.area_detail_for(viewer=request.user, code=code)
    if area is None:
        raise Http404
    context = selectors.area_page_for(viewer=request.user, area=area)
    return render(request, "areas/detail.html", context)


@role_required("admin")
def grids_import(request: HttpRequest) -> HttpResponse:
    form = GridImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = services.grids_import(
            feature_collection=form.cleaned_data["file"],
            actor=request.user,
            gap_tolerance_m2=form.cleaned_data["gap_tolerance_m2"],
            replace=form.cleaned_data["replace"],
            dry_run="check" in request.POST,
            request=request,
        )
    status = 400 if report is not None and not report.ok else 200
    return render(request, "areas/import.html", {"form": form, "report": report}, status=status)
