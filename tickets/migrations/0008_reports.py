"""Reports for supervisors (issue 19): measures stored on each ticket, an export kind in the access log.

Fills the first public answer (time, author, business hours) and the business hours to
closure for the tickets that exist, so that the reports are aggregates from day one, and
gives the Supervisores group the new "view_reports" permission.

The business hours come from tickets/business_calendar.py (pure functions, no models), the
same arithmetic the verbs use; the extra days off are read from the historical model.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from tickets import business_calendar

BATCH = 1000


def _hours(start, end, subdiv, extra):
    return round(
        business_calendar.business_hours_between(
            start, end, subdiv=subdiv, extra_days=extra
        ).total_seconds()
        / 3600,
        4,
    )


def fill_measures(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Reply = apps.get_model("tickets", "Reply")
    NonWorkingDay = apps.get_model("tickets", "NonWorkingDay")
    national, regional = set(), {}
    for day, region_id in NonWorkingDay.objects.values_list("date", "region_id"):
        (national if region_id is None else regional.setdefault(region_id, set())).add(day)

    first = Reply.objects.filter(ticket=OuterRef("pk"), kind="agent", is_internal=False).order_by(
        "created_at", "pk"
    )
    q = (
        Ticket.objects.annotate(
            answer_at=Subquery(first.values("created_at")[:1]),
            answer_by=Subquery(first.values("author")[:1]),
        )
        .select_related("region")
        .only("pk", "created_at", "closed_at", "region__holiday_subdiv", "region_id")
        .order_by("pk")
    )
    batch = []
    for t in q.iterator(chunk_size=BATCH):
        extra = national | regional.get(t.region_id, set())
        subdiv = t.region.holiday_subdiv
        t.first_public_answer_at, t.first_answer_by_id = t.answer_at, t.answer_by
        if t.answer_at:
            t.first_answer_business_hours = _hours(t.created_at, t.answer_at, subdiv, extra)
        if t.closed_at:
            t.resolution_business_hours = _hours(t.created_at, t.closed_at, subdiv, extra)
        if t.answer_at or t.closed_at:
            batch.append(t)
        if len(batch) >= BATCH:
            _save(Ticket, batch)
            batch = []
    _save(Ticket, batch)


def _save(Ticket, batch):
    Ticket.objects.bulk_update(
        batch,
        [
            "first_public_answer_at",
            "first_answer_by",
            "first_answer_business_hours",
            "resolution_business_hours",
        ],
    )


def grant_reports(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # As in 0003_groups: on a fresh database post_migrate has not created it yet.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(content_type__app_label="tickets", codename="view_reports")
    for group in Group.objects.filter(name="Supervisores"):
        group.permissions.add(permission)


def revoke_reports(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="tickets", codename="view_reports").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_hesk_import"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="ticket",
            options={
                "ordering": ["-created_at"],
                "permissions": [("view_reports", "Puede ver los informes y exportar")],
                "verbose_name": "ticket",
                "verbose_name_plural": "tickets",
            },
        ),
        migrations.AddField(
            model_name="accesslog",
            name="details",
            field=models.CharField(blank=True, max_length=500, verbose_name="detalle"),
        ),
        migrations.AddField(
            model_name="ticket",
            name="first_answer_business_hours",
            field=models.FloatField(
                blank=True,
                editable=False,
                null=True,
                verbose_name="horas hábiles hasta la primera respuesta",
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="first_answer_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="primera respuesta de",
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="first_public_answer_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="primera respuesta"
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="resolution_business_hours",
            field=models.FloatField(
                blank=True, editable=False, null=True, verbose_name="horas hábiles hasta el cierre"
            ),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="kind",
            field=models.CharField(
                choices=[
                    ("admin_view", "Vista en admin"),
                    ("admin_download", "Descarga en admin"),
                    ("public_view", "Vista pública"),
                    ("public_download", "Descarga pública"),
                    ("export", "Exportación"),
                ],
                max_length=16,
                verbose_name="tipo",
            ),
        ),
        migrations.AlterField(
            model_name="accesslog",
            name="ticket",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="accesses",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["closed_at"], name="ticket_closed"),
        ),
        migrations.AddIndex(
            model_name="ticketevent",
            index=models.Index(fields=["field", "created_at"], name="event_field_created"),
        ),
        migrations.RunPython(fill_measures, migrations.RunPython.noop),
        migrations.RunPython(grant_reports, revoke_reports),
    ]
