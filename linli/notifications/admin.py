from django.contrib import admin

from linli.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: for administrators looking into what was sent to whom. The rows belong
    to their recipients; nobody writes them by hand."""

    list_display = ["created_at", "recipient", "kind", "object_ref", "read_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username", "kind", "object_ref"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_view_permission(self, request, obj=None):
        return request.user.role == "admin" and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
