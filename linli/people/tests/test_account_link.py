"""A resident's account and their register entry: linked at sign-up when the verified
mobile number matches exactly one person, or by their grid worker by hand."""

import re

from django.urls import reverse

from linli.accounts.services import phone_code_send, resident_signup
from linli.accounts.sms import LocmemSmsBackend
from linli.core.models import AuditEvent
from linli.people import services
from linli.people.models import Resident
from linli.people.tests.conftest import PHONE_A


def _sign_up(phone: str, django_capture_on_commit_callbacks):
    LocmemSmsBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        phone_code_send(phone=phone)
    code = re.search(r"\b(\d{6})\b", LocmemSmsBackend.outbox[-1][1]).group(1)
    return resident_signup(phone=phone, code=code, password="Hai-he-2026", name="张建国")


def test_signing_up_with_the_registered_number_links_the_person(
    client, register, django_capture_on_commit_callbacks
):
    user = _sign_up(PHONE_A, django_capture_on_commit_callbacks)
    assert Resident.objects.get(user=user) == register["zhang"]
    client.force_login(user)
    html = client.get(reverse("people:mine")).content.decode()
    assert register["zhang"].phone_masked in html and PHONE_A not in html


def test_a_number_shared_by_two_people_links_no_one(
    register, grid_worker, django_capture_on_commit_callbacks
):
    services.resident_create(
        actor=grid_worker, household=register["home_a"], name="王秀兰", relation="spouse",
        birth_date=register["zhang"].birth_date, gender="F", phone=PHONE_A,
    )  # fmt: skip
    user = _sign_up(PHONE_A, django_capture_on_commit_callbacks)
    assert not Resident.objects.filter(user=user).exists()


def test_the_grid_worker_links_and_unlinks_an_account_by_hand(
    client, register, grid_worker, resident
):
    url = reverse("people:resident_account", args=[register["zhang"].pk])
    client.force_login(grid_worker)
    client.post(url, {"action": "link", "login": "nobody-here"})
    assert Resident.objects.get(pk=register["zhang"].pk).user is None
    client.post(url, {"action": "link", "login": resident.username})
    assert Resident.objects.get(pk=register["zhang"].pk).user == resident
    assert AuditEvent.objects.filter(action="resident.link_user", actor=grid_worker).exists()
    page = client.get(reverse("people:resident", args=[register["zhang"].pk]))
    assert resident.username in page.content.decode()
    client.post(url, {"action": "unlink"})
    assert Resident.objects.get(pk=register["zhang"].pk).user is None


def test_staff_accounts_cannot_be_linked(client, register, grid_worker, dispatcher):
    client.force_login(grid_worker)
    client.post(
        reverse("people:resident_account", args=[register["zhang"].pk]),
        {"action": "link", "login": dispatcher.username},
    )
    assert Resident.objects.get(pk=register["zhang"].pk).user is None


def test_a_worker_of_another_grid_cannot_link_this_grids_people(
    client, register, other_grid_worker, resident
):
    client.force_login(other_grid_worker)
    response = client.post(
        reverse("people:resident_account", args=[register["zhang"].pk]),
        {"action": "link", "login": resident.username},
    )
    assert response.status_code == 404
    assert Resident.objects.get(pk=register["zhang"].pk).user is None
