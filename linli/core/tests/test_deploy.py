"""Production settings as an operator sets them (docs/security.md): `check --deploy` is
clean, and a page carries the security headers. Both run in a subprocess, because
linli.settings derives the HTTPS settings from the environment when it is imported;
the test settings switch them off."""

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
HOST = "linli.example.gov.cn"

# Prints the status and headers of the login page fetched over HTTPS and over HTTP. The
# static files storage is the one thing changed: the manifest storage needs collectstatic,
# which has nothing to do with headers.
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
plain = {**settings.STORAGES,
         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=plain):
    client = Client(HTTP_HOST="THE_HOST")
    secure = client.get("/accounts/login/", secure=True)
    http = client.get("/accounts/login/")
print(json.dumps({"status": secure.status_code, "headers": dict(secure.headers),
                  "cookies": {name: c.output() for name, c in secure.cookies.items()},
                  "http_status": http.status_code, "http_location": http.get("Location")}))
""".replace("THE_HOST", HOST)


def production_env(tmp_path) -> dict:
    """What docs/security.md tells an operator to set, and nothing from the test run."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "linli.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "LINLI_FIELD_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "LINLI_VAR_DIR": str(tmp_path / "var"),
    }


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_names_what_is_missing_when_https_is_off(tmp_path):
    env = production_env(tmp_path) | {"LINLI_HTTPS": "0"}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS


def test_production_refuses_to_start_without_its_keys(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.fixture(scope="module")
def production_page(tmp_path_factory) -> dict:
    tmp_path = tmp_path_factory.mktemp("production")
    result = run(["-c", PROBE], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_page_under_production_settings_carries_the_security_headers(production_page):
    assert production_page["status"] == 200
    headers = {name.lower(): value for name, value in production_page["headers"].items()}
    hsts = headers["strict-transport-security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    csp = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert "Secure" in production_page["cookies"]["csrftoken"]


def test_plain_http_is_sent_to_https(production_page):
    assert production_page["http_status"] == 301
    assert production_page["http_location"] == f"https://{HOST}/accounts/login/"


# --- templates: nothing a CSP without 'unsafe-inline' would block -------------------------------

TEMPLATES = sorted((ROOT / "linli").glob("*/templates/**/*.html"))
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>"
)
HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.DOTALL)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 50


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_carry_no_inline_script_or_event_handlers(path):
    text = path.read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: use a static file and data-*"
    assert not HANDLER.search(text), "on* handler: bind it in a static script"
    assert not JS_URL.search(text), "javascript: URL"


def test_no_template_turns_escaping_off():
    for path in TEMPLATES:
        text = path.read_text()
        assert "{% autoescape off %}" not in text, path
        # The one |safe: form help texts, which are the code's own strings.
        for line in text.splitlines():
            if "|safe" in line:
                assert "help_text|safe" in line, (path, line)
