# ReportSnapshot moves from benchmarks to annotation (only the study reports use it): create the table here, copy the
# stored snapshots over, then benchmarks 0003 drops its table. Plain SQL keeps every column as it was (computed_at too).

import django.db.models.deletion
from django.db import migrations, models


def snapshots_copy(apps, schema_editor):
    source = apps.get_model("benchmarks", "ReportSnapshot")._meta.db_table
    target = apps.get_model("annotation", "ReportSnapshot")._meta.db_table
    quote = schema_editor.quote_name
    columns = ", ".join(quote(c) for c in ("scope", "fingerprint", "data", "job_id", "computed_at"))
    schema_editor.execute(f"INSERT INTO {quote(target)} ({columns}) SELECT {columns} FROM {quote(source)}")


def snapshots_copy_back(apps, schema_editor):
    source = apps.get_model("annotation", "ReportSnapshot")._meta.db_table
    target = apps.get_model("benchmarks", "ReportSnapshot")._meta.db_table
    quote = schema_editor.quote_name
    columns = ", ".join(quote(c) for c in ("scope", "fingerprint", "data", "job_id", "computed_at"))
    schema_editor.execute(f"INSERT INTO {quote(target)} ({columns}) SELECT {columns} FROM {quote(source)}")


class Migration(migrations.Migration):

    dependencies = [
        ("annotation", "0004_participant_persona_cascade"),
        ("benchmarks", "0002_judges"),
        ("core", "0003_llm"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportSnapshot",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("scope", models.CharField(max_length=100, unique=True)),
                ("fingerprint", models.CharField(max_length=64)),
                ("data", models.JSONField(default=dict)),
                ("computed_at", models.DateTimeField(auto_now=True)),
                (
                    "job",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="core.job",
                    ),
                ),
            ],
            options={"ordering": ["scope"]},
        ),
        migrations.RunPython(snapshots_copy, snapshots_copy_back),
    ]
