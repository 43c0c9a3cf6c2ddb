from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from linli.cases.intake import sensors
from linli.cases.models import (
    Case,
    CaseEvent,
    Exemption,
    Extension,
    Matter,
    MatterClass,
    MatterLimit,
    MatterQuestion,
    MatterQuestionOption,
    SensorDevice,
    Whistle,
    WhistleCall,
)
from linli.core.admin import ReadOnlyAdmin
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add


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


class SensorDeviceForm(forms.ModelForm):
    class Meta:
        model = SensorDevice
        fields = ["code", "name", "matter", "lon", "lat", "address", "is_active"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            sensors.sensor_device_check(
                code=data.get("code", self.instance.code),
                name=data.get("name", ""),
                matter=data.get("matter"),
                lon=data.get("lon"),
                lat=data.get("lat"),
                address=data.get("address", ""),
                device=self.instance if self.instance.pk else None,
            )
        except DomainError as error:
            form_errors_add(self, error)
        return data


@admin.register(SensorDevice)
class SensorDeviceAdmin(admin.ModelAdmin):
    """Networked sensors that file alarms (linli.cases.intake.sensors). A new device's key
    is shown once, in the message after saving; only its SHA-256 is stored, so a lost key
    means a new device entry (`manage.py sensor_device` does the same from a shell)."""

    form = SensorDeviceForm
    list_display = [
        "code",
        "name",
        "matter",
        "address",
        "key_prefix",
        "is_active",
        "last_seen_at",
    ]
    list_filter = ["is_active", "matter"]
    list_select_related = ["matter"]
    search_fields = ["^code", "name", "address"]
    autocomplete_fields = ["matter"]
    readonly_fields = ["key_prefix", "last_seen_at", "created_at"]
    actions = ["deactivate"]

    def get_readonly_fields(self, request, obj=None):
        # Cases keep the code in their external_ref: it never changes once saved.
        return [*self.readonly_fields, "code"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        raw = sensors.sensor_device_key_set(obj)
        super().save_model(request, obj, form, change)
        messages.warning(
            request,
            gettext(
                "The key of device %(code)s is %(key)s — copy it into the device now; it "
                "is shown only this once."
            )
            % {"code": obj.code, "key": raw},
        )

    @admin.action(description=_("Deactivate the selected devices (their alarms are refused)"))
    def deactivate(self, request, queryset):
        for device in queryset:
            sensors.sensor_device_revoke(device=device)

    def has_delete_permission(self, request, obj=None):
        return False


# --- cases, read-only ---------------------------------------------------------------------------
# Cases move only through their services (one transaction, one timeline entry per move), so
# the admin shows them and never edits them: an auditor's view of the record. The contact
# phone appears masked only; the sealed columns are not shown at all.


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["created_at", "actor", "action", "from_status", "to_status", "note", "public"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "matter",
        "status",
        "source",
        "grid",
        "lead_department",
        "reported_at",
        "deadline",
    ]
    list_filter = ["status", "source", "urgency", "lead_department", "satisfaction"]
    search_fields = ["number", "external_ref"]
    date_hierarchy = "reported_at"
    list_select_related = ["matter", "grid", "lead_department"]
    exclude = ["contact_phone_encrypted", "contact_phone_index"]
    # Not editable fields are left out of admin pages unless named here.
    readonly_fields = ["contact_phone_masked", "created_at", "updated_at"]
    inlines = [CaseEventInline]


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdmin):
    list_display = ["case", "department", "amount", "unit", "status", "created_at", "decided_at"]
    list_filter = ["status", "department"]
    search_fields = ["case__number"]
    list_select_related = ["case", "department"]


@admin.register(Exemption)
class ExemptionAdmin(ReadOnlyAdmin):
    """Read-only: exemptions are asked for and decided on the case page or the API
    (linli.cases.exemptions), each step on the case's timeline."""

    list_display = ["case", "reason", "status", "requested_by", "decided_by", "created_at"]
    list_filter = ["status", "reason"]
    search_fields = ["case__number"]
    list_select_related = ["case", "requested_by", "decided_by"]


class WhistleCallInline(admin.TabularInline):
    model = WhistleCall
    fields = ["department", "reported_at", "reported_by", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Whistle)
class WhistleAdmin(ReadOnlyAdmin):
    list_display = ["case", "called_by", "created_at"]
    search_fields = ["case__number"]
    list_select_related = ["case", "called_by"]
    inlines = [WhistleCallInline]
