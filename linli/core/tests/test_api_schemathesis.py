"""schemathesis against /api/v1/openapi.json, on the small demo street: no generated
request may get a 5xx or an answer its OpenAPI document does not declare (status, content
type, body, headers), whichever role asks.

Generation is what costs (tens of milliseconds a case against a few for the request), so
each case is generated once and sent as several roles: every fuzzed case as each of them,
and the coverage phase's boundary cases (huge and negative numbers, missing and extra
fields, wrong types…) each as the next role in turn. Bounded per operation and
derandomized, so that CI sends the same requests on every run."""

import itertools

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from linli.accounts.models import ApiToken, User
from linli.accounts.services import api_token_issue
from linli.areas.models import Area
from linli.cases.models import Case, Exemption, Extension, Matter, WhistleCall
from linli.demo.services import demo_build
from linli.notifications.models import Notification
from linli.people.models import Household, Resident, Tag, Visit

pytestmark = pytest.mark.slow

# One account of each role of the demo street (linli/demo): a resident, the worker of grid
# 001 of community 001, the street's dispatcher, the 城管 department's handler, the admin.
ROLES = {
    "resident": "resident1",
    "grid_worker": "w001001",
    "dispatcher": "dispatcher1",
    "handler": "hcg",
    "admin": "admin",
}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
CONFIG = {
    "seed": 2026,
    "generation": {"max-examples": 8, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
}


def _wsgi_app():
    """The project's WSGI application, given the client address every server passes
    (schemathesis' WSGI client sends none, and the rate limits count by address)."""
    app = get_wsgi_application()

    def with_address(environ, start_response):
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")
        return app(environ, start_response)

    return with_address


@pytest.fixture
def wsgi_app(db):
    """Django closes a request's database connection when it ends; here that connection
    holds the test's transaction, so closing is switched off for the test, as
    django.test.Client does around each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield _wsgi_app()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def street(wsgi_app, tmp_path):
    demo_build(size="small", progress=False, accounts_path=tmp_path / "accounts.json")


@pytest.fixture
def role_tokens(street) -> dict[str, tuple[ApiToken, str]]:
    return {
        role: api_token_issue(user=User.objects.get(username=username))
        for role, username in ROLES.items()
    }


def _ids(queryset, n: int = 4) -> list[int]:
    return list(queryset.order_by("pk").values_list("pk", flat=True)[:n])


def _codes(queryset, n: int = 4) -> list[str]:
    return list(queryset.order_by("code").values_list("code", flat=True)[:n])


@pytest.fixture
def api_schema(request, street, wsgi_app, role_tokens):
    # schemathesis 4.32 renames the test after each operation through `_nodeid`, which
    # pytest 9 no longer has (it keeps the id as `_id`); without it the lazy schema fails.
    request.node._nodeid = request.node.nodeid
    # Real ids of the street half the time, so that generated requests reach the answers
    # of real objects as well as the 404s of made-up ids.
    known = {
        "case_id": _ids(Case.objects.all(), 10),
        "household_id": _ids(Household.objects.all()),
        "resident_id": _ids(Resident.objects.all()),
        "visit_id": _ids(Visit.objects.all()),
        "notification_id": _ids(Notification.objects.all()),
        "extension_id": _ids(Extension.objects.all()),
        "exemption_id": _ids(Exemption.objects.all()),
        "call_id": _ids(WhistleCall.objects.all()),
        "token_id": [token.pk for token, _raw in role_tokens.values()],
        # Codes: areas and matters share the path parameter's name.
        "code": _codes(Area.objects.all()) + _codes(Matter.objects.all()),
        "tag": _codes(Tag.objects.all()),
    }
    known = {name: ids for name, ids in known.items() if ids}
    config = CONFIG | {
        "dictionaries": {name: {"values": ids} for name, ids in known.items()},
        "parameters": {name: {"dictionary": name, "probability": 0.5} for name in known},
    }
    return schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", wsgi_app, config=schemathesis.Config.from_dict(config)
    )


schema = schemathesis.pytest.from_fixture("api_schema")
_turns = itertools.count()


@schema.parametrize()
def test_the_api_answers_every_generated_request_as_its_schema_says(case, role_tokens):
    roles = list(role_tokens)
    if case.meta is not None and case.meta.phase.name == TestPhase.COVERAGE:
        roles = [roles[next(_turns) % len(roles)]]
    for role in roles:
        _token, raw = role_tokens[role]
        headers = {"Authorization": f"Bearer {raw}", "Accept-Language": "en"}
        case.call_and_validate(headers=headers, checks=CHECKS)
    if case.method == "DELETE" and case.path.startswith("/api/v1/auth/"):
        # A revoked token would answer every later operation 401: the roles' own tokens
        # live on, so that each operation is tried as each role.
        live = [token.pk for token, _raw in role_tokens.values()]
        ApiToken.objects.filter(pk__in=live).update(revoked_at=None)
