"""Guard tests (STYLE.md 20): every page is in one table that says who may open it; each
answers 200 with exactly one <h1> for those personas and refuses everyone else; no model
change lacks its migration; the Chinese catalogues are complete."""

import re
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[3]
PERSONAS = [
    "resident",
    "grid_worker",
    "other_grid_worker",
    "dispatcher",
    "handler",
    "leader",
    "admin",
]
STAFF = {"grid_worker", "other_grid_worker", "dispatcher", "handler", "leader", "admin"}
EVERYONE = set(PERSONAS)


def _g11_visit(s):
    """A person in grid g11 with one visit, for the pages that take a resident or visit id."""
    from datetime import date

    from django.utils import timezone

    from linli.accounts.models import User
    from linli.people.models import Household, Resident, Visit

    home = Household.objects.create(
        number="GUARD-VISIT", grid=s["g11"], address="济南路1号", tenure="owned",
        registration="registered",
    )  # fmt: skip
    person = Resident.objects.create(
        household=home, name="王芳", gender="F", birth_date=date(1940, 1, 1), relation="head"
    )
    worker = User.objects.get(username="worker")
    return Visit.objects.create(
        resident=person, visitor=worker, visited_at=timezone.now(), method="home", findings="ok"
    )


def _g11_case(s):
    """A reported case in grid g11, for the case page: staff of the grid see it whole, any
    resident its public side, the handler (not dispatched to) and other grids nothing."""
    from linli.cases.models import Case, Matter, MatterClass

    group = MatterClass.objects.create(code="06", name="市容环境类", kind="event")
    matter = Matter.objects.create(code="06010", name="暴露垃圾", matter_class=group)
    return Case.objects.create(
        number="GUARD-CASE", source="resident", matter=matter, description="路边有垃圾",
        lon=118.605, lat=37.405, grid=s["g11"],
    )  # fmt: skip


