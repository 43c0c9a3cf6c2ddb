from django.contrib import admin

from linli.people.models import AccessLog, ResidentTag, Tag
from linli.people.services import visit_due_refresh_many


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Administrators add tags, mark them sensitive and set visit intervals here. A tag in
    use cannot be deleted (retire it by clearing "active")."""

    list_display = ["name", "code", "category", "is_sensitive", "visit_interval_days", "is_active"]
    list_editable = ["is_sensitive", "visit_interval_days", "is_active"]
    list_filter = ["is_sensitive", "is_active", "category"]
    search_fields = ["name", "code"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"visit_interval_days", "is_active"} & set(form.changed_data):
            # Everyone with the tag gets a new due date at once, so the overdue list
            # follows the new interval without waiting for the next visit.
            holders = ResidentTag.objects.filter(tag=obj).values_list("resident_id", flat=True)
            visit_due_refresh_many(holders)


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: nobody, administrators included, can change or delete an entry."""

    list_display = ["created_at", "viewer", "resident", "field", "reason", "rows", "ip"]
    list_filter = ["field"]
    search_fields = ["viewer__username", "reason"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AccessLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
