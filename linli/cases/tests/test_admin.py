from django.urls import reverse

from linli.cases.models import Matter


def test_the_admin_lists_searches_and_edits_matters_but_never_deletes_them(
    client, catalogue, admin_user
):
    client.force_login(admin_user)
    response = client.get(reverse("admin:cases_matter_changelist"), {"q": "0100"})
    assert response.status_code == 200
    assert "供水井盖" in response.content.decode()
    response = client.get(reverse("admin:cases_matter_changelist"), {"q": "违建"})
    assert "私搭乱建" in response.content.decode()

    matter = Matter.objects.get(code="01001")
    page = client.get(reverse("admin:cases_matter_change", args=[matter.pk]))
    assert page.status_code == 200
    assert "井盖状态" in page.content.decode()
    response = client.get(reverse("admin:cases_matter_delete", args=[matter.pk]))
    assert response.status_code == 403

    question = matter.questions.get(code="cover_state")
    page = client.get(reverse("admin:cases_matterquestion_change", args=[question.pk]))
    assert page.status_code == 200
    assert "移位" in page.content.decode()
    for name in ("admin:cases_matterclass_changelist", "admin:cases_matterquestion_changelist"):
        assert client.get(reverse(name)).status_code == 200


def test_cases_are_shown_in_the_admin_and_never_changed_there(client, matter, admin_user):
    from linli.cases.case_services import case_report

    case = case_report(
        matter=matter,
        description="路边有一堆垃圾",
        lon=118.605,
        lat=37.405,
        source="hotline",
        contact_name="王先生",
        contact_phone="13812345678",
    )
    client.force_login(admin_user)
    listing = client.get(reverse("admin:cases_case_changelist"), {"q": case.number})
    assert listing.status_code == 200 and case.number in listing.content.decode()
    page = client.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert "138****5678" in page
    assert "13812345678" not in page and case.contact_phone_encrypted not in page
    assert 'name="status"' not in page  # shown, not editable
    before = case.status
    client.post(reverse("admin:cases_case_change", args=[case.pk]), {"status": "closed"})
    case.refresh_from_db()
    assert case.status == before
    assert client.get(reverse("admin:cases_case_delete", args=[case.pk])).status_code == 403
    assert client.get(reverse("admin:cases_case_add")).status_code == 403
    for name in ("admin:cases_extension_changelist", "admin:cases_whistle_changelist"):
        assert client.get(reverse(name)).status_code == 200