# url name → (arguments from the `street` fixture, personas that may open it). Personas
# not listed must be refused (403/404); anonymous visitors are sent to the login page.
PAGES = {
    "home": (lambda s: [], EVERYONE),
    "areas:map": (lambda s: [], EVERYONE),
    "areas:list": (lambda s: [], STAFF),
    "areas:detail": (
        lambda s: [s["g11"].code],
        {"grid_worker", "dispatcher", "handler", "leader", "admin"},
    ),
    "areas:import": (lambda s: [], {"admin"}),
    "accounts:profile": (lambda s: [], EVERYONE),
    "accounts:password_change": (lambda s: [], EVERYONE),
    "people:overdue": (lambda s: [], {"grid_worker", "other_grid_worker", "dispatcher", "admin"}),
    "people:visits": (lambda s: [], {"grid_worker", "other_grid_worker", "dispatcher", "admin"}),
    "people:visit_new": (
        lambda s: [_g11_visit(s).resident_id],
        {"grid_worker", "dispatcher", "admin"},
    ),
    "people:visit": (lambda s: [_g11_visit(s).pk], {"grid_worker", "dispatcher", "admin"}),
    "people:mine": (lambda s: [], {"resident"}),
    "people:correction_new": (lambda s: [], {"resident"}),
    "people:corrections": (
        lambda s: [],
        {"grid_worker", "other_grid_worker", "dispatcher", "admin"},
    ),
    "people:home": (lambda s: [], {"grid_worker", "other_grid_worker", "dispatcher", "admin"}),
    "people:residents": (
        lambda s: [],
        {"grid_worker", "other_grid_worker", "dispatcher", "admin"},
    ),
    "people:resident": (
        lambda s: [_g11_visit(s).resident_id],
        {"grid_worker", "dispatcher", "admin"},
    ),
    "people:resident_edit": (
        lambda s: [_g11_visit(s).resident_id],
        {"grid_worker", "dispatcher", "admin"},
    ),
    "people:talent_edit": (
        lambda s: [_g11_visit(s).resident_id],
        {"grid_worker", "dispatcher", "admin"},
    ),
    "people:households": (
        lambda s: [],
        {"grid_worker", "other_grid_worker", "dispatcher", "admin"},
    ),
    "people:household_new": (
        lambda s: [],
        {"grid_worker", "other_grid_worker", "dispatcher", "admin"},
    ),
    "people:household": (
        lambda s: [_g11_visit(s).resident.household_id],
        {"grid_worker", "dispatcher", "admin"},
    ),
    "people:household_edit": (
        lambda s: [_g11_visit(s).resident.household_id],
        {"grid_worker", "dispatcher", "admin"},
    ),
    "people:resident_new": (
        lambda s: [_g11_visit(s).resident.household_id],
        {"grid_worker", "dispatcher", "admin"},
    ),
    "people:overview": (
        lambda s: [],
        {"grid_worker", "other_grid_worker", "dispatcher", "leader", "admin"},
    ),
    "people:talents": (
        lambda s: [],
        {"grid_worker", "other_grid_worker", "dispatcher", "admin"},
    ),
    "people:access_log": (lambda s: [], {"admin"}),
    "people:import": (lambda s: [], {"grid_worker", "other_grid_worker", "dispatcher", "admin"}),
    "people:export": (lambda s: [], {"grid_worker", "other_grid_worker", "dispatcher", "admin"}),
    "notifications:list": (lambda s: [], EVERYONE),
    "cases:import": (lambda s: [], {"dispatcher", "admin"}),
    "cases:report": (lambda s: [], {"resident", "grid_worker", "other_grid_worker", "dispatcher"}),
    "cases:mine": (lambda s: [], {"resident"}),
    "cases:list": (lambda s: [], STAFF),
    "cases:case": (
        lambda s: [_g11_case(s).pk],
        {"resident", "grid_worker", "dispatcher", "leader", "admin"},
    ),
    "cases:queue": (lambda s: [], {"dispatcher", "admin"}),
    "cases:inbox": (lambda s: [], {"handler"}),
    "cases:verify": (lambda s: [], {"grid_worker", "other_grid_worker", "dispatcher", "admin"}),
    "cases:extensions": (lambda s: [], {"dispatcher", "admin"}),
    "cases:exemptions": (lambda s: [], {"dispatcher", "leader", "admin"}),
    "cases:suggester": (lambda s: [], {"admin"}),
    "insights:kpis": (lambda s: [], STAFF),
}
# Pages anyone may open without signing in.
PUBLIC_PAGES = {"accounts:login", "accounts:signup", "open311:index"}
# Endpoints that are not pages, each with the reason it is left out of the page table;
# their own tests cover them.
NOT_PAGES = {
    "healthz": "JSON health check",
    "people:resident_account": "POST only (link or unlink a resident's account)",
    "set_language": "POST-only language switch",
    "accounts:logout": "POST only",
    "accounts:phone_reveal": "POST only (htmx partial of the profile page)",
    "accounts:token_issue": "POST only",
    "accounts:token_revoke": "POST only",
    "areas:grids_geojson": "GeoJSON for the map page",
    "people:visit_photo": "image file behind a scope check (test_views_care)",
    "people:correction_answer": "POST only (the form on people:corrections)",
    "people:resident_reveal": "POST only (htmx partial of the person page; test_views_register)",
    "people:resident_move_out": "POST only (the form on people:resident)",
    "people:resident_tag": "POST only (the forms on people:resident)",
    "people:template": "xlsx download, not a page (test_excel)",
    "cases:import_template": "xlsx download, not a page (test_intake_hotline)",
    "notifications:read": "POST only (the forms on notifications:list; test_views)",
    "notifications:read_all": "POST only (the form on notifications:list; test_views)",
    "cases:me_too": "POST only (the buttons of cases:duplicates; test_views_report)",
    "cases:matter_search": "htmx partial of cases:report (test_views_report)",
    "cases:matter_questions": "htmx partial of cases:report (test_views_report)",
    "cases:duplicates": "htmx partial of cases:report (test_views_report)",
    "cases:suggest_report": "POST only (htmx partial of cases:report; test_suggest)",
    "cases:suggest_case": "htmx partial of cases:case (test_suggest)",
    "cases:reclassify": "POST only (the suggestions on cases:case; test_suggest)",
    "cases:bulk": "POST only (the bulk form on cases:queue; test_views_lists)",
    "cases:act": "POST only (the action forms on cases:case; test_views_case)",
    "cases:extension_decide": "POST only (the form on cases:case; test_views_case)",
    "cases:report_in": "POST only (the form on cases:case; test_views_case)",
    "cases:exemption_request": "POST only (the form on cases:case; test_exemptions)",
    "cases:exemption_decide": "POST only (forms on cases:case, cases:exemptions; test_exemptions)",
    "cases:photo": "image file behind a scope check (test_views_case)",
    "insights:cases": "drill-down that needs a figure's query string (insights test_pages)",
    "insights:evaluation": "xlsx download, not a page (insights test_evaluation)",
    "open311:discovery": "Open311 XML/JSON resource (open311 tests)",
    "open311:services": "Open311 XML/JSON resource (open311 tests)",
    "open311:service": "Open311 XML/JSON resource (open311 tests)",
    "open311:requests": "Open311 XML/JSON resource (open311 tests)",
    "open311:request": "Open311 XML/JSON resource (open311 tests)",
    "open311:token": "Open311 XML/JSON resource (open311 tests)",
    "open311:updates": "Open311 XML/JSON resource (open311 tests)",
    "open311:missing": "Open311's 404 in XML/JSON for any other resource (open311 tests)",
}
SKIPPED_NAMESPACES = ("admin", "api")


