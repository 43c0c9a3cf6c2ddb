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
