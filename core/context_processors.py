from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The nav links the signed-in user may follow (by permission, so roles see their own pages)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [("Home", reverse("home"))]
    if user.has_perm("core.view_job"):
        links.append(("Jobs", reverse("job-list")))
    links.append(("API", reverse("api-docs")))
    if user.is_staff:
        links.append(("Admin", reverse("admin:index")))
    current = request.path
    return {
        "nav_links": [(label, url, current == url or (url != "/" and current.startswith(url))) for label, url in links]
    }
