"""The matter suggester (linli/cases/suggest.py), its command, its API endpoint and its
pages. A small hand-built history of closed cases with distinct wording per matter keeps
training well under a second; the model file goes to a directory of the test's own."""

import json
from functools import partial
from itertools import count, product
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from linli.accounts.services import api_token_issue
from linli.cases import suggest
from linli.cases.models import Case, Matter, MatterClass
from linli.core.errors import DomainError


@pytest.fixture(autouse=True)
def english_pages(client):
    """Pages read the language cookie; these tests read the English pages."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


PLACES = [
    "小区东门",
    "3号楼下",
    "幸福路口",
    "菜市场旁",
    "学校门口",
    "公园北侧",
    "济南路边",
    "西四路上",
]
WORDS = {
    # 暴露垃圾
    "06010": ["{p}有一堆生活垃圾没人清理", "{p}垃圾桶满了，垃圾袋堆在地上", "{p}垃圾散落一地很臭"],
    # 路灯
    "01037": ["{p}路灯不亮，晚上一片漆黑", "{p}路灯坏了，一直闪", "{p}的路灯白天也亮着"],
    # 噪声
    "06028": [
        "{p}广场舞音响声音太大",
        "{p}晚上装修噪音很大，吵得睡不着",
        "{p}饭店空调外机噪声扰民",
    ],
    # 井盖, retired below in the test that needs it
    "01001": [
        "{p}井盖丢了，只剩一个洞",
        "{p}井盖破损，车压过去咣当响",
        "{p}井盖移位，有人差点绊倒",
    ],
}
NAMES = {"06010": "暴露垃圾", "01037": "路灯", "06028": "噪声", "01001": "井盖"}
IN_G11 = (118.605, 37.405)
SERIAL = count(1)


@pytest.fixture(autouse=True)
def model_path(settings, tmp_path):
    """The model file of this test only (never var/models)."""
    settings.LINLI_SUGGESTER_PATH = tmp_path / "models" / "matter_suggester.joblib"
    return settings.LINLI_SUGGESTER_PATH


@pytest.fixture
def matters(db):
    event = MatterClass.objects.create(code="06", name="市容环境类", kind="event")
    component = MatterClass.objects.create(code="01", name="公用设施类", kind="component")
    return {
        code: Matter.objects.create(
            code=code, name=name, matter_class=component if code < "06" else event
        )
        for code, name in NAMES.items()
    }


def closed_cases(street, matters, codes, *, per_text: int | None = None) -> int:
    """Closed cases for `codes`: every wording at `per_text` places each (default all)."""
    now = timezone.now()
    made = 0
    for code in codes:
        for template, place in product(WORDS[code], PLACES[: per_text or len(PLACES)]):
            made += 1
            Case.objects.create(
                number=f"T-{next(SERIAL)}",
                source="resident",
                matter=matters[code],
                description=template.format(p=place),
                lon=IN_G11[0],
                lat=IN_G11[1],
                grid=street["g11"],
                status="closed",
                verified_at=now,
                closed_at=now,
            )
    return made


@pytest.fixture
def history(street, matters):
    """24 closed cases of each of the four matters."""
    closed_cases(street, matters, WORDS)
    return matters


def train(**options):
    return suggest.suggester_train(min_cases=20, **options)


# --- training ------------------------------------------------------------------------------


def test_it_refuses_to_train_on_too_little_history_and_writes_no_model(street, matters, model_path):
    closed_cases(street, matters, ["06010", "01037"], per_text=2)  # 12 closed cases

    with pytest.raises(DomainError) as refused:
        suggest.suggester_train()

    assert refused.value.code == "not_enough_history"
    assert "12 closed cases" in str(refused.value.message)
    assert not model_path.exists()
    assert not model_path.parent.exists() or list(model_path.parent.iterdir()) == []


def test_it_refuses_when_only_one_matter_has_enough_cases(street, matters, model_path):
    closed_cases(street, matters, ["06010"])
    closed_cases(street, matters, ["01037"], per_text=1)  # 3 cases: fewer than 5

    with pytest.raises(DomainError) as refused:
        train()

    assert refused.value.code == "not_enough_history"
    assert not model_path.exists()


def test_without_a_model_it_says_there_is_not_enough_history(db):
    found = suggest.matter_suggest("小区东门有一堆垃圾没人清理")

    assert (found.ready, found.reason, found.items, found.model) == (
        False,
        "not_enough_history",
        [],
        None,
    )
    assert found.message


def test_it_learns_from_closed_cases_only(street, history, model_path):
    # Open, rejected and merged cases say nothing about a matter's words.
    for status in ("reported", "rejected"):
        Case.objects.create(
            number=f"T-{status}",
            source="resident",
            matter=history["06010"],
            description="路灯不亮",
            lon=IN_G11[0],
            lat=IN_G11[1],
            grid=street["g11"],
            status=status,
        )

    report = train()

    assert (report.n_closed, report.n_cases, report.n_matters) == (96, 96, 4)
    assert report.codes == sorted(NAMES)
    assert report.stratified and report.n_test == 20
    assert 0.9 <= report.accuracy_top1 <= report.accuracy_top3 <= 1
    assert report.path == model_path and model_path.exists()
    # Written beside the target and renamed over it: no temporary file is left behind.
    assert [p.name for p in model_path.parent.iterdir()] == [model_path.name]


def test_it_suggests_the_right_matter_first_for_new_words(history):
    train()

    found = suggest.matter_suggest("单元门口的垃圾好几天没人清理了，很臭")

    assert found.ready and found.reason is None
    assert found.items[0].matter.code == "06010"
    assert len(found.items) <= 3
    confidences = [item.confidence for item in found.items]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0 < c <= 1 for c in confidences)
    assert found.model.n_cases == 96
    assert suggest.matter_suggest("楼下路灯坏了，晚上很黑").items[0].matter.code == "01037"


def test_it_never_suggests_an_inactive_matter(history):
    train()
    Matter.objects.filter(code="01001").update(is_active=False)

    found = suggest.matter_suggest("小区门口的井盖丢了，只剩一个洞，太危险")

    assert "01001" in found.model.codes  # learnt, but retired since
    assert found.items and "01001" not in [item.matter.code for item in found.items]


def test_residents_are_offered_only_the_matters_offered_to_them(history):
    train()
    Matter.objects.filter(code="06010").update(public=False)

    words = "单元门口的垃圾好几天没人清理了"
    assert suggest.matter_suggest(words).items[0].matter.code == "06010"
    resident_view = suggest.matter_suggest(words, public_only=True)
    assert "06010" not in [item.matter.code for item in resident_view.items]


@pytest.mark.parametrize("text", ["", "   ", "垃圾", "a b", "？？！！"])
def test_empty_or_very_short_text_gets_no_suggestions_and_a_reason(history, text):
    train()

    found = suggest.matter_suggest(text)

    assert (found.ready, found.reason, found.items) == (True, "too_short", [])
    assert found.message


def test_a_retrained_model_is_picked_up_without_a_restart(street, history):
    closed_cases(street, history, ["06010", "01037", "06028"])
    train()
    before = suggest.matter_suggest("楼下垃圾没人清理").model.n_cases

    closed_cases(street, history, ["01001"])
    train()

    assert suggest.matter_suggest("楼下垃圾没人清理").model.n_cases == before + 24


def test_an_unreadable_model_file_is_reported_not_raised(db, model_path):
    model_path.parent.mkdir(parents=True)
    model_path.write_bytes(b"not a model")

    found = suggest.matter_suggest("小区东门有一堆垃圾没人清理")

    assert (found.ready, found.reason, found.items) == (False, "unreadable", [])


# --- the demo street -----------------------------------------------------------------------


def _demo_context(size: str):
    return SimpleNamespace(layout=SimpleNamespace(size=size, seed=2026), summary={})


def test_the_full_demo_build_trains_the_suggester(history, model_path, monkeypatch):
    # The demo's year passes the real thresholds; this small history needs a lower one.
    monkeypatch.setattr(suggest, "suggester_train", partial(suggest.suggester_train, min_cases=20))
    ctx = _demo_context("full")

    suggest.demo_suggester(ctx)

    assert model_path.exists()
    assert ctx.summary == {"suggester cases": 96}


def test_the_small_demo_street_of_the_tests_trains_nothing(history, model_path):
    suggest.demo_suggester(_demo_context("small"))

    assert not model_path.exists()


def test_a_demo_without_enough_history_builds_without_a_suggester(db, model_path):
    ctx = _demo_context("full")

    suggest.demo_suggester(ctx)

    assert not model_path.exists() and ctx.summary == {}


# --- the command ---------------------------------------------------------------------------


def test_the_command_exits_1_with_too_little_history(street, matters, model_path):
    closed_cases(street, matters, ["06010"], per_text=2)

    with pytest.raises(CommandError) as refused:
        call_command("train_matter_suggester")

    assert refused.value.returncode == 1
    assert "Not enough history" in str(refused.value)
    assert not model_path.exists()


def test_the_command_refuses_a_held_out_share_outside_0_to_1(history, model_path):
    with pytest.raises(CommandError) as refused:
        call_command("train_matter_suggester", "--test-size", "1.5")

    assert "between 0 and 1" in str(refused.value)
    assert not model_path.exists()


def test_the_command_prints_the_figures_and_where_the_model_is(history, model_path, capsys):
    call_command(
        "train_matter_suggester", "--min-cases", "50", "--test-size", "0.25", "--seed", "7"
    )

    out = capsys.readouterr().out
    assert "cases: 96 (of 96 closed)" in out
    assert "matters: 4" in out
    assert "held-out cases: 24" in out
    assert "held-out top-1 accuracy:" in out and "held-out top-3 accuracy:" in out
    assert str(model_path) in out and model_path.exists()


# --- the API -------------------------------------------------------------------------------


def _post(client, user, body):
    headers = {}
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {api_token_issue(user=user)[1]}"
    return client.post(
        "/api/v1/matters/suggest", json.dumps(body), content_type="application/json", **headers
    )


def test_the_api_needs_a_signed_in_caller(client, db):
    response = _post(client, None, {"text": "小区东门有一堆垃圾"})

    assert response.status_code == 401


def test_the_api_answers_suggestions_with_the_models_figures(client, history, resident):
    report = train()

    response = _post(client, resident, {"text": "单元门口的垃圾好几天没人清理了，很臭"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ready", "reason", "message", "suggestions", "model"}
    assert (body["ready"], body["reason"], body["message"]) == (True, None, "")
    first = body["suggestions"][0]
    assert set(first) == {"code", "name", "confidence"}
    assert (first["code"], first["name"]) == ("06010", "暴露垃圾")
    assert 0 < first["confidence"] <= 1
    assert len(body["suggestions"]) <= 3
    assert body["model"]["cases"] == 96
    assert body["model"]["accuracy_top1"] == round(report.accuracy_top1, 4)
    assert set(body["model"]) == {"trained_at", "accuracy_top1", "accuracy_top3", "cases"}


def test_the_api_says_when_there_is_no_model(client, resident):
    body = _post(client, resident, {"text": "小区东门有一堆垃圾"}).json()

    assert body["ready"] is False
    assert body["reason"] == "not_enough_history"
    assert body["suggestions"] == [] and body["model"] is None


def test_the_api_refuses_a_body_without_text(client, resident):
    response = _post(client, resident, {"words": "垃圾"})

    assert response.status_code == 422
    assert "text" in response.json()["fields"]


def test_the_openapi_description_has_the_endpoint(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert set(paths["/api/v1/matters/suggest"]) == {"post"}
    assert "get" in paths["/api/v1/matters/{code}"]


# --- the pages -----------------------------------------------------------------------------


def test_the_report_form_shows_suggestions_as_buttons(client, history, resident):
    train()
    client.force_login(resident)

    response = client.post(
        reverse("cases:suggest_report"),
        {"description": "单元门口的垃圾好几天没人清理了，很臭"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-suggest-code="06010"' in html
    assert "暴露垃圾" in html and "%" in html


def test_the_report_form_wires_the_description_to_the_suggestions(client, resident):
    client.force_login(resident)

    html = client.get(reverse("cases:report")).content.decode()

    assert f'hx-post="{reverse("cases:suggest_report")}"' in html
    assert 'id="matter-suggestions"' in html
    assert "linli/cases/suggest.js" in html


def test_the_report_forms_suggestions_need_a_reporter(client, history, handler):
    url = reverse("cases:suggest_report")
    assert client.post(url, {"description": "垃圾没人清理"}).status_code == 302

    client.force_login(handler)
    assert client.post(url, {"description": "垃圾没人清理"}).status_code == 403


def test_staff_without_a_model_are_told_why_and_residents_see_nothing(
    client, db, resident, dispatcher
):
    url = reverse("cases:suggest_report")
    words = {"description": "小区东门有一堆垃圾没人清理"}

    client.force_login(dispatcher)
    assert "Not enough history" in client.post(url, words).content.decode()
    client.force_login(resident)
    assert client.post(url, words).content.decode().strip() == ""


def _reported_case(street, matter, description):
    return Case.objects.create(
        number="T-NEW",
        source="resident",
        matter=matter,
        description=description,
        lon=IN_G11[0],
        lat=IN_G11[1],
        grid=street["g11"],
    )


def test_the_centre_sees_suggestions_next_to_the_filed_matter(client, street, history, dispatcher):
    train()
    case = _reported_case(street, history["06028"], "楼下路灯坏了，晚上一片漆黑")
    client.force_login(dispatcher)

    page = client.get(reverse("cases:case", args=[case.pk])).content.decode()
    assert f'hx-get="{reverse("cases:suggest_case", args=[case.pk])}"' in page

    response = client.get(reverse("cases:suggest_case", args=[case.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "06028" in html  # filed as 噪声
    assert html.index("01037") < html.index("</ol>")  # suggested: 路灯


def test_the_centre_files_the_case_under_a_suggestion_and_the_timeline_keeps_both(
    client, street, history, dispatcher
):
    train()
    case = _reported_case(street, history["06028"], "楼下路灯坏了，晚上一片漆黑")
    client.force_login(dispatcher)
    html = client.get(
        reverse("cases:suggest_case", args=[case.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert reverse("cases:reclassify", args=[case.pk]) in html and 'value="01037"' in html

    response = client.post(reverse("cases:reclassify", args=[case.pk]), {"matter": "01037"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.matter.code == "01037"
    event = case.events.get(action="reclassify")
    assert (event.actor, event.data, event.public) == (
        dispatcher,
        {"from": "06028", "to": "01037"},
        False,
    )
    assert case.tally_dirty  # the KPIs count it under its new matter


def test_reclassifying_is_refused_with_a_reason_and_changes_nothing(
    street, history, dispatcher, handler, other_grid_worker
):
    from linli.cases.case_services import case_reclassify
    from linli.core.errors import DomainError

    case = _reported_case(street, history["06028"], "楼下路灯坏了")
    lamp = history["01037"]
    for who in (handler, other_grid_worker):
        with pytest.raises(DomainError) as refused:
            case_reclassify(case=case, actor=who, matter=lamp)
        assert refused.value.code == "forbidden"
    with pytest.raises(DomainError) as refused:
        case_reclassify(case=case, actor=dispatcher, matter=history["06028"])
    assert "already filed" in refused.value.fields["matter"][0]
    lamp.is_active = False
    lamp.save()
    with pytest.raises(DomainError) as refused:
        case_reclassify(case=case, actor=dispatcher, matter=lamp)
    assert "active matter" in refused.value.fields["matter"][0]
    lamp.is_active = True
    lamp.save()
    Case.objects.filter(pk=case.pk).update(status="dispatched")  # a department has it now
    with pytest.raises(DomainError, match="before it is dispatched"):
        case_reclassify(case=case, actor=dispatcher, matter=lamp)
    case.refresh_from_db()
    assert case.matter.code == "06028"
    assert not case.events.filter(action="reclassify").exists()


def test_the_api_files_a_case_under_another_matter(client, street, history, dispatcher, handler):
    case = _reported_case(street, history["06028"], "楼下路灯坏了")
    url = f"/api/v1/cases/{case.pk}/matter"

    def post(user, body):
        token = api_token_issue(user=user)[1]
        return client.post(
            url,
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert post(handler, {"matter": "01037"}).status_code == 404
    unknown = post(dispatcher, {"matter": "99999"})
    assert unknown.status_code == 400 and "matter" in unknown.json()["fields"]
    assert post(dispatcher, {"matter": "01037", "note": "路灯"}).status_code == 200
    case.refresh_from_db()
    assert case.matter.code == "01037"


def test_only_the_centre_of_the_case_gets_its_suggestions(
    client, street, history, grid_worker, handler, other_grid_worker, resident
):
    case = _reported_case(street, history["06010"], "楼下垃圾没人清理")
    url = reverse("cases:suggest_case", args=[case.pk])

    assert client.get(url).status_code == 302
    expected = {grid_worker: 403, handler: 404, other_grid_worker: 404, resident: 404}
    for user, status in expected.items():
        client.force_login(user)
        assert client.get(url).status_code == status, user.role


def test_the_admin_page_shows_the_models_figures(client, history, admin_user):
    report = train()
    client.force_login(admin_user)

    response = client.get(reverse("cases:suggester"))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"{report.accuracy_top1:.1%}" in html and f"{report.accuracy_top3:.1%}" in html
    assert "train_matter_suggester" in html and ">96 (of 96 closed cases)<" in html


def test_the_admin_page_says_when_there_is_no_model(client, db, admin_user):
    client.force_login(admin_user)

    html = client.get(reverse("cases:suggester")).content.decode()

    assert "Not trained yet" in html and "train_matter_suggester" in html


def test_the_admin_page_is_refused_to_everyone_but_administrators(client, street, personas):
    url = reverse("cases:suggester")
    assert client.get(url).status_code == 302
    for persona, user in personas.items():
        client.force_login(user)
        assert client.get(url).status_code == (200 if persona == "admin" else 403), persona
