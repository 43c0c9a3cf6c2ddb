from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "linli.people"
    label = "people"
    verbose_name = _("Resident register")

    def ready(self):
        from linli.core.crypto import register_encrypted_field
        from linli.people.models import ID_NUMBER_CONTEXT, PHONE_CONTEXT, PROPOSED_PHONE_CONTEXT

        register_encrypted_field(
            "people.Resident", "id_number_encrypted", "id_number_index", ID_NUMBER_CONTEXT
        )
        register_encrypted_field("people.Resident", "phone_encrypted", "phone_index", PHONE_CONTEXT)
        register_encrypted_field(
            "people.CorrectionRequest", "proposed_encrypted", "", PROPOSED_PHONE_CONTEXT
        )
        # Registers the demo street's households and residents as a demo build step.
        from linli.people import demo, signals  # noqa: F401
