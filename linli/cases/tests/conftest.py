import copy

import pytest
from django.utils import translation

from linli.accounts.models import Department
from linli.cases.models import Matter
from linli.cases.services import catalogue_load, catalogue_read
from linli.demo.services import DEPARTMENTS


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English, whatever the default language and catalogues."""
    with translation.override("en"):
        yield


@pytest.fixture
def shipped():
    """A fresh copy of the shipped catalogue file, for tests that change it."""
    return copy.deepcopy(_SHIPPED)


_SHIPPED = catalogue_read()


@pytest.fixture
def departments(street):
    """The demo street's departments (城管, 住建 … 燃气), by code, beside the shared test
    street (which brings 城管 itself, hence get_or_create)."""
    return {
        code: Department.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in DEPARTMENTS
    }


@pytest.fixture
def catalogue(departments):
    catalogue_load()
    return departments


@pytest.fixture
def matter(catalogue, street):
    """暴露垃圾 (06010): 4 working hours at normal urgency, a check photo needed to close,
    led by the shared street's 城管 (CG), whose handler is the `handler` persona."""
    matter = Matter.objects.get(code="06010")
    matter.lead_department = street["dept"]
    matter.save()
    return matter
