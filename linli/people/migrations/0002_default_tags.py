from django.db import migrations


def add_tags(apps, schema_editor):
    from linli.people.tags import DEFAULT_TAGS

    Tag = apps.get_model("people", "Tag")
    for sort, (code, name, category, sensitive, graded, days) in enumerate(DEFAULT_TAGS):
        Tag.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "category": category,
                "is_sensitive": sensitive,
                "has_grade": graded,
                "visit_interval_days": days,
                "sort": sort,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(add_tags, migrations.RunPython.noop)]
