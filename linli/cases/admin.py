from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from linli.cases.models import (
    Matter,
    MatterClass,
    MatterLimit,
    MatterQuestion,
    MatterQuestionOption,
)


@admin.register(MatterClass)
class MatterClassAdmin(admin.ModelAdmin):
    """Major classes. Not deletable here: matters (and later cases) point at them."""

    list_display = ["code", "name", "kind", "sort", "matter_count"]
    list_editable = ["sort"]
    search_fields = ["^code", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(matter_count=Count("matters"))

    @admin.display(description=_("matters"), ordering="matter_count")
    def matter_count(self, obj):
        return obj.matter_count

    def has_delete_permission(self, request, obj=None):
        return False


class MatterLimitInline(admin.TabularInline):
    model = MatterLimit
    extra = 0
    min_num = 1


class MatterQuestionInline(admin.TabularInline):
    """Options of a list question are edited on the question's own page (the link)."""

    model = MatterQuestion
    extra = 0
    fields = ["order", "code", "prompt", "datatype", "required", "help_text"]
    show_change_link = True


@admin.register(Matter)
class MatterAdmin(admin.ModelAdmin):
    """Administrators edit the catalogue here and add local matters. A matter is retired
    by clearing "active", never deleted: cases and statistics keep its code."""

    list_display = [
        "code",
        "name",
        "matter_class",
        "lead_department",
        "needs_check_photo",
        "allows_anonymous",
        "public",
        "is_active",
    ]
    list_filter = ["matter_class", "lead_department", "is_active", "public"]
    list_select_related = ["matter_class", "lead_department"]
    search_fields = ["^code", "name", "keywords"]
    inlines = [MatterLimitInline, MatterQuestionInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "matter_class", "lead_department", "keywords"]}),
        (
            _("Conditions"),
            {"fields": ["description", "filing_condition", "closing_condition"]},
        ),
        (
            _("Reporting and closing"),
            {"fields": ["needs_check_photo", "allows_anonymous", "public", "is_active"]},
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        # A code is never renumbered once saved (standards §1.3).
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False


class MatterQuestionOptionInline(admin.TabularInline):
    model = MatterQuestionOption
    extra = 0
    fields = ["order", "key", "name"]


@admin.register(MatterQuestion)
class MatterQuestionAdmin(admin.ModelAdmin):
    list_display = ["matter", "order", "code", "prompt", "datatype", "required"]
    list_filter = ["datatype", "required"]
    list_select_related = ["matter"]
    search_fields = ["^matter__code", "matter__name", "prompt", "code"]
    autocomplete_fields = ["matter"]
    inlines = [MatterQuestionOptionInline]
