"""The staff roles (groups) and the permissions they hold.

Each app declares its roles' permissions in its AppConfig.ready with ``role_permissions_register``; after every
``migrate`` (and every test-database flush) ``roles_sync`` brings the groups in line with those declarations.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

COORDINATOR = "Coordinator"
ANALYST = "Analyst"

_ROLE_PERMISSIONS: dict[str, set[str]] = {COORDINATOR: set(), ANALYST: set()}


def role_permissions_register(role: str, permissions: list[str]) -> None:
    """Declare that ``role`` holds ``permissions`` ("app_label.codename")."""
    _ROLE_PERMISSIONS.setdefault(role, set()).update(permissions)


def roles_sync(**kwargs: Any) -> None:
    """post_migrate receiver: every role group exists and holds at least its declared permissions."""
    for role, permissions in _ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in sorted(permissions):
            app_label, codename = dotted.split(".", 1)
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                wanted.append(permission)
        group.permissions.add(*wanted)
