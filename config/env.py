"""Typed readers for environment variables.

A missing or malformed variable stops start-up with one line that names it (``EnvironmentVariableError`` is a
``SystemExit``, so manage.py, gunicorn and celery print the message and exit without a traceback).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvironmentVariableError(SystemExit):
    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"Persona Lab cannot start: environment variable {name} {problem}")


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise EnvironmentVariableError(name, "is required but not set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvironmentVariableError(name, f"must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvironmentVariableError(name, f"must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise EnvironmentVariableError(name, f"must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, *, schemes: tuple[str, ...]) -> str | None:
    """A URL whose scheme is one of ``schemes``; None when unset."""
    value = env_str(name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        raise EnvironmentVariableError(
            name,
            f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}, got {parts.scheme or value!r}",
        )
    return value
