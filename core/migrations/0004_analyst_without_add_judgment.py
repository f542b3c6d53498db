from __future__ import annotations

from django.db import migrations

from core.roles import ANALYST


def analyst_add_judgment_revoke(apps, schema_editor):
    # Analysts once held benchmarks.add_judgment; it gates nothing now and roles_sync only ever adds, so deployments
    # set up before keep it until it is taken away here. (No permission yet on a fresh database: nothing to do.)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    stale = permission_model.objects.filter(content_type__app_label="benchmarks", codename="add_judgment")
    for group in group_model.objects.filter(name=ANALYST):
        group.permissions.remove(*stale)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_llm"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(analyst_add_judgment_revoke, migrations.RunPython.noop)]
