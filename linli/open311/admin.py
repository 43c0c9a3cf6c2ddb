from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from linli.core.admin import ReadOnlyAdmin
from linli.core.errors import DomainError
from linli.core.forms import form_errors_add
from linli.open311 import services
from linli.open311.models import Open311Key, Open311Request, Open311Update


class Open311KeyForm(forms.ModelForm):
    class Meta:
        model = Open311Key
        fields = ["name", "channel"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not self.errors:
            try:
                services.open311_key_check(
                    name=cleaned.get("name", ""), channel=cleaned.get("channel", "")
                )
            except DomainError as problem:
                form_errors_add(self, problem)
        return cleaned


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    """Keys of Open311 clients. A new key is shown once, in the message after saving; only
    its SHA-256 is stored. Revoke a key with the action; keys are never deleted, because
    the cases they filed keep pointing at them (`manage.py open311_key` does the same)."""

    form = Open311KeyForm
    list_display = ["name", "channel", "key_prefix", "created_by", "created_at", "revoked_at",
                    "last_used_at"]  # fmt: skip
    list_filter = ["channel"]
    search_fields = ["name", "^key_prefix", "channel"]
    readonly_fields = ["key_prefix", "created_by", "created_at", "revoked_at", "last_used_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # The cases it filed carry the channel: it never changes once issued.
        if obj is not None:
            return [*self.readonly_fields, "name", "channel"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        key, raw = services.open311_key_issue(
            name=obj.name, channel=obj.channel, created_by=request.user
        )
        obj.pk = key.pk
        messages.warning(
            request,
            gettext(
                "The key %(name)s is %(key)s — give it to the client now; it is shown only "
                "this once."
            )
            % {"name": key.name, "key": raw},
        )

    @admin.action(description=_("Revoke the selected keys (their requests are refused)"))
    def revoke(self, request, queryset):
        for key in queryset:
            services.open311_key_revoke(key=key)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Open311Request)
class Open311RequestAdmin(ReadOnlyAdmin):
    """What each Open311 client filed; the reporter's email appears masked only."""

    list_display = ["case", "channel", "key", "device_id", "account_id", "created_at"]
    list_filter = ["channel"]
    search_fields = ["case__number", "token", "account_id"]
    list_select_related = ["case", "key"]
    exclude = ["email_encrypted"]
    readonly_fields = ["email_masked"]


@admin.register(Open311Update)
class Open311UpdateAdmin(ReadOnlyAdmin):
    list_display = ["case", "channel", "update_id", "created_at"]
    list_filter = ["channel"]
    search_fields = ["case__number", "update_id"]
    list_select_related = ["case"]
    exclude = ["email_encrypted", "phone_encrypted"]
    readonly_fields = ["email_masked", "phone_masked"]
