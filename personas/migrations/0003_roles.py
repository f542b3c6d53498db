from __future__ import annotations

from django.db import migrations

from core.roles import ANALYST, COORDINATOR, role_grant


def grant_persona_permissions(apps, schema_editor):
    view = ["personas.view_persona", "personas.view_censusdataset"]
    role_grant(apps, COORDINATOR, [*view, "personas.add_persona"])
    role_grant(apps, ANALYST, view)


class Migration(migrations.Migration):
    dependencies = [
        ("personas", "0002_census_dataset"),
        ("core", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant_persona_permissions, migrations.RunPython.noop)]
