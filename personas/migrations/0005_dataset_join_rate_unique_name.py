from __future__ import annotations

from django.db import migrations, models


def names_make_unique(apps, schema_editor) -> None:  # noqa: ANN001
    """Datasets imported before names were unique: a repeated name gets its id appended."""
    CensusDataset = apps.get_model("personas", "CensusDataset")
    seen: set[str] = set()
    for dataset in CensusDataset.objects.order_by("id"):
        if dataset.name in seen:
            dataset.name = f"{dataset.name} (#{dataset.pk})"[:200]
            dataset.save(update_fields=["name"])
        seen.add(dataset.name)


class Migration(migrations.Migration):
    dependencies = [("personas", "0004_persona_key_order")]

    operations = [
        migrations.AddField(
            model_name="censusdataset",
            name="housing_join_rate",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.RunPython(names_make_unique, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="censusdataset",
            name="name",
            field=models.CharField(max_length=200, unique=True),
        ),
    ]
