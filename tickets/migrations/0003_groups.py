"""The two roles of the help desk, as groups with their permissions.

The lists are frozen here rather than imported, so that this migration means
the same thing whenever it runs.
"""

from django.db import migrations

# Agents work tickets and read everything they need to; they change no reference data.
AGENT_PERMISSIONS = [
    ("tickets", "view_ticket"),
    ("tickets", "change_ticket"),
    ("tickets", "view_reply"),
    ("tickets", "add_reply"),
    ("tickets", "view_attachment"),
    ("tickets", "add_attachment"),
    ("tickets", "view_ticketevent"),
    ("tickets", "view_category"),
    ("tickets", "view_region"),
    ("tickets", "view_regionalcontact"),
    ("tickets", "view_nonworkingday"),
    ("tickets", "view_cannedresponse"),
    ("tickets", "view_outgoingemail"),
]

# Supervisors also manage the reference data, the canned texts and the agents.
# Not delete_ticket (superusers only) and not delete_user: an agent who leaves is
# deactivated, so that their name stays on the history they wrote.
SUPERVISOR_PERMISSIONS = (
    AGENT_PERMISSIONS
    + [
        ("tickets", f"{verb}_{model}")
        for model in ["category", "region", "cannedresponse", "regionalcontact", "nonworkingday"]
        for verb in ["add", "change", "delete"]
    ]
    + [
        # "Reenviar" on a failed e-mail is a change of the outbox row.
        ("tickets", "change_outgoingemail"),
        ("auth", "view_user"),
        ("auth", "add_user"),
        ("auth", "change_user"),
        ("auth", "view_group"),
    ]
)

GROUPS = {"Agentes": AGENT_PERMISSIONS, "Supervisores": SUPERVISOR_PERMISSIONS}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # On a fresh database the permissions are created by post_migrate, after every
    # migration has run; this one needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_reference_data"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_groups, delete_groups)]
