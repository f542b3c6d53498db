"""Demo accounts for the embedded default; each app adds its own demo data through ``DEMO_STEPS``."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.roles import ANALYST, COORDINATOR


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str | None  # None when the account already existed: its password was printed back then.
    role: str


_ACCOUNTS = (("admin", "Administrator"), ("coordinator", COORDINATOR), ("analyst", ANALYST))

# Later apps append callables that write their demo data (idempotent: they skip what exists).
DEMO_STEPS: list[Callable[[], str]] = []


def demo_accounts_ensure() -> list[DemoAccount]:
    """Create the admin, coordinator and analyst accounts once, each with a fresh random password."""
    user_model = get_user_model()
    accounts = []
    for username, role in _ACCOUNTS:
        if user_model.objects.filter(username=username).exists():
            accounts.append(DemoAccount(username, None, role))
            continue
        password = secrets.token_urlsafe(12)
        if role == "Administrator":
            user_model.objects.create_superuser(username=username, password=password, email="")
        else:
            user = user_model.objects.create_user(username=username, password=password, is_staff=False)
            user.groups.add(Group.objects.get(name=role))
        accounts.append(DemoAccount(username, password, role))
    return accounts


def demo_base_url() -> str:
    """Where bin/demo serves the app (its host and port come from the same variables)."""
    host = os.environ.get("PERSONA_LAB_HOST", "127.0.0.1")
    port = os.environ.get("PERSONA_LAB_PORT", "8000")
    return f"http://{host}:{port}"


def demo_data_ensure() -> list[str]:
    return [step() for step in DEMO_STEPS]
