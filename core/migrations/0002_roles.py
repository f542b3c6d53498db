from __future__ import annotations

from django.db import migrations

from core.roles import ANALYST, COORDINATOR, role_grant


def grant_job_permissions(apps, schema_editor):
    role_grant(apps, COORDINATOR, ["core.view_job", "core.add_job", "core.change_job", "core.view_statistic"])
    role_grant(apps, ANALYST, ["core.view_job", "core.view_statistic"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant_job_permissions, migrations.RunPython.noop)]
