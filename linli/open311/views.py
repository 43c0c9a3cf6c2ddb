"""Open311 GeoReport v2 under /open311/v2/ (docs/open311.md): every resource as .xml and
.json. Views read the query or form, call one selector or service and answer in the
suffix's format; every refusal is an Open311 error list (E1) with 404 for a missing
resource, 403 for a missing or refused key, 400 for the rest (E2), in the language of
Accept-Language (English when the client names none)."""

import contextlib
import functools
import re

from django.conf import settings
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from linli.core.errors import DomainError
from linli.core.ratelimits import Limit, rate_limit_wait
from linli.open311 import formats, schemas, selectors, services
from linli.open311.selectors import PAGE_SIZE, PAGE_SIZE_MAX, UPDATES_WINDOW, WINDOW, RequestQuery

FILE_PARTS = re.compile(r"^(photo\d+|file_.+)$")
STATUS_VALUES = ("open", "closed")


class Refusal(Exception):
    def __init__(self, status: int, problems: list[tuple[str, str]], retry_after: int = 0):
        super().__init__(problems)
        self.status = status
        self.problems = problems
        self.retry_after = retry_after


def _refusal(problem: DomainError) -> Refusal:
    status = {"not_found": 404, "forbidden": 403}.get(problem.code, 400)
    found = [
        (field, str(message)) for field, messages in problem.fields.items() for message in messages
    ]
    if not found:
        return Refusal(status, [(status, str(problem.message))])
    return Refusal(status, [(status, f"{field}: {message}") for field, message in found])


def _bad(field: str, message: str) -> Refusal:
    return Refusal(400, [(400, f"{field}: {message}")])


