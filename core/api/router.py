"""One DRF router for the whole API; each app registers its viewsets in its `api` module."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

router = DefaultRouter()
