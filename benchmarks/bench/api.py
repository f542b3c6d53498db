"""Read-only API: bench runs with their results tables, and their answers (filter with ?run=, ?method=, ?verdict=)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from benchmarks.bench.models import BenchAnswer, BenchRun
from benchmarks.bench.results import bench_results_cached, filter_parse
from core.api.router import router


class BenchRunSerializer(serializers.ModelSerializer):
    job_status = serializers.CharField(source="job.status", default=None, read_only=True)
    progress = serializers.IntegerField(source="job.percent", default=None, read_only=True)
    cost_usd = serializers.DecimalField(
        source="job.cost_usd", max_digits=14, decimal_places=6, default=None, read_only=True
    )

    class Meta:
        model = BenchRun
        fields = ["id", "name", "evaluation", "config", "job", "job_status", "progress", "cost_usd", "created_at"]
        read_only_fields = fields


class BenchAnswerSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="endpoint.name", read_only=True)
    persona = serializers.UUIDField(source="item.persona.public_id", read_only=True)
    question = serializers.CharField(source="item.prompt.text", read_only=True)

    class Meta:
        model = BenchAnswer
        fields = [
            "id",
            "run",
            "item",
            "persona",
            "question",
            "model",
            "method",
            "sample",
            "answer",
            "intermediate",
            "verdict",
            "critic_reasoning",
            "personalization_critique",
            "helpfulness_critique",
            "critic_error",
            "answer_error",
            "dropped_attributes",
            "input_tokens",
            "output_tokens",
            "cost_usd",
        ]
        read_only_fields = fields


class BenchRunViewSet(viewsets.ReadOnlyModelViewSet):
    """PERSONA Bench runs; ``/results/`` has every results table (``?filter=sex=Male;age=18-34`` for a slice)."""

    queryset = BenchRun.objects.select_related("job")
    serializer_class = BenchRunSerializer

    @extend_schema(
        parameters=[OpenApiParameter("filter", str, description="persona filter, e.g. sex=Male;age=18-34")],
        responses={200: dict[str, Any]},
    )
    @action(detail=True)
    def results(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        try:
            filters = filter_parse(request.query_params.get("filter", "")) or None
        except ValueError as exc:
            return Response({"detail": str(exc)}, status=400)
        return Response(bench_results_cached(run=run, filters=filters))


class BenchAnswerViewSet(viewsets.ReadOnlyModelViewSet):
    """Answers of bench runs with the critic's verdict and critiques."""

    serializer_class = BenchAnswerSerializer

    def get_queryset(self) -> Any:
        answers = BenchAnswer.objects.select_related("endpoint", "item__persona", "item__prompt").order_by("pk")
        params = self.request.query_params
        for field in ("run", "method", "verdict"):
            if value := params.get(field):
                answers = answers.filter(**{field: value})
        return answers


router.register("bench-runs", BenchRunViewSet, basename="bench-run")
router.register("bench-answers", BenchAnswerViewSet, basename="bench-answer")
