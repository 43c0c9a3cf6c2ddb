"""Loading the catalogue of matters (services.catalogue_load) and the database's own
checks on it."""

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from linli.accounts.models import Department
from linli.cases.models import (
    Datatype,
    Matter,
    MatterClass,
    MatterLimit,
    MatterQuestion,
    MatterQuestionOption,
)
from linli.cases.services import catalogue_load
from linli.core.errors import DomainError

CLASSES = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"]


def counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (MatterClass, Matter, MatterLimit, MatterQuestion, MatterQuestionOption)
    )


def test_the_shipped_catalogue_loads_every_class_and_at_least_150_matters(departments):
    report = catalogue_load()

    assert report.classes_created == len(CLASSES)
    assert list(MatterClass.objects.values_list("code", flat=True)) == CLASSES
    assert report.matters_created == Matter.objects.count() >= 150
    per_class = Counter(Matter.objects.values_list("matter_class__code", flat=True))
    assert set(per_class) == set(CLASSES)
    assert all(Matter.objects.filter(code__startswith=c, matter_class__code=c) for c in CLASSES)


def test_the_codes_the_standard_gives_keep_their_names(catalogue):
    names = dict(Matter.objects.values_list("code", "name"))
    assert names["01001"] == "供水井盖"
    assert names["01037"] == "路灯"
    assert names["06001"] == "私搭乱建"
    assert names["06010"] == "暴露垃圾"
    assert names["09012"] == "占用消防通道"
    assert names["11001"] == "邻里纠纷"


def test_every_shipped_matter_has_a_normal_limit(catalogue):
    without = Matter.objects.exclude(limits__urgency="normal")
    assert list(without) == []


def test_the_shipped_limits_follow_the_standards_examples(catalogue):
    def limit(code, urgency="normal"):
        row = MatterLimit.objects.get(matter__code=code, urgency=urgency)
        return row.amount, row.unit

    assert limit("06010") == (4, "hours")  # 暴露垃圾
    assert limit("06012") == (5, "hours")  # 道路不洁
    assert limit("06001", "urgent") == (4, "hours")  # 私搭乱建: stop the building work
    assert limit("06011") == (4, "days")  # 积存垃圾渣土
    assert limit("04013") == (5, "days")  # 绿地
    assert limit("06015") == (15, "days")  # 水域不洁


def test_every_list_question_has_options_and_all_six_datatypes_appear(catalogue):
    questions = MatterQuestion.objects.all()
    assert set(questions.values_list("datatype", flat=True)) == set(Datatype.values)
    lists = questions.filter(datatype__in=["singlevaluelist", "multivaluelist"])
    assert lists.exists()
    assert list(lists.filter(options__isnull=True)) == []
    others = questions.exclude(datatype__in=["singlevaluelist", "multivaluelist"])
    assert not MatterQuestionOption.objects.filter(question__in=others).exists()
    assert questions.values("matter").distinct().count() >= 20


def test_matters_where_the_handler_must_call_back_refuse_anonymous_reports(catalogue):
    for code in ("11001", "11010"):  # 邻里纠纷, 漏水渗水
        assert Matter.objects.get(code=code).allows_anonymous is False
    assert Matter.objects.get(code="01001").needs_check_photo is True
    assert Matter.objects.get(code="11016").public is False  # 烟感报警 comes from sensors


def test_loading_twice_adds_nothing(catalogue):
    before = counts()

    report = catalogue_load()

    assert report.created == 0
    assert report.matters_unchanged == Matter.objects.count()
    assert report.limits_written == report.questions_written == report.options_written == 0
    assert counts() == before


def test_update_refreshes_a_limit_and_a_name_and_keeps_the_administrators_own(catalogue, shipped):
    own = Matter.objects.create(
        code="06099", name="本街道自定事项", matter_class=MatterClass.objects.get(code="06")
    )
    MatterLimit.objects.create(matter=own, urgency="normal", amount=3, unit="days")
    exposed = next(m for m in shipped["matters"] if m["code"] == "06010")
    exposed["limits"][0]["amount"] = 3
    exposed["name"] = "暴露垃圾（含散落垃圾）"

    report = catalogue_load(data=shipped, update=True)

    assert report.created == 0
    assert report.matters_updated == 1
    assert report.limits_written == 1
    matter = Matter.objects.get(code="06010")
    assert matter.name == "暴露垃圾（含散落垃圾）"
    assert matter.limits.get(urgency="normal").amount == 3
    assert Matter.objects.filter(code="06099", limits__amount=3).exists()


def test_without_update_the_administrators_edits_stay(catalogue, shipped):
    matter = Matter.objects.get(code="06010")
    matter.name = "暴露垃圾（本地叫法）"
    matter.is_active = False
    matter.save()
    MatterLimit.objects.filter(matter=matter, urgency="normal").update(amount=6)

    catalogue_load(data=shipped)

    matter.refresh_from_db()
    assert (matter.name, matter.is_active) == ("暴露垃圾（本地叫法）", False)
    assert matter.limits.get(urgency="normal").amount == 6


