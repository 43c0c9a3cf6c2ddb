from django.db import migrations


def fill_reported_on(apps, schema_editor):
    """The local day of every existing report; the KPI counters are recounted from the
    timelines by `manage.py kpi_rebuild --recount` (docs/kpis.md)."""
    from django.utils import timezone

    Case = apps.get_model("cases", "Case")
    batch = []
    for case in Case.objects.only("pk", "reported_at").iterator(chunk_size=2000):
        case.reported_on = timezone.localdate(case.reported_at)
        batch.append(case)
        if len(batch) == 2000:
            Case.objects.bulk_update(batch, ["reported_on"])
            batch = []
    Case.objects.bulk_update(batch, ["reported_on"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_kpi_facts_and_exemptions")]

    operations = [migrations.RunPython(fill_reported_on, migrations.RunPython.noop)]
