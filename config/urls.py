from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from core.csp import csp_allow_inline

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The schema and its docs are public (they describe, they do not expose data); every endpoint needs a login.
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    # Swagger UI's script is served as a separate file (split view); both doc pages still inline some styles.
    path(
        "api/docs/",
        login_not_required(csp_allow_inline(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        login_not_required(csp_allow_inline(SpectacularRedocView.as_view(url_name="api-schema"))),
        name="api-redoc",
    ),
    path("api/", include("core.api.urls")),
    path("personas/", include("personas.urls")),
    path("benchmarks/", include("benchmarks.urls")),
    # Annotation owns both the coordinator console and the public participant pages (/s/<study>/).
    path("", include("annotation.urls")),
    path("", include("core.urls")),
]
