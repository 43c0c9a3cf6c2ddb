"""The JSON API under /api/v1/ (django-ninja). Each app contributes one router."""

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.params.models import BodyModel, FileModel, FormModel

from linli.accounts.api import router as accounts_router
from linli.areas.api import router as areas_router
from linli.cases.api import router as cases_router
from linli.cases.api_sensors import DeviceKeyRefused
from linli.cases.api_sensors import router as sensors_router
from linli.core.errors import DomainError
from linli.core.schemas import ErrorOut, refuse_nul
from linli.core.validation import validation_message
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
DOMAIN_STATUS = {"forbidden": 403, "not_found": 404, "rate_limited": 429}
# A move the case's present state does not allow (accepting twice, replying to a case not
# being handled) conflicts with the resource, not with the input.
DOMAIN_STATUS |= {"invalid_transition": 409, "send_back_limit": 409}
BODY_MODELS = (BodyModel, FormModel, FileModel)


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
        fields.setdefault(name, []).append(validation_message(error))
    return _error(request, 422, "invalid", _("The request is not valid."), fields)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    # A multipart body whose fields alone pass DATA_UPLOAD_MAX_MEMORY_SIZE (whole bodies
    # over the limits never get here: core.middleware.RequestSizeLimitMiddleware).
    message = _("The request carries too much text; send less at once.")
    return _error(request, 413, "too_large", message)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, 401, "unauthenticated", _("A valid bearer token is required."))


@api.exception_handler(DeviceKeyRefused)
def on_device_key_refused(request, exc: DeviceKeyRefused):
    return _error(request, 401, "unauthenticated", str(exc))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    if exc.status_code == 400 and exc.__cause__ is not None:
        # ninja's own refusal of a body its parser could not read (not JSON, not UTF-8),
        # said as cases.api._body says it for the bodies it reads itself.
        return _error(request, 400, "invalid", _("The request body is not valid JSON."))
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return _error(request, exc.status_code, code, str(exc))


# Validated input holding U+0000 is refused before any query (linli.core.schemas).
api.add_decorator(refuse_nul, mode="operation")
api.add_router("", accounts_router)
api.add_router("/areas", areas_router)
api.add_router("", people_router)
api.add_router("/notifications", notifications_router)
api.add_router("", cases_router)
api.add_router("/sensors", sensors_router)
api.add_router("", insights_router)

# Last, so that it only takes what no operation does: an unknown address under /api/v1/
# answers 404 in the API's error shape rather than with the site's HTML page.
unknown = Router(auth=None)


@unknown.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False
)
def unknown_path(request, rest: str):
    return _error(request, 404, "not_found", _("There is no such address in the API."))


api.add_router("", unknown)


def _declare_common_errors() -> None:
    """Every operation declares, in the one error shape, the answers any request may get
    whatever the endpoint: 401 without a valid token; 400 for a body that cannot be read
    or a list's cursor that is not valid; 413 for a body too large
    (core.middleware.RequestSizeLimitMiddleware); 422 for input of the wrong shape; 429
    when throttled. Endpoints declare the rest themselves (400, 403, 404, 409 from their
    services)."""
    # Bound routers hold the operations that answer (ninja clones each router's
    # operations when it is mounted), so the declarations are made on those.
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                takes_body = "requestBody" in (operation.openapi_extra or {}) or any(
                    issubclass(model, BODY_MODELS) for model in operation.models
                )
                # A list's signed cursor (linli.core.pagination) is refused with 400.
                pages = any(
                    "cursor" in getattr(model, "__ninja_flatten_map__", {})
                    for model in operation.models
                )
                common = {
                    400: takes_body or pages,
                    401: bool(operation.auth_callbacks),
                    413: takes_body,
                    422: takes_body or bool(operation.models),
                    429: bool(operation.throttle_objects),
                }
                for status, applies in common.items():
                    if applies and status not in operation.response_models:
                        model = operation._create_response_model(ErrorOut)
                        operation.response_models[status] = model


_declare_common_errors()
