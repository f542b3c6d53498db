# ReportSnapshot now lives in annotation; annotation 0005 has copied the rows, so the old table goes.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("annotation", "0005_reportsnapshot"),
        ("benchmarks", "0002_judges"),
    ]

    operations = [
        migrations.DeleteModel(name="ReportSnapshot"),
    ]
