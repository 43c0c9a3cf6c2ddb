from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_fill_reported_on")]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="reported_on",
            field=models.DateField(editable=False, verbose_name="reported on"),
        ),
    ]
