"""Study report pages and downloads, mounted under ``studies/<int:study_id>/report/`` by ``annotation.urls``."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
