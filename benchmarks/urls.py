"""Benchmark pages, mounted under ``benchmarks/``."""

from __future__ import annotations

from django.urls import path

from benchmarks import views

urlpatterns = [
    path("pairs/import/", views.pairs_import_view, name="pairs-import"),
    path("pairs/", views.pair_list, name="pair-list"),
]
