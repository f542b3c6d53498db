"""htmx in the views: the request type of views that read ``request.htmx`` (set by django-htmx's middleware), as its
docs advise, and the redirect that keeps the old polling addresses working now that each resource has one URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.views.generic import RedirectView
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def moved_to(pattern_name: str) -> Callable[..., Any]:
    """An old address of a resource (a bookmarked page, a polling partial): a GET redirects permanently to its one
    URL, query string kept; any other method is refused (405), so the redirect can never carry a form anywhere."""
    return RedirectView.as_view(
        pattern_name=pattern_name, permanent=True, query_string=True, http_method_names=["get", "head"]
    )
