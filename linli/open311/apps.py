from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "linli.open311"
    label = "open311"
    verbose_name = _("Open311")

    def ready(self):
        from linli.core.crypto import register_encrypted_field
        from linli.open311.models import EMAIL_CONTEXT, PHONE_CONTEXT

        for model in ("open311.Open311Request", "open311.Open311Update"):
            register_encrypted_field(model, "email_encrypted", "", EMAIL_CONTEXT)
        register_encrypted_field("open311.Open311Update", "phone_encrypted", "", PHONE_CONTEXT)
