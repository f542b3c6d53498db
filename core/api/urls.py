from __future__ import annotations

from django.utils.module_loading import autodiscover_modules

from core.api.router import router
from core.api.views import JobViewSet

router.register("jobs", JobViewSet, basename="job")
# Importing each app's `api` module registers its viewsets on the shared router.
autodiscover_modules("api")

urlpatterns = router.urls
