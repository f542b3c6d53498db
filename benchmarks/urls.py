from __future__ import annotations

from django.urls import include, path

urlpatterns: list = [path("bench/", include("benchmarks.bench.urls"))]
