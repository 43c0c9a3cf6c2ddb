"""Writes for accounts: users, phones, API tokens, SMS codes, resident sign-up."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.auth import token_hash
from linli.accounts.backends import PHONE_CONTEXT, normalise_phone
from linli.accounts.models import ApiToken, Department, PhoneCode, User
from linli.accounts.scopes import sees_everything
from linli.accounts.signals import resident_signed_up
from linli.areas.models import Area
from linli.core.audit import audit_record
from linli.core.crypto import blind_index, decrypt, encrypt, mask_phone
from linli.core.errors import DomainError

AREA_LEVELS_BY_ROLE = {
    User.Role.GRID_WORKER: {Area.Level.GRID, Area.Level.MICROGRID},
    User.Role.DISPATCHER: {Area.Level.STREET, Area.Level.COMMUNITY, Area.Level.DISTRICT},
    User.Role.LEADER: {Area.Level.DISTRICT, Area.Level.STREET, Area.Level.COMMUNITY},
    User.Role.ADMIN: {Area.Level.DISTRICT, Area.Level.STREET},
}
CODE_RESEND_SECONDS = 60
CODES_PER_PHONE_PER_DAY = 5
CODE_MAX_ATTEMPTS = 5


def user_scope_problems(role: str, area: Area | None, department: Department | None) -> dict:
    """Field errors when a role and its scope do not fit together; empty when they do."""
    fields: dict[str, list[str]] = {}
    if role not in User.Role.values:
        fields["role"] = [_("Unknown role.")]
        return fields
    if role == User.Role.HANDLER and department is None:
        fields["department"] = [_("A department handler needs a department.")]
    if role in (User.Role.GRID_WORKER, User.Role.DISPATCHER, User.Role.LEADER) and area is None:
        fields["area"] = [_("This role needs an area scope.")]
    if area is not None:
        allowed = AREA_LEVELS_BY_ROLE.get(role)
        if allowed is None:
            fields["area"] = [_("This role has no area scope.")]
        elif area.level not in allowed:
            fields["area"] = [
                _("A %(role)s cannot have a %(level)s as scope.")
                % {"role": User.Role(role).label, "level": area.get_level_display()}
            ]
    return fields


def _phone_fields(phone: str) -> dict:
    e164 = normalise_phone(phone)
    if e164 is None:
        raise DomainError(
            "invalid_phone",
            _("Not a valid mainland mobile number."),
            {"phone": [_("Enter an 11-digit mobile number, e.g. 13812345678.")]},
        )
    return {
        "phone_encrypted": encrypt(e164, context=PHONE_CONTEXT),
        "phone_index": blind_index(e164, context=PHONE_CONTEXT),
        "phone_masked": mask_phone(e164),
    }


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    name: str = "",
    password: str | None = None,
    area: Area | None = None,
    department: Department | None = None,
    phone: str | None = None,
    actor: User | None = None,
) -> User:
    """Create a user whose role and scope agree; the phone is stored encrypted."""
    fields = user_scope_problems(role, area, department)
    if User.objects.filter(username=username).exists():
        fields["username"] = [_("This username is taken.")]
    user = User(username=username, role=role, name=name, area=area, department=department)
    user.is_staff = role == User.Role.ADMIN
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            fields["password"] = list(exc.messages)
    if fields:
        raise DomainError("invalid_user", _("The user cannot be created."), fields)
    if phone:
        for attr, value in _phone_fields(phone).items():
            setattr(user, attr, value)
        if User.objects.filter(phone_index=user.phone_index).exists():
            raise DomainError(
                "phone_taken",
                _("This mobile number already belongs to an account."),
                {"phone": [_("This mobile number already belongs to an account.")]},
            )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    audit_record(action="user.create", actor=actor, target=user, detail={"role": role})
    return user


def user_set_phone(*, user: User, phone: str, actor: User | None = None) -> User:
    """Encrypt and store a mobile number with its blind index and masked form."""
    values = _phone_fields(phone)
    if User.objects.filter(phone_index=values["phone_index"]).exclude(pk=user.pk).exists():
        raise DomainError(
            "phone_taken",
            _("This mobile number already belongs to an account."),
            {"phone": [_("This mobile number already belongs to an account.")]},
        )
    for attr, value in values.items():
        setattr(user, attr, value)
    user.save(update_fields=list(values))
    audit_record(action="user.phone_set", actor=actor or user, target=user)
    return user


def user_phone_reveal(*, user: User, viewer: User, request=None) -> str:
    """The full number, for the user themself or an administrator; every view is logged."""
    if not user.phone_encrypted:
        return ""
    if viewer.pk != user.pk and not sees_everything(viewer):
        audit_record(
            action="personal_data.view",
            actor=viewer,
            target=user,
            success=False,
            request=request,
            detail={"field": "phone"},
        )
        raise DomainError("forbidden", _("You may not see this number in full."))
    audit_record(
        action="personal_data.view",
        actor=viewer,
        target=user,
        request=request,
        detail={"field": "phone"},
    )
    return decrypt(user.phone_encrypted, context=PHONE_CONTEXT)


def api_token_issue(
    *, user: User, name: str = "", days: int | None = None, request=None
) -> tuple[ApiToken, str]:
    """A new token; the raw value is returned once and only its hash is kept."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[:8],
        key_hash=token_hash(raw),
        expires_at=timezone.now() + timedelta(days=days or settings.LINLI_API_TOKEN_DAYS),
    )
    audit_record(action="api_token.issue", actor=user, target=token, request=request)
    return token, raw


