import pytest
from django.utils import translation

from linli.areas.geo import locate
from linli.areas.models import Area
from linli.areas.services import area_code_problems, grids_import
from linli.conftest import square
from linli.core.models import AuditEvent

C1 = "370502003001"


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English here; the Chinese ones are checked below."""
    with translation.override("en"):
        yield


def feature(code: str, geometry: dict, name: str = "网格") -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry}


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[118.60, 37.42], [118.61, 37.43], [118.61, 37.42], [118.60, 37.43], [118.60, 37.42]]
    ],
}


def test_a_clean_file_imports_every_grid_and_the_index_sees_them(street, admin_user):
    report = grids_import(
        feature_collection=collection(
            feature(f"{C1}003", square(118.60, 37.41)), feature(f"{C1}004", square(118.61, 37.41))
        ),
        actor=admin_user,
    )
    assert report.ok and report.created == 2
    grid = Area.objects.get(code=f"{C1}004")
    assert grid.parent == street["c1"] and grid.path == f"{street['c1'].path}{C1}004/"
    assert 870_000 < grid.area_m2 < 1_000_000  # 0.01° square at 37.4°N ≈ 0.98 km × 1.1 km
    assert locate(118.615, 37.415).code == f"{C1}004"
    assert AuditEvent.objects.filter(action="areas.grids_import").count() == 1


def test_a_bad_file_imports_nothing_and_names_each_bad_feature(street, admin_user):
    before = Area.objects.count()
    report = grids_import(
        feature_collection=collection(
            feature(f"{C1}003", square(118.60, 37.41)),  # fine on its own
            feature(f"{C1}004", BOWTIE),  # self-intersecting
            feature(f"{C1}005", square(118.605, 37.41)),  # overlaps feature 1
            feature("37050200300106", square(118.63, 37.41)),  # 14 digits
            feature(f"{C1}003", square(118.64, 37.41)),  # duplicate of feature 1
            feature("370502003099001", square(118.65, 37.41)),  # no such community
        ),
        actor=admin_user,
    )
    assert not report.ok
    problems = {f.index: " ".join(f.problems) for f in report.features}
    assert "self-intersect" in problems[2].lower() or "Self-intersection" in problems[2]
    assert "Overlaps feature 1" in problems[3] and "Overlaps feature 3" in problems[1]
    assert "15 digits" in problems[4]
    assert "Duplicate code" in problems[5]
    assert "No community" in problems[6]
    assert Area.objects.count() == before
    assert not AuditEvent.objects.filter(action="areas.grids_import").exists()


def test_a_gap_between_grids_is_reported(street):
    ring = {
        "type": "Polygon",
        "coordinates": [
            [[118.60, 37.41], [118.63, 37.41], [118.63, 37.44], [118.60, 37.44], [118.60, 37.41]],
            [[118.61, 37.42], [118.62, 37.42], [118.62, 37.43], [118.61, 37.43], [118.61, 37.42]],
        ],
    }
    report = grids_import(feature_collection=collection(feature(f"{C1}003", ring)))
    assert not report.ok
    assert "gap" in report.features[0].problems[0]
    small = grids_import(
        feature_collection=collection(feature(f"{C1}003", ring)), gap_tolerance_m2=2e6
    )
    assert small.ok


def test_existing_codes_need_replace(street):
    report = grids_import(
        feature_collection=collection(feature(street["g11"].code, square(118.60, 37.40)))
    )
    assert "already exists" in report.features[0].problems[0]
    replaced = grids_import(
        feature_collection=collection(feature(street["g11"].code, square(118.60, 37.40))),
        replace=True,
    )
    assert replaced.ok and replaced.updated == 1


@pytest.mark.parametrize(
    "payload, message",
    [
        ([], "not a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": f"{C1}003", "name": "x"},
                        "geometry": {"type": "Point", "coordinates": [1, 2]},
                    }
                ],
            },
            "Polygon",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code": f"{C1}003", "name": "x"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [[[200, 37], [201, 37], [201, 38], [200, 37]]],
                        },
                    }
                ],
            },
            "range",
        ),
    ],
)
def test_malformed_files_are_refused_with_a_reason(street, payload, message):
    report = grids_import(feature_collection=payload, dry_run=True)
    text = " ".join(report.general + [p for f in report.features for p in f.problems])
    assert not report.ok and message in text


def test_dry_run_writes_nothing(street):
    report = grids_import(
        feature_collection=collection(feature(f"{C1}003", square(118.60, 37.41))), dry_run=True
    )
    assert report.ok and not Area.objects.filter(code=f"{C1}003").exists()


@pytest.mark.parametrize(
    "level, code, parent, ok",
    [
        ("district", "370502", None, True),
        ("street", "370502003", "370502", True),
        ("street", "37050200", "370502", False),
        ("community", "370502004001", "370502003", False),
        ("grid", "370502003001000", "370502003001", False),
        ("grid", "370502003001012", "370502003001", True),
        ("microgrid", "370502003001012-01", "370502003001012", True),
        ("microgrid", "370502003001012", "370502003001012", False),
    ],
)
def test_code_rules(level, code, parent, ok):
    assert (area_code_problems(level, code, parent) == []) is ok


def test_reports_speak_the_users_language(street):
    with translation.override("zh-hans"):
        report = grids_import(feature_collection=collection(feature("123", square(118.60, 37.41))))
    assert "编码应为15位数字" in report.features[0].problems[0]
