"""The agent workspace (issue 14): a ticket's channel, merged duplicates, and agents
may open tickets on a caller's behalf (add_ticket for both groups)."""

import django.db.models.deletion
from django.db import migrations, models

GROUPS = ["Agentes", "Supervisores"]


def grant_add_ticket(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # On a fresh database permissions are created after every migration has run.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.get(content_type__app_label="tickets", codename="add_ticket")
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(perm)


def revoke_add_ticket(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perm = Permission.objects.filter(
        content_type__app_label="tickets", codename="add_ticket"
    ).first()
    if perm:
        for group in Group.objects.filter(name__in=GROUPS):
            group.permissions.remove(perm)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0010_staff_security"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="channel",
            field=models.CharField(
                choices=[
                    ("web", "web"),
                    ("telefono", "teléfono"),
                    ("correo", "correo"),
                    ("presencial", "presencial"),
                ],
                default="web",
                max_length=12,
                verbose_name="canal",
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="merged_into",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="merged_tickets",
                to="tickets.ticket",
                verbose_name="fusionado en",
            ),
        ),
        migrations.RunPython(grant_add_ticket, revoke_add_ticket),
    ]
