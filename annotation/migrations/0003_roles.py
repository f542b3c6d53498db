from __future__ import annotations

from django.db import migrations

from core.roles import ANALYST, COORDINATOR, role_grant

COORDINATOR_PERMISSIONS = [
    "annotation.view_study",
    "annotation.add_study",
    "annotation.change_study",
    "annotation.export_study",
    "annotation.pay_bonus",
    "annotation.view_studypersona",
    "annotation.view_slot",
    "annotation.add_slot",
    "annotation.view_question",
    "annotation.view_participant",
    "annotation.change_participant",
    "annotation.view_answer",
    "annotation.view_bonuspayment",
    "annotation.add_bonuspayment",
    "benchmarks.view_prompt",
    "benchmarks.view_preferencepair",
    "benchmarks.add_preferencepair",
]
ANALYST_PERMISSIONS = [
    "annotation.view_study",
    "annotation.export_study",
    "annotation.view_studypersona",
    "annotation.view_question",
    "annotation.view_participant",
    "annotation.view_answer",
    "benchmarks.view_prompt",
    "benchmarks.view_preferencepair",
]


def grant(apps, schema_editor):
    role_grant(apps, COORDINATOR, COORDINATOR_PERMISSIONS)
    role_grant(apps, ANALYST, ANALYST_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0002_initial"),
        ("benchmarks", "0001_initial"),
        ("core", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
