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


def test_a_new_community_and_its_grids_import_from_one_file(street, admin_user):
    c3 = "370502003003"
    report = grids_import(
        feature_collection=collection(
            feature(f"{c3}001", square(118.70, 37.40)),
            feature(c3, square(118.70, 37.40, 0.02), name="新社区"),
            feature(f"{c3}002", square(118.71, 37.40)),
            feature(f"{c3}003", square(118.70, 37.41)),
            feature(f"{c3}004", square(118.71, 37.41)),
        ),
        actor=admin_user,
    )
    assert report.ok, report.as_dict()
    community = Area.objects.get(code=c3)
    assert community.level == "community" and community.parent == street["street"]
    assert community.area_m2 > 3_000_000
    assert Area.objects.get(code=f"{c3}002").parent == community
    assert locate(118.715, 37.405).code == f"{c3}002"


def test_grids_must_cover_their_communitys_boundary_and_stay_inside_it(street):
    c3 = "370502003003"
    report = grids_import(
        feature_collection=collection(
            feature(c3, square(118.70, 37.40, 0.02), name="新社区"),
            feature(f"{c3}001", square(118.70, 37.40)),
            feature(f"{c3}002", square(118.715, 37.40)),  # half outside, leaves a gap
        )
    )
    assert not report.ok
    problems = {f.index: " ".join(f.problems) for f in report.features}
    assert "beyond its community's boundary" in problems[3]
    assert "gap" in problems[2] or "gap" in problems[3]
    assert not Area.objects.filter(code__startswith=c3).exists()


def test_a_grid_whose_community_is_missing_everywhere_is_rejected(street):
    report = grids_import(
        feature_collection=collection(
            feature("370502009", None, name="街道"),  # a street, but no community
            feature("370502009001001", square(118.70, 37.40)),
        )
    )
    assert report.features[0].problems == []
    assert "No community with code 370502009001" in report.features[1].problems[0]


@pytest.mark.parametrize(
    "properties, message",
    [
        ({"code": f"{C1}003", "name": "x", "level": "province"}, "'level' must be one of"),
        ({"code": f"{C1}003", "name": "网" * 101}, "longer than 100"),
        ({"code": f"{C1}003"}, "'name' is missing"),
        ({"name": "x"}, "'code' is missing"),
        ({"code": "370502003", "name": "x", "level": "grid"}, "15 digits"),
        ({"code": "370502003", "name": "胜利街道"}, "A street with this code already exists"),
        (["370502003001003"], "must be a JSON object"),
    ],
)
def test_bad_properties_are_named(street, properties, message):
    payload = collection(
        {"type": "Feature", "properties": properties, "geometry": square(118.60, 37.41)}
    )
    report = grids_import(feature_collection=payload)
    assert message in " ".join(report.features[0].problems)


def test_a_new_boundary_that_overlaps_another_grid_is_refused(street, admin_user):
    from linli.areas.services import area_update_geometry
    from linli.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        area_update_geometry(area=street["g11"], geometry=square(118.605, 37.40), actor=admin_user)
    assert refused.value.code == "overlap"
    assert street["g12"].code in refused.value.fields["geometry"][0]
    street["g11"].refresh_from_db()
    assert street["g11"].geometry == square(118.60, 37.40)
    with pytest.raises(DomainError) as invalid:
        area_update_geometry(area=street["g11"], geometry=BOWTIE, actor=admin_user)
    assert "Self-intersection" in invalid.value.fields["geometry"][0]
