"""Login throttling that fails closed: with the cache that counts failed logins (Redis) unreachable, every login
is refused with a page that says why (503), never a 500 and never an unthrottled login.

Failing open here would let anyone guess passwords without limit for as long as Redis is down (or could be made to
look down); coordinators wait a few minutes instead. Participants never log in, so they are not affected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axes.handlers.cache import AxesCacheHandler
from django.http import HttpRequest, HttpResponse

from core.cache import CACHE_ERRORS, cache_unreachable

UNAVAILABLE_ATTRIBUTE = "login_throttle_unavailable"
_REFUSED = "login throttling: logins refused until it is back"


class LoginThrottleCacheHandler(AxesCacheHandler):
    """django-axes' cache handler; where it cannot reach the cache, a login is refused and the request marked."""

    def is_allowed(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        try:
            return super().is_allowed(request, credentials)
        except CACHE_ERRORS as exc:
            cache_unreachable(_REFUSED, exc)
            setattr(request, UNAVAILABLE_ATTRIBUTE, True)
            request.axes_locked_out = True  # django-axes' middleware then answers with the locked-out page
            return False

    # The signal handlers record what happened; without the cache there is nothing to record it in. The refusal
    # above already happened, so dropping the record loses nothing.
    def user_login_failed(self, sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except CACHE_ERRORS as exc:
            cache_unreachable(_REFUSED, exc)

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        try:
            super().user_logged_in(sender, request, user, **kwargs)
        except CACHE_ERRORS as exc:
            cache_unreachable(_REFUSED, exc)

    def user_logged_out(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        try:
            super().user_logged_out(sender, request, user, **kwargs)
        except CACHE_ERRORS as exc:
            cache_unreachable(_REFUSED, exc)


def throttle_unavailable(request: HttpRequest) -> bool:
    """Whether this request's login was refused because the login counts could not be read."""
    return bool(getattr(request, UNAVAILABLE_ATTRIBUTE, False))


class LoginThrottleUnavailableMiddleware:
    """Just above django-axes' middleware (which renders ``registration/locked_out.html``): the refusal answers 503
    rather than 429 when its cause is the throttle's store being unreachable, since nothing the user did caused it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if throttle_unavailable(request):
            response.status_code = 503
            response["Retry-After"] = "60"
        return response
