from __future__ import annotations

from django.urls import path

from personas import views

urlpatterns = [
    path("", views.persona_list, name="persona-list"),
    path("export.jsonl", views.persona_export, name="persona-export"),
    path("import/", views.persona_import, name="persona-import"),
    path("generate/", views.persona_generate, name="persona-generate"),
    path("enrich/", views.persona_enrich, name="persona-enrich"),
    path("census/", views.census_comparison, name="census-comparison"),
    path("census/<int:dataset_id>.csv", views.census_comparison_csv, name="census-comparison-csv"),
    path("census/<int:dataset_id>/plot/<str:key>.svg", views.census_plot, name="census-plot"),
    path("<uuid:public_id>/", views.persona_detail, name="persona-detail"),
]