def test_update_adds_a_new_question_and_option_but_deletes_none(catalogue, shipped):
    cover = next(m for m in shipped["matters"] if m["code"] == "01001")
    cover["questions"][0]["options"].append({"key": "sunk", "name": "下沉"})
    cover["questions"] = cover["questions"][:1] + [
        {"code": "since", "prompt": "发现时间", "datatype": "datetime"}
    ]
    local = MatterQuestion.objects.create(
        matter=Matter.objects.get(code="01001"), code="local", prompt="本地问题", datatype="string"
    )

    catalogue_load(data=shipped, update=True)

    codes = set(MatterQuestion.objects.filter(matter__code="01001").values_list("code", flat=True))
    assert codes == {"cover_state", "anyone_hurt", "since", local.code}
    keys = MatterQuestionOption.objects.filter(
        question__matter__code="01001", question__code="cover_state"
    ).values_list("key", flat=True)
    assert "sunk" in keys


def test_a_bad_file_loads_nothing_and_names_each_bad_entry(departments, shipped):
    matters = shipped["matters"]
    matters.append(dict(matters[0]))  # 01001 twice
    matters[1]["code"] = "0102"  # four digits
    cover = next(m for m in matters if m["code"] == "01003")
    cover["questions"] = [{"code": "state", "prompt": "井盖状态", "datatype": "singlevaluelist"}]
    matters[40]["limits"][0]["amount"] = 0
    matters[41]["limits"][0]["unit"] = "weeks"
    matters[42]["questions"] = [{"code": "x", "prompt": "?", "datatype": "picture"}]
    matters[43]["class"] = "07"

    with pytest.raises(DomainError) as caught:
        catalogue_load(data=shipped)

    problems = caught.value.fields
    labels = " | ".join(problems)
    assert "matters[0] 01001 供水井盖" in problems
    assert f"matters[{len(matters) - 1}] 01001 供水井盖" in problems
    assert "0102" in labels
    assert any("without options" in m for m in problems["matters[2] 01003 雨水井盖"])
    for i, word in [(40, "at least 1"), (41, "weeks"), (42, "picture"), (43, "does not start")]:
        label = next(k for k in problems if k.startswith(f"matters[{i}] "))
        assert any(word in m for m in problems[label]), (label, problems[label])
    assert len(problems) == 8
    assert counts() == (0, 0, 0, 0, 0)


def test_a_missing_department_is_reported_and_linked_once_it_exists(db, shipped):
    Department.objects.create(code="HW", name="环卫")

    report = catalogue_load(data=shipped)

    assert report.departments_missing["01001"] == "GS"
    assert "06010" not in report.departments_missing
    assert Matter.objects.get(code="01001").lead_department is None
    assert Matter.objects.get(code="06010").lead_department.code == "HW"

    water = Department.objects.create(code="GS", name="供水")
    report = catalogue_load(data=shipped)

    assert report.departments_linked == Matter.objects.filter(lead_department=water).count() > 0
    assert report.created == 0


def test_department_codes_resolve_on_the_demo_departments(departments):
    report = catalogue_load()

    assert report.departments_missing == {}
    assert not Matter.objects.filter(lead_department__isnull=True).exists()


def test_the_command_loads_then_adds_nothing(departments):
    out = StringIO()
    call_command("load_catalogue", stdout=out)
    assert Matter.objects.count() >= 150

    out = StringIO()
    call_command("load_catalogue", stdout=out)
    assert "Matters: 0 added" in out.getvalue()


def test_the_command_names_the_bad_entries_of_a_file(db, shipped, tmp_path):
    import json

    shipped["matters"][0]["code"] = "1001"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(shipped, ensure_ascii=False), encoding="utf-8")
    err = StringIO()

    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("load_catalogue", "--file", str(path), stderr=err)

    assert "matters[0] 1001 供水井盖:" in err.getvalue()
    assert not Matter.objects.exists()


def test_the_command_refuses_a_file_that_is_not_json(db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{ not json", encoding="utf-8")

    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("load_catalogue", "--file", str(path))


@pytest.mark.parametrize(
    "change",
    [
        {"urgency": "normal", "amount": 0, "unit": "days"},
        {"urgency": "normal", "amount": 1, "unit": "weeks"},
        {"urgency": "soon", "amount": 1, "unit": "days"},
    ],
)
def test_the_database_refuses_a_nonsense_limit(catalogue, change):
    matter = Matter.objects.get(code="06010")
    matter.limits.all().delete()
    with pytest.raises(IntegrityError), transaction.atomic():
        MatterLimit.objects.create(matter=matter, **change)


def test_the_database_refuses_a_second_limit_for_one_tier_and_a_short_code(catalogue):
    matter = Matter.objects.get(code="06010")
    with pytest.raises(IntegrityError), transaction.atomic():
        MatterLimit.objects.create(matter=matter, urgency="normal", amount=1, unit="days")
    with pytest.raises(IntegrityError), transaction.atomic():
        Matter.objects.create(code="0601", name="短码", matter_class=matter.matter_class)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatterQuestion.objects.create(matter=matter, code="amount", prompt="重复", datatype="text")
