"""The staff roles (groups) and the permissions they hold.

Each app declares its roles' permissions in its AppConfig.ready with ``role_permissions_register``; after every
``migrate`` (and every test-database flush) ``roles_sync`` brings the groups in line with those declarations.
The core data migration creates the groups so a fresh database has them before any code runs.
"""

from __future__ import annotations

from typing import Any

COORDINATOR = "Coordinator"
ANALYST = "Analyst"

_ROLE_PERMISSIONS: dict[str, set[str]] = {COORDINATOR: set(), ANALYST: set()}


def role_permissions_register(role: str, permissions: list[str]) -> None:
    """Declare that ``role`` holds ``permissions`` ("app_label.codename")."""
    _ROLE_PERMISSIONS.setdefault(role, set()).update(permissions)


def role_permissions() -> dict[str, set[str]]:
    return {role: set(perms) for role, perms in _ROLE_PERMISSIONS.items()}


def role_grant(apps: Any, role: str, permissions: list[str]) -> None:
    """Create the group if needed and give it ``permissions``, creating missing permission rows first.

    Takes an app registry, so data migrations can call it with their historical ``apps``.
    """
    from django.contrib.auth.management import create_permissions

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


def roles_sync(**kwargs: Any) -> None:
    """post_migrate receiver: every role group exists and holds at least its declared permissions."""
    from django.contrib.auth.models import Group, Permission

    for role, permissions in _ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in sorted(permissions):
            app_label, codename = dotted.split(".", 1)
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.add(*wanted)
