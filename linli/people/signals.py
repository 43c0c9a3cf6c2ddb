"""The register's answers to other apps' events."""

from django.dispatch import receiver

from linli.accounts.signals import resident_signed_up
from linli.people.services import resident_link_on_signup


@receiver(resident_signed_up, dispatch_uid="people_link_on_signup")
def link_on_signup(sender, user, phone, **kwargs):
    resident_link_on_signup(user=user, phone_e164=phone)
