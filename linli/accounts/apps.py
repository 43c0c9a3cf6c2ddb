from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "linli.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from linli.accounts import signals  # noqa: F401
        from linli.accounts.backends import PHONE_CONTEXT
        from linli.core.crypto import register_encrypted_field

        register_encrypted_field("accounts.User", "phone_encrypted", "phone_index", PHONE_CONTEXT)
