# Fields that tie imported rows to their HESK originals (manage.py import_hesk).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0006_inbound_mail"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="hesk_id",
            field=models.PositiveIntegerField(
                blank=True, editable=False, null=True, unique=True, verbose_name="ID en HESK"
            ),
        ),
        migrations.AddField(
            model_name="reply",
            name="hesk_ref",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=20,
                null=True,
                unique=True,
                verbose_name="referencia HESK",
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="hesk_history",
            field=models.TextField(blank=True, editable=False, verbose_name="historial importado"),
        ),
        migrations.AddField(
            model_name="ticket",
            name="hesk_lastchange",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="última modificación en HESK"
            ),
        ),
    ]
