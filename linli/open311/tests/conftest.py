"""A small catalogue offered through Open311, a key, and a client that speaks the spec."""

import pytest
from django.utils import timezone

from linli.cases import case_services
from linli.cases.models import (
    Matter,
    MatterClass,
    MatterLimit,
    MatterQuestion,
    MatterQuestionOption,
    Source,
)
from linli.open311 import services
from linli.open311.tests.client import Open311Client

# Inside grid g11 of the shared street (a square from 118.60, 37.40).
LAT, LONG = "37.4051", "118.6052"


@pytest.fixture
def services_offered(street):
    """06010 暴露垃圾 asks one question of each of the six datatypes; 06020 asks none;
    11016 烟感报警 is not offered to the public."""
    events = MatterClass.objects.create(code="06", name="市容环境类", kind="event")
    community = MatterClass.objects.create(code="11", name="社区事务类", kind="event")
    garbage = Matter.objects.create(
        code="06010", name="暴露垃圾", matter_class=events, lead_department=street["dept"],
        description="路面、绿地上的暴露垃圾", keywords="垃圾 乱扔",
    )  # fmt: skip
    poster = Matter.objects.create(
        code="06020", name="小广告", matter_class=events, lead_department=street["dept"]
    )
    smoke = Matter.objects.create(
        code="11016", name="烟感报警", matter_class=community, public=False
    )
    for matter in (garbage, poster, smoke):
        MatterLimit.objects.create(matter=matter, urgency="normal", amount=3, unit="days")
    questions = [
        ("spot", "哪里", "string", True),
        ("details", "详细情况", "text", False),
        ("bags", "大约几袋", "number", False),
        ("seen_at", "何时发现", "datetime", False),
        ("kind", "垃圾种类", "singlevaluelist", False),
        ("smells", "有哪些问题", "multivaluelist", False),
    ]
    for order, (code, prompt, datatype, required) in enumerate(questions, start=1):
        question = MatterQuestion.objects.create(
            matter=garbage, code=code, prompt=prompt, datatype=datatype, required=required,
            order=order, help_text=f"{prompt}?",
        )  # fmt: skip
        if question.is_list:
            for n, (key, name) in enumerate([("a", "甲"), ("b", "乙"), ("c", "丙")], start=1):
                MatterQuestionOption.objects.create(question=question, key=key, name=name, order=n)
    return {"garbage": garbage, "poster": poster, "smoke": smoke}


@pytest.fixture
def issued(services_offered, admin_user):
    """(key, raw key) of a FixMyStreet site."""
    return services.open311_key_issue(
        name="FixMyStreet 东营", channel="fixmystreet", created_by=admin_user
    )


@pytest.fixture
def api(client, issued):
    return Open311Client(client, api_key=issued[1])


def file_case(matter, *, description="路边有垃圾", at=None, lon=118.605, lat=37.405, **extra):
    """A case filed by a resident on the report page's service (not through Open311)."""
    return case_services.case_report(
        matter=matter, description=description, lon=lon, lat=lat, source=Source.RESIDENT,
        answers={"spot": "路口"} if matter.code == "06010" else None,
        at=at or timezone.now(), **extra,
    )  # fmt: skip


def close(case, *, dispatcher, handler, at=None):
    """Take a case through the whole workflow to closed."""
    now = at or timezone.now()
    case = case_services.case_accept(case=case, actor=dispatcher, at=now)
    case = case_services.case_dispatch(case=case, actor=dispatcher, at=now)
    case = case_services.case_sign(case=case, actor=handler, at=now)
    case = case_services.case_start(case=case, actor=handler, at=now)
    case = case_services.case_reply(case=case, actor=handler, note="已清理", at=now)
    return case_services.case_verify(
        case=case, actor=dispatcher, passed=True, note="现场已干净", at=now
    )
