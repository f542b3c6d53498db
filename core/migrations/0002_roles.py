from __future__ import annotations

from django.db import migrations

from core.roles import ANALYST, COORDINATOR


def create_groups(apps, schema_editor):
    # The groups only: their permissions are declared in each AppConfig.ready and applied after every migrate
    # (core.roles.roles_sync), so the lists live in one place.
    group_model = apps.get_model("auth", "Group")
    for role in (COORDINATOR, ANALYST):
        group_model.objects.get_or_create(name=role)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
