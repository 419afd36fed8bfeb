"""Staff security: second-factor resets, the rate-limit counters, the shared cache table.

- ``SecondFactorReset`` records a supervisor's reset of an agent's second factor.
- ``RateLimitCounter`` holds the rate limits' windows when the database is their
  store (tickets/counters.py).
- ``mesaayuda_cache``, the table of the database cache that production uses without
  CACHE_URL (settings.py): created here so that no one has to run createcachetable.
- Supervisors see django-axes' records (failed sign-ins, lock-outs, sign-ins), may lift
  a lock-out (delete an access attempt), and see the resets.

Lists frozen here, so the migration means the same thing whenever it runs.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


CACHE_TABLE = "mesaayuda_cache"

SUPERVISOR_PERMISSIONS = [
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("axes", "view_accessfailurelog"),
    ("axes", "view_accesslog"),
    ("tickets", "view_secondfactorreset"),
]


def create_cache_table(apps, schema_editor):
    from django.core.management.commands.createcachetable import Command

    # createcachetable's own table definition; it does nothing if the table exists.
    command = Command()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, CACHE_TABLE, dry_run=False)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # As in 0003_groups: on a fresh database post_migrate has not created them yet.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name="Supervisores")
    for app_label, codename in SUPERVISOR_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Supervisores").first()
    if group:
        for app_label, codename in SUPERVISOR_PERMISSIONS:
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_satisfaction"),
        ("axes", "0010_accessattemptexpiration"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RateLimitCounter",
            fields=[
                ("key", models.CharField(max_length=120, primary_key=True, serialize=False)),
                ("count", models.PositiveBigIntegerField(default=0)),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
            options={
                "verbose_name": "contador de límite",
                "verbose_name_plural": "contadores de límite",
            },
        ),
        migrations.CreateModel(
            name="SecondFactorReset",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reset_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="fecha"),
                ),
                (
                    "reset_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="restablecido por",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="second_factor_resets",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="usuario",
                    ),
                ),
            ],
            options={
                "verbose_name": "restablecimiento de segundo factor",
                "verbose_name_plural": "restablecimientos de segundo factor",
                "ordering": ["-reset_at"],
                "indexes": [
                    models.Index(fields=["user", "reset_at"], name="tickets_sec_user_id_c14e79_idx")
                ],
            },
        ),
        migrations.RunPython(create_cache_table, drop_cache_table),
        migrations.RunPython(grant, revoke),
    ]
