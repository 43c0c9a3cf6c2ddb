from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "linli.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from linli.cases.models import CONTACT_PHONE_CONTEXT
        from linli.core.crypto import register_encrypted_field

        register_encrypted_field(
            "cases.Case", "contact_phone_encrypted", "contact_phone_index", CONTACT_PHONE_CONTEXT
        )
        # Registers the catalogue of matters as a demo build step.
        from linli.cases import (
            demo,  # noqa: F401
            demo_cases,  # noqa: F401  (a year of cases, after the catalogue)
            suggest,  # noqa: F401  (the matter suggester trained on them, full size only)
        )
