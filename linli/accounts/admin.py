from django import forms
from django.contrib import admin, messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from linli.accounts import services
from linli.accounts.models import ApiToken, Department, User
from linli.core.errors import DomainError


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "area", "is_active"]
    search_fields = ["code", "name"]


class UserChangeForm(auth_forms.UserChangeForm):
    new_phone = forms.CharField(
        label=_("New mobile number"),
        required=False,
        help_text=_("Stored encrypted; lists show it masked."),
    )

    class Meta(auth_forms.UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    list_display = ["username", "name", "role", "area", "department", "phone_masked", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "name", "area__code", "area__name"]
    raw_id_fields = ["area", "department"]
    readonly_fields = ["phone_masked", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Person"), {"fields": ["name", "phone_masked", "new_phone", "email"]}),
        (_("Role and scope"), {"fields": ["role", "area", "department"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        phone = form.cleaned_data.get("new_phone")
        if phone:
            try:
                services.user_set_phone(user=obj, phone=phone, actor=request.user)
            except DomainError as exc:
                messages.error(request, str(exc.message))


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "prefix", "name"]
    readonly_fields = [f.name for f in ApiToken._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token=token, actor=request.user, request=request)
