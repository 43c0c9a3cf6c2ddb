"""The JSON API under /api/v1/ (django-ninja). Each app contributes one router."""

from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from linli.accounts.api import router as accounts_router
from linli.areas.api import router as areas_router
from linli.cases.api import router as cases_router
from linli.cases.api_sensors import DeviceKeyRefused
from linli.cases.api_sensors import router as sensors_router
from linli.core.errors import DomainError
from linli.insights.api import router as insights_router
from linli.notifications.api import router as notifications_router
from linli.people.api import router as people_router

api = NinjaAPI(
    title="linli API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


HTTP_CODES = {403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
# A service that refuses for the actor's role or scope says "forbidden"; every other
# domain code is a 400 for input the caller can fix.
DOMAIN_STATUS = {"forbidden": 403, "rate_limited": 429}
# A move the case's present state does not allow (accepting twice, replying to a case not
# being handled) conflicts with the resource, not with the input.
DOMAIN_STATUS |= {"invalid_transition": 409, "send_back_limit": 409}


def _error(request, status: int, code: str, message: str, fields: dict | None = None):
    return api.create_response(
        request, {"code": code, "message": message, "fields": fields or {}}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    body = exc.as_dict()
    status = DOMAIN_STATUS.get(body["code"], 400)
    return _error(request, status, body["code"], body["message"], body["fields"])


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(p) for p in error.get("loc", [])]
        # ("body", <parameter name>, field…) for JSON bodies, ("query", field) for queries.
        name = ".".join(loc[2:] if loc[:1] == ["body"] and len(loc) > 2 else loc[1:]) or "__all__"
        fields.setdefault(name, []).append(error.get("msg", "invalid"))
    return _error(request, 422, "invalid", _("The request is not valid."), fields)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, 401, "unauthenticated", _("A valid bearer token is required."))


@api.exception_handler(DeviceKeyRefused)
def on_device_key_refused(request, exc: DeviceKeyRefused):
    return _error(request, 401, "unauthenticated", str(exc))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return _error(request, exc.status_code, code, str(exc))


api.add_router("", accounts_router)
api.add_router("/areas", areas_router)
api.add_router("", people_router)
api.add_router("/notifications", notifications_router)
api.add_router("", cases_router)
api.add_router("/sensors", sensors_router)
api.add_router("", insights_router)
