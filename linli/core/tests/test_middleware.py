import pytest


@pytest.fixture
def signed_in(client, grid_worker):
    client.force_login(grid_worker)
    return client


def test_pages_carry_a_csp_without_inline_script(signed_in):
    response = signed_in.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_speak_chinese_even_to_an_english_browser(signed_in):
    response = signed_in.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "退出" in response.content.decode()


def test_a_chosen_language_sticks_through_the_cookie(signed_in):
    response = signed_in.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = signed_in.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Sign out" in page


def test_the_api_answers_in_the_language_the_client_asks_for(client):
    zh = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="zh-hans")
    en = client.get("/api/v1/me", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.status_code == en.status_code == 401
    assert zh.json()["code"] == en.json()["code"] == "unauthenticated"
    assert zh.json()["message"] != en.json()["message"]


def test_the_health_check_touches_the_database(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