def _named_patterns(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or ""
            if inner in SKIPPED_NAMESPACES:
                continue
            prefix = f"{namespace}{inner}:" if inner else namespace
            names |= _named_patterns(pattern, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_url_is_in_the_guard_tables():
    names = _named_patterns(get_resolver())
    known = set(PAGES) | PUBLIC_PAGES | set(NOT_PAGES)
    assert names - known == set(), "add these URLs to a table in this file"
    assert known - names == set(), "these URLs in the tables no longer exist"


def _h1_count(html: str) -> int:
    return len(re.findall(r"<h1[\s>]", html))


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_opens_for_its_roles_and_refuses_the_rest(client, street, personas, name):
    from django.urls import reverse

    args_for, allowed = PAGES[name]
    url = reverse(name, args=args_for(street))

    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    for persona in PERSONAS:
        client.force_login(personas[persona])
        response = client.get(url)
        if persona in allowed:
            assert response.status_code == 200, (persona, url)
            assert _h1_count(response.content.decode()) == 1, (persona, url)
        else:
            assert response.status_code in (403, 404), (persona, url, response.status_code)
        client.logout()


@pytest.mark.parametrize("name", sorted(PUBLIC_PAGES))
def test_public_pages_open_without_signing_in(client, db, name):
    from django.urls import reverse

    response = client.get(reverse(name))
    assert response.status_code == 200
    assert _h1_count(response.content.decode()) == 1


def test_no_model_change_lacks_its_migration(db):
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)


def _catalogues() -> list[Path]:
    return sorted((ROOT / "linli").glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))


def test_every_chinese_catalogue_is_complete():
    assert _catalogues(), "no zh_Hans catalogue found"
    for po_path in _catalogues():
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        missing = [
            m.id
            for m in catalog
            if m.id and not (m.string if isinstance(m.string, str) else all(m.string))
        ]
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert missing == [], f"{po_path}: untranslated {missing}"
        assert fuzzy == [], f"{po_path}: fuzzy {fuzzy}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs GNU gettext")
def test_the_catalogues_hold_every_string_in_the_source(tmp_path):
    """Extract messages from a copy of the source as `make makemessages` would, and
    require every string found there to be translated already."""
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "linli", copy / "linli", ignore=shutil.ignore_patterns("__pycache__", "*.mo")
    )
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            "--no-location",
            "--settings=linli.test_settings",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    for po_path in sorted((copy / "linli").glob("*/locale/zh_Hans/LC_MESSAGES/django.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
        relative = po_path.relative_to(copy)
        assert missing == [], f"{relative}: run `make makemessages` and translate {missing}"