def open311(*methods: str):
    """An Open311 resource: the allowed methods, no CSRF (clients are programs, and POSTs
    carry a key instead of a session), English unless Accept-Language asks otherwise,
    and every refusal in the suffix's format."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, fmt: str, **kwargs):
            language = None if request.META.get("HTTP_ACCEPT_LANGUAGE") else "en"
            speaking = translation.override(language) if language else contextlib.nullcontext()
            with speaking:
                try:
                    response = None
                    if request.method not in methods:
                        message = _("Use %(methods)s here.") % {"methods": " or ".join(methods)}
                        raise Refusal(400, [(400, message)])
                    _jurisdiction(request)
                    response = view(request, *args, fmt=fmt, **kwargs)
                except DomainError as problem:
                    refusal = _refusal(problem)
                except MultiPartParserError:
                    message = _("The request body cannot be read as a form.")
                    refusal = Refusal(400, [(400, message)])
                except Refusal as caught:
                    refusal = caught
                if response is None:
                    response = formats.errors(fmt, refusal.status, refusal.problems)
                    if refusal.retry_after:
                        response["Retry-After"] = str(refusal.retry_after)
                    if request.method not in methods:
                        response["Allow"] = ", ".join(methods)
                response["Content-Language"] = translation.get_language()
                return response

        return wrapper

    return decorate


def _param(request, name: str) -> str:
    """A parameter from the form body, else the query string; empty counts as absent (G6)."""
    value = request.POST.get(name, "") if request.method == "POST" else ""
    return (value or request.GET.get(name, "")).strip()


def _jurisdiction(request) -> None:
    """A single-jurisdiction server (G7): any jurisdiction_id but its own is unknown (404);
    none at all is fine."""
    wanted = _param(request, "jurisdiction_id")
    own = settings.LINLI_OPEN311_JURISDICTION
    if wanted and own and wanted != own:
        message = _("Unknown jurisdiction; this endpoint serves %(own)s.") % {"own": own}
        raise Refusal(404, [(404, f"jurisdiction_id: {message}")])


IP_LIMIT = Limit("open311.post.ip", "ip", "LINLI_OPEN311_RATE_PER_IP")


def _limit(request, limit: Limit) -> None:
    wait = rate_limit_wait(request, [limit])
    if wait is not None:
        message = _("Too many requests; wait a minute and send again.")
        raise Refusal(429, [(429, message)], retry_after=wait)


def _key(request):
    """The live key of a POST (form body or query string, G8), within both rate limits;
    403 when it is missing, unknown or revoked."""
    # Per address first, so that guessing keys is limited too.
    _limit(request, IP_LIMIT)
    raw = _param(request, "api_key")
    if not raw:
        raise Refusal(403, [(403, _("api_key: Give the api_key you were issued."))])
    key = services.open311_key_for(raw)
    if key is None:
        raise Refusal(403, [(403, _("api_key: Unknown or revoked key."))])
    key_limit = Limit(
        "open311.post.key", lambda group, req: f"key:{key.pk}", "LINLI_OPEN311_RATE_PER_KEY"
    )
    _limit(request, key_limit)
    return key


# --- pages and discovery ------------------------------------------------------------------------


def index(request):
    """The human side of the endpoint (D1): what it is, where its resources are."""
    root = request.build_absolute_uri(reverse("open311:index")).rstrip("/")
    context = {
        "root": root,
        "discovery": schemas.discovery(request),
        "jurisdiction": settings.LINLI_OPEN311_JURISDICTION,
        "services": selectors.open311_services(),
    }
    return render(request, "open311/index.html", context)


@open311("GET")
def discovery(request, *, fmt):
    return formats.respond(fmt, "discovery", None, schemas.discovery(request))


@open311("GET")
def services_list(request, *, fmt):
    found = [schemas.service(m, asks) for m, asks in selectors.open311_services()]
    return formats.respond(fmt, "services", "service", found)


@open311("GET")
def service_definition(request, code: str, *, fmt):
    if not code:
        raise _bad("service_code", _("Give the service_code."))
    matter = selectors.open311_service(code)
    if matter is None:
        message = _("No such service; see services.xml.")
        raise Refusal(404, [(404, "service_code: " + message)])
    return formats.respond(fmt, "service_definition", None, schemas.definition(matter))


# --- requests -----------------------------------------------------------------------------------


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _moment(request, name: str):
    value = _param(request, name)
    if not value:
        return None
    moment = services.parse_w3c(value)
    if moment is None:
        raise _bad(name, _("Give a W3C date-time with its zone, e.g. 2010-01-01T00:00:00Z."))
    return moment


def _whole(request, name: str, default: int, highest: int) -> int:
    value = _param(request, name)
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= highest:
        raise _bad(name, _("Give a whole number from 1 to %(n)d.") % {"n": highest})
    return int(value)


def _request_query(request) -> RequestQuery:
    ids = _list(_param(request, "service_request_id"))
    wanted = [s.lower() for s in _list(_param(request, "status"))]
    if any(s not in STATUS_VALUES for s in wanted) and not ids:
        raise _bad("status", _("Use open, closed or both, separated by a comma."))
    start, end = _moment(request, "start_date"), _moment(request, "end_date")
    if not ids and start and end:
        if end < start:
            raise _bad("end_date", _("end_date is before start_date."))
        if end - start > WINDOW:
            raise _bad("end_date", _("start_date and end_date may span at most 90 days."))
    return RequestQuery(
        ids=ids,
        service_codes=_list(_param(request, "service_code")),
        statuses=wanted,
        start=start,
        end=end,
        updated_after=_moment(request, "updated_after"),
        updated_before=_moment(request, "updated_before"),
        page=_whole(request, "page", 1, 10_000),
        page_size=_whole(request, "page_size", PAGE_SIZE, PAGE_SIZE_MAX),
        notes=_param(request, "extensions").lower() == "true",
    )


@open311("GET", "POST")
def requests(request, *, fmt):
    if request.method == "POST":
        return _request_file(request, fmt)
    query = _request_query(request)
    cases = selectors.open311_request_list(query)
    found = [schemas.request(case, extended=query.notes) for case in cases]
    return formats.respond(fmt, "service_requests", "request", found)


def _request_file(request, fmt):
    key = _key(request)
    post = request.POST
    data = services.RequestIn(
        service_code=_param(request, "service_code"),
        lat=_param(request, "lat"),
        long=_param(request, "long"),
        address_string=_param(request, "address_string"),
        address_id=_param(request, "address_id"),
        attributes=services.attributes_from(post),
        description=post.get("description", ""),
        email=_param(request, "email"),
        phone=_param(request, "phone"),
        first_name=_param(request, "first_name"),
        last_name=_param(request, "last_name"),
        device_id=_param(request, "device_id"),
        account_id=_param(request, "account_id"),
        media_urls=post.getlist("media_url"),
        photos=[f for name in request.FILES if FILE_PARTS.match(name)
                for f in request.FILES.getlist(name)],
    )  # fmt: skip
    matter = selectors.open311_service(data.service_code) if data.service_code else None
    link = services.open311_request_file(key=key, data=data, matter=matter)
    answer = {"service_request_id": link.case.number, "service_notice": ""}
    if link.account_id:
        answer["account_id"] = link.account_id
    return formats.respond(fmt, "service_requests", "request", [answer])


@open311("GET")
def request_detail(request, number: str, *, fmt):
    if not number:
        raise _bad("service_request_id", _("Give the service_request_id."))
    case = selectors.open311_case(number)
    if case is None:
        message = _("No such service request.")
        raise Refusal(404, [(404, f"service_request_id: {message}")])
    extended = _param(request, "extensions").lower() == "true"
    if extended:
        case = selectors.open311_request_list(
            RequestQuery([number], [], [], None, None, None, None, notes=True)
        )[0]
    return formats.respond(
        fmt, "service_requests", "request", [schemas.request(case, extended=extended)]
    )


@open311("GET")
def token(request, token: str, *, fmt):
    if not token:
        raise _bad("token", _("Give the token."))
    link = selectors.open311_token(token)
    if link is None:
        message = _("No such token.")
        raise Refusal(404, [(404, "token: " + message)])
    found = [{"service_request_id": link.case.number, "token": link.token}]
    return formats.respond(fmt, "service_requests", "request", found)


# --- updates (the mySociety extension) ----------------------------------------------------------


@open311("GET", "POST")
def updates(request, *, fmt):
    if request.method == "POST":
        return _update_post(request, fmt)
    start, end = _moment(request, "start_date"), _moment(request, "end_date")
    if (start is None) != (end is None):
        raise _bad("start_date", _("Give both start_date and end_date, or neither."))
    if start is None:
        end = timezone.now()
        start = end - UPDATES_WINDOW
    elif end < start:
        raise _bad("end_date", _("end_date is before start_date."))
    elif end - start > WINDOW:
        raise _bad("end_date", _("start_date and end_date may span at most 90 days."))
    events = selectors.open311_updates(start=start, end=end)
    found = [schemas.update(event) for event in events]
    return formats.respond(fmt, "service_request_updates", "request_update", found)


def _update_post(request, fmt):
    key = _key(request)
    data = services.UpdateIn(
        service_request_id=_param(request, "service_request_id"),
        update_id=_param(request, "update_id"),
        updated_datetime=_param(request, "updated_datetime"),
        status=_param(request, "status"),
        description=request.POST.get("description", ""),
        first_name=_param(request, "first_name"),
        last_name=_param(request, "last_name"),
        email=_param(request, "email"),
        phone=_param(request, "phone"),
        media_urls=request.POST.getlist("media_url"),
    )
    case = selectors.open311_case(data.service_request_id)
    update = services.open311_update_post(key=key, data=data, case=case)
    found = [{"update_id": str(update.event_id)}]
    return formats.respond(fmt, "service_request_updates", "request_update", found)


@open311("GET", "POST")
def missing(request, rest: str, *, fmt):
    message = _("No such resource; see discovery.%(fmt)s.") % {"fmt": fmt}
    raise Refusal(404, [(404, message)])
