from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from core.navigation import nav_items


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The nav links the signed-in user may follow (by permission, so each role sees its own pages)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [
        (item.label, reverse(item.url_name))
        for item in nav_items()
        if item.permission is None or user.has_perm(item.permission)
    ]
    if user.is_staff:
        links.append(("Admin", reverse("admin:index")))
    current = request.path
    return {
        "nav_links": [(label, url, current == url or (url != "/" and current.startswith(url))) for label, url in links]
    }
