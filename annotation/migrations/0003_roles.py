from __future__ import annotations

from django.db import migrations

# Permissions are declared once, in each app's AppConfig.ready (core.roles.role_permissions_register), and applied by
# core.roles.roles_sync after every migrate; this migration is kept (empty) so the migration graph stays intact.


class Migration(migrations.Migration):
    dependencies = [
        ("annotation", "0002_initial"),
        ("benchmarks", "0001_initial"),
        ("core", "0002_roles"),
    ]

    operations: list = []
