"""Keys: stored only as their SHA-256, shown once, revoked for good; the command and the
admin issue and revoke them; what a key files carries its channel."""

import hashlib
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from linli.cases.models import Case
from linli.core.errors import DomainError
from linli.open311 import services
from linli.open311.models import Open311Key
from linli.open311.tests.conftest import LAT, LONG


def test_a_key_is_stored_only_as_its_hash(issued):
    key, raw = issued
    stored = Open311Key.objects.get(pk=key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.key_hash, stored.name, stored.channel}
    assert stored.key_prefix == raw[:8]
    assert services.open311_key_for(raw) == stored
    assert services.open311_key_for(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert services.open311_key_for("") is None


def test_a_revoked_key_is_refused_and_what_it_filed_stays(api, issued):
    key, raw = issued
    assert api.file(service_code="06020", lat=LAT, long=LONG).status == 200
    services.open311_key_revoke(key=key)
    assert services.open311_key_for(raw) is None
    assert api.file(service_code="06020", lat=LAT, long=LONG).status == 403
    case = Case.objects.get()
    assert case.source == "open311" and case.open311.channel == "fixmystreet"
    assert case.open311.key == key
    assert Open311Key.objects.get().last_used_at is not None


def test_names_are_unique_and_channels_slugs(issued):
    with pytest.raises(DomainError) as refused:
        services.open311_key_issue(name="FixMyStreet 东营")
    assert "name" in refused.value.fields
    key, _raw = services.open311_key_issue(name="City App")
    assert key.channel == "city-app"
    with pytest.raises(DomainError) as refused:
        services.open311_key_issue(name="东营")
    assert "channel" in refused.value.fields


def test_the_command_creates_prints_once_lists_and_revokes(db):
    out = StringIO()
    call_command("open311_key", "create", "--name", "FMS", "--channel", "fixmystreet", stdout=out)
    raw = next(line[5:] for line in out.getvalue().splitlines() if line.startswith("key: "))
    key = Open311Key.objects.get(name="FMS")
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    listing = StringIO()
    call_command("open311_key", "list", stdout=listing)
    assert "FMS\tfixmystreet" in listing.getvalue() and raw not in listing.getvalue()
    assert "active" in listing.getvalue()
    call_command("open311_key", "revoke", raw[:8], stdout=StringIO())
    assert Open311Key.objects.get().revoked_at is not None
    with pytest.raises(CommandError):
        call_command("open311_key", "revoke", "nobody", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("open311_key", "create", "--name", "FMS", stdout=StringIO(), stderr=StringIO())


def test_the_admin_issues_a_key_shown_once_and_revokes_it(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/open311/open311key/add/", {"name": "FMS", "channel": "fixmystreet"}, follow=True
    )
    assert response.status_code == 200
    key = Open311Key.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    # The key in the message, in whichever language it is said.
    found = (re.search(re.escape(key.key_prefix) + r"[A-Za-z0-9_-]*", m) for m in shown)
    raw = next(match.group(0) for match in found if match)
    assert services.open311_key_for(raw) == key and key.created_by == admin_user
    page = client.get(f"/admin/open311/open311key/{key.pk}/change/").content.decode()
    assert raw not in page
    client.post(
        "/admin/open311/open311key/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert services.open311_key_for(raw) is None
    duplicate = client.post("/admin/open311/open311key/add/", {"name": "FMS", "channel": "x"})
    assert duplicate.status_code == 200 and Open311Key.objects.count() == 1


def test_the_admin_shows_filed_requests_with_their_channel_and_a_masked_email(
    api, client, admin_user
):
    api.file(service_code="06020", lat=LAT, long=LONG, email="resident@example.org")
    client.force_login(admin_user)
    listing = client.get("/admin/open311/open311request/").content.decode()
    assert "fixmystreet" in listing
    link = Case.objects.get().open311
    page = client.get(f"/admin/open311/open311request/{link.pk}/change/").content.decode()
    assert "r***@example.org" in page and "resident@example.org" not in page


def test_no_key_starts_with_a_dash_so_its_start_can_be_given_to_the_command():
    from linli.cases.intake.sensors import key_hash, key_new

    keys = [key_new() for _ in range(2000)]  # one in 64 token_urlsafe keys starts with "-"
    assert not [raw for raw, _digest, _prefix in keys if raw.startswith("-")]
    assert all(digest == key_hash(raw) and raw.startswith(prefix) for raw, digest, prefix in keys)
    assert len({raw for raw, _digest, _prefix in keys}) == 2000
