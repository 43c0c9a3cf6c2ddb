from django.contrib import admin

from linli.core.models import AuditEvent, WorkdayOverride


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record shown to an auditor and never edited here: it changes only through its
    services (cases and their moves, what an outside client filed)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only even for administrators."""

    list_display = [
        "created_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "success",
        "ip",
    ]
    list_filter = ["action", "success"]
    search_fields = ["actor_label", "action", "target_id"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_working_day", "note", "created_by", "created_at"]
    list_filter = ["is_working_day"]
    search_fields = ["note"]
    date_hierarchy = "date"
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
