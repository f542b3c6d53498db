"""django-axes' backend, letting through authentications that carry no request (Django's test client ``login()``,
management code): throttling is about login forms, and every login form passes its request."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend


class LoginThrottleBackend(AxesStandaloneBackend):
    def authenticate(
        self, request: Any = None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
