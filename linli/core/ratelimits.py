"""Rate limits on the entrances anyone can hammer: filing a case and signing in, counted
per address and per account (docs/security.md). The counts live in the database
(RateCount), which every web process shares, counted up by one statement per request; a
request over a limit is answered 429 with Retry-After by linli.core.views.rate_limited."""

import hashlib
import ipaddress
import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.db import connection
from django.http import HttpRequest

from linli.core.models import RateCount
from linli.core.views import rate_limited

UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a placeholder, never bound


def client_ip(request: HttpRequest) -> str:
    """The caller's address. Behind LINLI_PROXY_COUNT reverse proxies it is the entry
    that many from the right of X-Forwarded-For (each proxy appends the address it saw;
    whatever a client wrote further left is not trusted), else REMOTE_ADDR: without this,
    every caller behind nginx would share the proxy's address and one limit."""
    remote = request.META.get("REMOTE_ADDR", "")
    try:
        remote = str(ipaddress.ip_address(remote))
    except ValueError:
        # No address (a proxy on a unix socket without LINLI_PROXY_COUNT): such callers
        # share one count rather than break the limits' address handling.
        remote = UNKNOWN_ADDRESS
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    if not proxies:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote


def account_key(group: str, request: HttpRequest) -> str:
    """The signed-in account (intake)."""
    return f"user:{request.user.pk}"


def username_key(username: str) -> Callable[[str, HttpRequest], str]:
    """The account a sign-in names, signed in or not (login): hashed, so that no username
    typed by anyone ends up in a cache key as it was typed."""
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return lambda group, request: f"username:{digest}"


@dataclass(frozen=True)
class Limit:
    group: str
    key: str | Callable[[str, HttpRequest], str]  # "ip", or (group, request) -> a value
    setting: str  # the settings name holding the rate, e.g. "30/h"; empty turns it off


# Filing a case, on the report page and through POST /api/v1/cases share the counts.
INTAKE_LIMITS = (
    Limit("intake.ip", "ip", "LINLI_INTAKE_RATE_PER_IP"),
    Limit("intake.account", account_key, "LINLI_INTAKE_RATE_PER_ACCOUNT"),
)


def login_limits(username: str) -> tuple[Limit, ...]:
    """Sign-in attempts on the login page and POST /api/v1/auth/token share the counts."""
    return (
        Limit("login", "ip", "LINLI_LOGIN_RATE_PER_IP"),
        Limit("login.account", username_key(username), "LINLI_LOGIN_RATE_PER_ACCOUNT"),
    )


RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# One in this many counts also deletes the rows of windows that have ended.
PRUNE_ONE_IN = 200


def clock() -> float:
    """Now, in seconds since the epoch: the windows' clock (tests hold it still)."""
    return time.time()


def rate_parse(rate: str) -> tuple[int, int]:
    """django-ratelimit's notation, "30/10m": (30 requests, per 600 seconds)."""
    found = RATE.match(rate.strip())
    if found is None:
        raise ValueError(f"not a rate such as 30/10m: {rate!r}")
    count, multiple, unit = found.groups()
    return int(count), int(multiple or 1) * UNIT_SECONDS[unit]


def rate_count(keys: list[tuple[str, int]], now: float | None = None) -> dict[str, tuple[int, int]]:
    """Count one hit on each (key, period in seconds): for each key, the hits in its
    present fixed window, this one included, and the seconds until that window ends. One
    statement for all the keys, an upsert shared by every process: nothing is read before
    it is written, so two processes cannot both take the last free hit. (Through a cache
    this took two round trips per limit, and on the database cache some twenty statements
    and four commits per report.)"""
    now = clock() if now is None else now
    rows, params = [], []
    for key, period in keys:
        starts = int(now // period) * period
        rows.append("(%s, %s, %s, 1)")
        params += [key, starts, starts + period]
    table = connection.ops.quote_name(RateCount._meta.db_table)
    sql = (
        f"INSERT INTO {table} (key, starts, ends, hits) VALUES {', '.join(rows)} "  # noqa: S608
        f"ON CONFLICT (key, starts) DO UPDATE SET hits = {table}.hits + 1 "
        "RETURNING key, hits, ends"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counted = {key: (hits, max(int(ends - now), 1)) for key, hits, ends in cursor.fetchall()}
        if random.randrange(PRUNE_ONE_IN) == 0:  # noqa: S311 - spreading the pruning only
            cursor.execute(f"DELETE FROM {table} WHERE ends <= %s", [int(now)])  # noqa: S608
    return counted


def _key(limit: Limit, request: HttpRequest, period: int) -> str:
    """The counter's key: hashed, so that no address or account name is kept as such."""
    value = client_ip(request) if limit.key == "ip" else limit.key(limit.group, request)
    digest = hashlib.sha256(f"{limit.group}\0{value}".encode()).hexdigest()[:40]
    return f"{limit.group}:{period}:{digest}"


def rate_limit_wait(request: HttpRequest, limits: Iterable[Limit]) -> int | None:
    """Count this request against every limit (each one, so that a refused attempt still
    counts for its account); the seconds until the tightest exceeded limit frees up, or
    None when none is exceeded. Settings are read per request, so tests and operators
    can change them without a restart; an empty one turns its limit off."""
    allowed, keys = {}, []
    for limit in limits:
        rate = getattr(settings, limit.setting)
        if not rate:
            continue
        most, period = rate_parse(rate)
        key = _key(limit, request, period)
        allowed[key] = most
        keys.append((key, period))
    if not keys:
        return None
    waits = [left for key, (hits, left) in rate_count(keys).items() if hits > allowed[key]]
    return max(waits) if waits else None


def rate_limit_posts(*limits: Limit) -> Callable:
    """For a page: POSTs over a limit get the 429 page; GETs are not counted. Put it below
    the login gate, so that the account is known."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST":
                wait = rate_limit_wait(request, limits)
                if wait is not None:
                    return rate_limited(request, None, retry_after=wait)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
