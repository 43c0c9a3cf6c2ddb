"""Households and residents on the shared test street (linli/conftest.py): one household
in grid 001 of community 001 (g11) and one in grid 001 of community 002 (g21)."""

from datetime import date

import pytest
from django.conf import settings
from django.utils import translation

from linli.people import services
from linli.people.models import Tag
from linli.people.validation import id_number_make

ID_A = id_number_make("370502", date(1950, 3, 1), 11)  # a man born 1950
ID_B = id_number_make("370502", date(1985, 7, 9), 22)  # a woman born 1985
PHONE_A = "13812345678"
PHONE_B = "13987654321"


@pytest.fixture(autouse=True)
def english(client):
    """The register's tests read messages in English: the thread's language for services,
    the language cookie for pages (which, like a street office's screens, ignore the
    browser's Accept-Language). Tests of the Chinese default say so explicitly."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def register(street, grid_worker, other_grid_worker):
    home_a = services.household_create(
        actor=grid_worker,
        grid=street["g11"],
        building=street["g11"].buildings.first(),
        address="济南路12号1号楼",
        unit="2单元",
        room="301室",
        tenure="owned",
        registration="registered",
    )
    home_b = services.household_create(
        actor=other_grid_worker,
        grid=street["g21"],
        address="西四路8号",
        room="102室",
        tenure="rented",
        registration="migrant",
    )
    zhang = services.resident_create(
        actor=grid_worker,
        household=home_a,
        name="张建国",
        relation="head",
        id_number=ID_A,
        phone=PHONE_A,
    )
    li = services.resident_create(
        actor=other_grid_worker,
        household=home_b,
        name="李秀英",
        relation="head",
        id_number=ID_B,
        phone=PHONE_B,
    )
    return {"home_a": home_a, "home_b": home_b, "zhang": zhang, "li": li}


@pytest.fixture
def tags(db):
    return {t.code: t for t in Tag.objects.all()}
