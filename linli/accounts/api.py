"""/api/v1/auth/token and /api/v1/me."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited
from ninja import Router, Status

from linli.accounts import services
from linli.accounts.auth import token_auth
from linli.accounts.schemas import ErrorOut, MeOut, TokenIn, TokenOut
from linli.accounts.selectors import profile_for
from linli.accounts.views import login_rate
from linli.core.views import rate_limited

router = Router(tags=["auth"])


def _error(status: int, code: str, message: str):
    return Status(status, {"code": code, "message": message, "fields": {}})


@router.post(
    "/auth/token",
    response={201: TokenOut, 401: ErrorOut, 403: ErrorOut, 429: ErrorOut},
    auth=None,
    summary="Exchange a username (or mobile number) and password for a bearer token",
)
def token_create(request, payload: TokenIn):
    if is_ratelimited(
        request,
        group="login",
        key="ip",
        rate=login_rate,
        method="POST",
        increment=True,
    ):
        return rate_limited(request, None)
    # authenticate() runs django-axes first: failures count towards the account lockout
    # and a locked account is refused before its password is checked.
    user = authenticate(request, username=payload.username, password=payload.password)
    if getattr(request, "axes_locked_out", False):
        return _error(403, "locked", _("This account is locked after too many wrong passwords."))
    if user is None:
        return _error(401, "invalid_credentials", _("Wrong username or password."))
    _token, raw = services.api_token_issue(user=user, name=payload.name, request=request)
    return Status(201, {"token": raw, "expires_at": _token.expires_at})


@router.delete("/auth/token", response={204: None}, auth=token_auth, summary="Revoke this token")
def token_delete(request):
    services.api_token_revoke(token=request.api_token, actor=request.user, request=request)
    return Status(204, None)


@router.get("/me", response=MeOut, auth=token_auth, summary="The signed-in user and their scope")
def me(request):
    profile = profile_for(viewer=request.user)
    user = profile["account"]
    scope = profile["scope"]
    department = profile["department"]
    return {
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "role_label": str(user.get_role_display()),
        "scope": {"code": scope.code, "name": scope.name, "level": scope.level} if scope else None,
        "department": {"code": department.code, "name": department.name} if department else None,
        "phone_masked": user.phone_masked,
    }