def api_token_revoke(*, token: ApiToken, actor: User, request=None) -> ApiToken:
    if token.user_id != actor.pk and not sees_everything(actor):
        raise DomainError("forbidden", _("You may only revoke your own tokens."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action="api_token.revoke", actor=actor, target=token, request=request)
    return token


def _code_hash(phone_index: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{phone_index}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def phone_code_send(
    *, phone: str, purpose: str = PhoneCode.Purpose.SIGNUP, request=None
) -> PhoneCode:
    """Text a six-digit code; at most one a minute and five a day per number."""
    e164 = normalise_phone(phone)
    if e164 is None:
        _phone_fields(phone)  # raises the field error
    index = blind_index(e164, context=PHONE_CONTEXT)
    now = timezone.now()
    recent = PhoneCode.objects.filter(phone_index=index, created_at__gte=now - timedelta(days=1))
    if recent.filter(created_at__gte=now - timedelta(seconds=CODE_RESEND_SECONDS)).exists():
        raise DomainError(
            "too_soon",
            _("A code was sent less than a minute ago. Please wait."),
            {"phone": [_("A code was sent less than a minute ago. Please wait.")]},
        )
    if recent.count() >= CODES_PER_PHONE_PER_DAY:
        raise DomainError(
            "too_many_codes",
            _("Too many codes for this number today."),
            {"phone": [_("Too many codes for this number today.")]},
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    record = PhoneCode.objects.create(
        phone_index=index,
        purpose=purpose,
        code_hash=_code_hash(index, code),
        expires_at=now + timedelta(minutes=settings.LINLI_SMS_CODE_MINUTES),
    )
    from linli.accounts.sms import get_sms_backend

    message = _("Your linli code is %(code)s. It is valid for %(minutes)d minutes.") % {
        "code": code,
        "minutes": settings.LINLI_SMS_CODE_MINUTES,
    }
    transaction.on_commit(lambda: get_sms_backend().send(e164, message))
    audit_record(action="phone_code.send", request=request, detail={"phone": mask_phone(e164)})
    return record


def phone_code_check(*, phone: str, code: str, purpose: str = PhoneCode.Purpose.SIGNUP) -> None:
    """Consume a valid code or raise; a wrong guess counts towards the attempt limit."""
    wrong = DomainError(
        "invalid_code",
        _("The code is wrong or has expired."),
        {"code": [_("The code is wrong or has expired.")]},
    )
    e164 = normalise_phone(phone)
    if e164 is None:
        raise wrong
    index = blind_index(e164, context=PHONE_CONTEXT)
    with transaction.atomic():
        record = (
            PhoneCode.objects.select_for_update()
            .filter(phone_index=index, purpose=purpose, used_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        if record is None or record.expires_at <= timezone.now():
            raise wrong
        if record.attempts >= CODE_MAX_ATTEMPTS:
            raise DomainError(
                "too_many_attempts",
                _("Too many wrong codes. Ask for a new one."),
                {"code": [_("Too many wrong codes. Ask for a new one.")]},
            )
        matches = hmac.compare_digest(record.code_hash, _code_hash(index, code.strip()))
        if matches:
            record.used_at = timezone.now()
            record.save(update_fields=["used_at"])
            return
        # Counted in the same locked transaction, committed before the refusal is raised,
        # so that guessing cannot go on past the limit.
        PhoneCode.objects.filter(pk=record.pk).update(attempts=F("attempts") + 1)
    raise wrong


def resident_signup(*, phone: str, code: str, password: str, name: str, request=None) -> User:
    """Create a resident account from a verified mobile number. The username is 'r' plus
    the first 12 characters of the phone's blind index: unique, stable, and not the number."""
    e164 = normalise_phone(phone)
    if e164 is None:
        _phone_fields(phone)
    index = blind_index(e164, context=PHONE_CONTEXT)
    if User.objects.filter(phone_index=index).exists():
        raise DomainError(
            "phone_taken",
            _("This mobile number already has an account. Sign in instead."),
            {"phone": [_("This mobile number already has an account. Sign in instead.")]},
        )
    probe = User(username="r" + index[:12], role=User.Role.RESIDENT, name=name)
    try:
        validate_password(password, probe)
    except ValidationError as exc:
        raise DomainError(
            "invalid_password", _("The password is too weak."), {"password": list(exc.messages)}
        ) from exc
    phone_code_check(phone=phone, code=code)
    with transaction.atomic():
        user = user_create(
            username="r" + index[:12],
            role=User.Role.RESIDENT,
            name=name,
            password=password,
            phone=e164,
        )
        resident_signed_up.send(sender=User, user=user, phone=e164)
    audit_record(action="user.signup", actor=user, target=user, request=request)
    return user
