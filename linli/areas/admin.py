from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from linli.areas.models import Area, Building


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "area_m2"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["path", "area_m2", "centroid_lon", "centroid_lat", "import_link"]
    exclude = ["geometry"]

    @admin.display(description=_("boundary"))
    def import_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("areas:import"),
            _("Boundaries are changed by importing GeoJSON"),
        )


@admin.register(Building)
class BuildingAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "grid", "address", "floors"]
    search_fields = ["code", "name", "address"]
    raw_id_fields = ["grid"]
