"""Rate limits on signing in (the login page and POST /api/v1/auth/token), per address
and per account named, and the address they count behind a reverse proxy. Filing a case
is covered in linli/cases/tests/test_hardening.py. The counts live in the
database (RateCount), rolled back after each test."""

import pytest
from django.test import RequestFactory

from linli.conftest import PASSWORD
from linli.core.ratelimits import UNKNOWN_ADDRESS, client_ip


def web_login(client, username, password, ip):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def token_login(client, username, password, ip):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
    )


def test_attempts_on_one_account_are_limited_from_any_address(client, settings, grid_worker):
    settings.LINLI_LOGIN_RATE_PER_ACCOUNT = "3/m"
    codes = [
        web_login(client, "worker", "wrong-Password-1", f"192.0.2.{i}").status_code
        for i in range(2)
    ]
    codes.append(token_login(client, "Worker ", "wrong-Password-1", "192.0.2.9").status_code)
    assert codes == [200, 200, 401]
    page = web_login(client, "worker", PASSWORD, "198.51.100.1")
    api = token_login(client, "worker", PASSWORD, "198.51.100.2")
    assert page.status_code == api.status_code == 429
    assert 1 <= int(page["Retry-After"]) <= 60
    assert 1 <= int(api["Retry-After"]) <= 60
    assert api.json() == {
        "code": "rate_limited",
        "message": api.json()["message"],
        "fields": {},
    }
    # No Accept-Language: the street's own language, Chinese.
    assert "请求过于频繁" in api.json()["message"]
    # Another account from the same addresses is not held up.
    assert token_login(client, "nobody", "x", "198.51.100.2").status_code == 401


def test_the_login_limit_answers_in_the_callers_language(client, settings, grid_worker):
    settings.LINLI_LOGIN_RATE_PER_IP = "1/m"
    token_login(client, "worker", "x", "192.0.2.1")
    en = client.post(
        "/api/v1/auth/token",
        {"username": "worker", "password": "x"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.1",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    zh = client.post(
        "/api/v1/auth/token",
        {"username": "worker", "password": "x"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.1",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert en.status_code == zh.status_code == 429
    assert en.json()["message"].startswith("Too many requests")
    assert zh.json()["message"]


def test_an_empty_rate_turns_a_limit_off(client, settings, grid_worker):
    settings.LINLI_LOGIN_RATE_PER_ACCOUNT = ""
    settings.LINLI_LOGIN_RATE_PER_IP = ""
    codes = {web_login(client, f"nobody{i}", "x", "192.0.2.1").status_code for i in range(5)}
    assert codes == {200}


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "10.0.0.1"),  # no proxy: the header is anyone's to write
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a forged entry on the left
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "203.0.113.5", "10.0.0.1"),  # fewer hops than proxies: not trusted
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_the_client_address_behind_proxies(settings, proxies, forwarded, expected):
    settings.AXES_IPWARE_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_callers_behind_one_proxy_are_counted_apart(client, settings, db):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.LINLI_LOGIN_RATE_PER_IP = "2/m"

    def attempt(ip):
        return client.post(
            "/api/v1/auth/token",
            {"username": f"u{ip}", "password": "x"},
            content_type="application/json",
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=ip,
        ).status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [401, 401, 429]
    assert attempt("203.0.113.2") == 401


# --- the counter ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rate_count_counts_each_key_in_its_own_fixed_window():
    from linli.core.models import RateCount
    from linli.core.ratelimits import rate_count

    assert rate_count([("a", 60), ("b", 3600)], now=1000.0) == {"a": (1, 20), "b": (1, 2600)}
    assert rate_count([("a", 60), ("b", 3600)], now=1001.5) == {"a": (2, 18), "b": (2, 2598)}
    # A new minute starts a new count for "a"; "b"'s hour goes on.
    assert rate_count([("a", 60), ("b", 3600)], now=1020.0) == {"a": (1, 60), "b": (3, 2580)}
    assert RateCount.objects.count() == 3
    assert sorted(RateCount.objects.values_list("key", "hits")) == [("a", 1), ("a", 2), ("b", 3)]


@pytest.mark.parametrize(
    "rate, parsed",
    [("30/10m", (30, 600)), ("300/h", (300, 3600)), ("5/s", (5, 1)), ("1/2d", (1, 172800))],
)
def test_rate_parse(rate, parsed):
    from linli.core.ratelimits import rate_parse

    assert rate_parse(rate) == parsed


@pytest.mark.parametrize("rate", ["30", "30/", "x/m", "30/10w", "-1/m"])
def test_rate_parse_refuses_what_is_not_a_rate(rate):
    from linli.core.ratelimits import rate_parse

    with pytest.raises(ValueError, match="not a rate"):
        rate_parse(rate)


@pytest.mark.parametrize("remote", ["", "not-an-address"])
def test_a_request_without_a_usable_address_counts_under_one_placeholder(db, client, remote):
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    assert client_ip(request) == UNKNOWN_ADDRESS
    if not remote:  # what a WSGI server gives for a unix socket; axes stores it as NULL
        assert token_login(client, "nobody", "x", remote).status_code == 401
