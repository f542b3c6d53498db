from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import viewsets

from core.api.serializers import JobSerializer
from core.models import Job


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Background jobs with their progress, token usage and cost (newest first)."""

    queryset = Job.objects.listed().select_related("started_by")
    serializer_class = JobSerializer

    def get_queryset(self) -> QuerySet[Job]:
        queryset = super().get_queryset()
        for field in ("kind", "status"):
            value = self.request.query_params.get(field)
            if value:
                queryset = queryset.filter(**{field: value})
        return queryset
