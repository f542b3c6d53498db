from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.urls import re_path
from django.utils.module_loading import autodiscover_modules

from core.api.router import router
from core.api.views import JobViewSet

router.register("jobs", JobViewSet, basename="job")
# Importing each app's `api` module registers its viewsets on the shared router.
autodiscover_modules("api")


@login_not_required  # like the API's own views: a client without a session gets JSON, not the login page
def api_not_found(request: HttpRequest, path: str) -> JsonResponse:
    """Any other path under /api/ answers as the API does (JSON), not with the site's HTML 404 page."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [*router.urls, re_path(r"^(?P<path>.*)$", api_not_found)]
