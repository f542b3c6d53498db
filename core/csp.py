"""Content-Security-Policy for every response (Django 5.2 has no built-in one; Django 6 does).

The app's pages load only their own scripts and styles (no inline ``<script>``, ``<style>`` or ``style=""``), so the
policy allows ``'self'`` and nothing else. The API documentation pages render third-party templates with inline
styles (Swagger UI) and an inline script (Redoc); their views are wrapped in ``csp_allow_inline`` and get a policy
that allows inline code on those pages only. A response that already carries a policy keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"
STRICT_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        # A participant's final submit redirects to Prolific's completion page; browsers check redirects of a
        # form submission against form-action too.
        "form-action 'self' https://app.prolific.com",
        "frame-ancestors 'none'",
    )
)
INLINE_POLICY = STRICT_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = STRICT_POLICY
        return response


def csp_allow_inline(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For third-party pages that need inline scripts and styles (the API docs): a looser policy on them only."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response[HEADER] = INLINE_POLICY
        return response

    return wrapped
