"""Sign-in by username or by mainland mobile number."""

import phonenumbers
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from linli.core.crypto import blind_index

PHONE_CONTEXT = "user.phone"


def normalise_phone(raw: str) -> str | None:
    """E.164 form of a valid Chinese mobile number, or None."""
    try:
        number = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or number.country_code != 86:
        return None
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def user_by_login(login: str):
    """The user a login name means: a username, or else a mobile number."""
    User = get_user_model()
    login = (login or "").strip()
    if not login:
        return None
    user = User.objects.filter(username=login).first()
    if user is None:
        phone = normalise_phone(login) if any(c.isdigit() for c in login) else None
        if phone:
            user = User.objects.filter(
                phone_index=blind_index(phone, context=PHONE_CONTEXT)
            ).first()
    return user


def axes_username(request, credentials) -> str:
    """The lockout key: the account's username whichever way it was typed, so switching
    between username and phone number does not buy another five tries."""
    login = (credentials or {}).get("username", "") or ""
    user = user_by_login(login)
    return user.username if user is not None else login.strip()


class UsernameOrPhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = user_by_login(username)
        if user is None:
            # Hash anyway so that unknown names take as long as wrong passwords.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
