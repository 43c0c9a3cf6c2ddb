"""/api/v1/auth/token, /api/v1/auth/tokens and /api/v1/me."""

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import paginate

from linli.accounts import services
from linli.accounts.auth import token_auth
from linli.accounts.schemas import MeOut, TokenIn, TokenInfoOut, TokenOut
from linli.accounts.selectors import api_tokens_for, profile_for
from linli.core.pagination import CursorPagination
from linli.core.ratelimits import login_limits, rate_limit_wait
from linli.core.schemas import ErrorOut, Id
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
    # Counted per address and per account named, with the login page.
    wait = rate_limit_wait(request, login_limits(payload.username))
    if wait is not None:
        return rate_limited(request, None, retry_after=wait)
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


@router.get(
    "/auth/tokens",
    response=list[TokenInfoOut],
    auth=token_auth,
    summary="The caller's tokens, newest first (as on the profile page)",
)
@paginate(CursorPagination)
def token_list(request):
    return api_tokens_for(viewer=request.user)


@router.delete(
    "/auth/tokens/{token_id}",
    response={204: None, 404: ErrorOut},
    auth=token_auth,
    summary="Revoke one of the caller's tokens (another's answers 404)",
)
def token_revoke(request, token_id: Id):
    token = api_tokens_for(viewer=request.user).filter(pk=token_id).first()
    if token is None:
        return _error(404, "not_found", _("No such token."))
    services.api_token_revoke(token=token, actor=request.user, request=request)
    return Status(204, None)
