"""The catalogue in the demo street (linli/cases/demo.py), built at the small size."""

from linli.cases.models import Matter
from linli.cases.services import catalogue_load
from linli.demo.services import demo_build


def test_the_small_demo_street_comes_with_the_catalogue_and_its_departments(db, tmp_path):
    summary = demo_build(size="small", progress=False, accounts_path=tmp_path / "a.json")

    assert summary.counts["matters"] == Matter.objects.count() >= 150
    assert not Matter.objects.filter(lead_department__isnull=True).exists()


def test_a_catalogue_loaded_before_the_demo_gains_its_departments(db, tmp_path):
    catalogue_load()
    assert not Matter.objects.filter(lead_department__isnull=False).exists()
    matters = Matter.objects.count()

    demo_build(size="small", progress=False, accounts_path=tmp_path / "a.json")

    assert Matter.objects.count() == matters
    assert not Matter.objects.filter(lead_department__isnull=True).exists()
