"""The staff roles and the permissions they hold. Migrations call ``role_grant`` with frozen lists."""

from __future__ import annotations

from typing import Any

COORDINATOR = "Coordinator"
ANALYST = "Analyst"


def role_grant(apps: Any, role: str, permissions: list[str]) -> None:
    """Create the group if needed and give it ``permissions`` ("app_label.codename"), creating missing ones."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; make sure the ones we grant exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name=role)
    for dotted in permissions:
        app_label, codename = dotted.split(".", 1)
        group.permissions.add(permission_model.objects.get(content_type__app_label=app_label, codename=codename))
