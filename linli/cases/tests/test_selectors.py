from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.cases.models import Matter, MatterLimit
from linli.cases.selectors import matter_choices_for, matter_limit, matter_search


def codes(matters) -> list[str]:
    return [m.code for m in matters]


def test_search_by_code_prefix_finds_the_class_in_code_order(catalogue):
    found = codes(matter_search("0100"))
    assert found[:3] == ["01001", "01002", "01003"]
    assert all(code.startswith("0100") for code in found)
    assert codes(matter_search("09012")) == ["09012"]


def test_search_by_chinese_name_puts_the_exact_name_first(catalogue):
    assert codes(matter_search("路灯"))[0] == "01037"
    covers = codes(matter_search("井盖"))
    assert {"01001", "01002", "01003", "01008"} <= set(covers)
    assert codes(matter_search("私搭乱建")) == ["06001"]


def test_search_finds_keywords_people_use(catalogue):
    assert "06001" in codes(matter_search("违建"))
    assert "11012" in codes(matter_search("电瓶车"))
    assert matter_search("   ") == []


def test_search_leaves_out_retired_and_for_residents_internal_matters(catalogue):
    Matter.objects.filter(code="01037").update(is_active=False)
    assert "01037" not in codes(matter_search("路灯"))
    assert "11016" in codes(matter_search("烟感"))
    assert "11016" not in codes(matter_search("烟感", public_only=True))


def test_choices_are_grouped_by_class_in_one_query(catalogue):
    with CaptureQueriesContext(connection) as queries:
        groups = matter_choices_for(public_only=True)
    assert len(queries) == 1
    assert [g.matter_class.code for g in groups] == [f"{n:02d}" for n in range(1, 12)]
    community = groups[-1]
    assert community.matter_class.name == "社区事务"
    assert "11016" not in codes(community.matters)
    everything = matter_choices_for(public_only=False)
    assert "11016" in codes(everything[-1].matters)
    assert sum(len(g.matters) for g in everything) == Matter.objects.count()


def test_the_limit_of_a_tier_falls_back_to_the_normal_one(catalogue):
    exposed = Matter.objects.get(code="06010")
    assert (matter_limit(exposed, "urgent").amount, matter_limit(exposed, "urgent").unit) == (
        2,
        "hours",
    )
    MatterLimit.objects.filter(matter=exposed, urgency="urgent").delete()
    assert matter_limit(exposed, "urgent").urgency == "normal"
    exposed.limits.all().delete()
    assert matter_limit(exposed, "normal") is None
