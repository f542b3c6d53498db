"""Read-only REST API for study reports: the report JSON, each table (JSON or CSV) and each figure (PNG or SVG).

Registered on the shared router when ``annotation.api`` (discovered by core) imports this module.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from annotation.models import Study
from annotation.reports.figures import FIGURES, figure_render
from annotation.reports.services import ReportState, report_ensure, study_has_completed_participants
from core.api.router import router
from core.report_kit import FIGURE_FORMATS, TABLE_FORMATS, table_csv

VIEW_REPORT = "annotation.view_reportsnapshot"
# Computed here: inside the viewset body, ``list`` is the action method.
FIGURE_NAMES = list(FIGURES)
FIGURE_FORMAT_NAMES = list(FIGURE_FORMATS)


class CanViewReports(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(VIEW_REPORT))


class StudyReportLinkSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    name = serializers.CharField()
    url = serializers.CharField()


class StudyReportSerializer(serializers.Serializer):
    study = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["fresh", "stale", "computing", "empty"])
    job = serializers.IntegerField(
        required=False, allow_null=True, help_text="The job computing the report; absent when status is empty"
    )
    computed_at = serializers.DateTimeField(required=False, allow_null=True)
    report = serializers.DictField(
        required=False, allow_null=True, help_text="The report: tables, figures, notes; absent when status is empty"
    )


STUDY_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="the study's id")


def _study_id(pk: str) -> int:
    if not pk.isdigit():
        raise Http404("Study ids are whole numbers.")
    return int(pk)


def _status(state: ReportState | None) -> str:
    if state is None:
        return "empty"
    if state.fresh:
        return "fresh"
    return "stale" if state.snapshot is not None else "computing"


class StudyReportViewSet(viewsets.ViewSet):
    """Study reports: human majority, individual humans and judges compared (kappa, n, ties, position bias, …).

    ``status`` is ``fresh`` (computed from the current answers and judgments), ``stale`` (inputs changed; the
    previous report is returned while a job recomputes it), ``computing`` (no report yet; try again shortly) or
    ``empty`` (no completed participants). Undefined statistics are ``null``, never 0.
    """

    permission_classes = [CanViewReports]
    # Anything up to the next slash reaches the view, so a malformed id is DRF's JSON 404, not Django's HTML one.
    lookup_value_regex = r"[^/]+"

    def _state(self, request: Request, pk: str) -> tuple[Study, ReportState | None]:
        study = get_object_or_404(Study, pk=_study_id(pk))
        if not study_has_completed_participants(study=study):
            return study, None
        return study, report_ensure(study=study, started_by=request.user)

    def _data(self, request: Request, pk: str) -> dict[str, Any]:
        _, state = self._state(request, pk)
        if state is None or not state.data or state.data.get("empty"):
            raise Http404("This study has no computed report yet.")
        return state.data

    @extend_schema(responses=StudyReportLinkSerializer(many=True), operation_id="study_reports_list")
    def list(self, request: Request) -> Response:
        studies = Study.objects.order_by("-created_at", "-id")
        return Response([{"study": s.pk, "name": s.name, "url": f"{request.path}{s.pk}/"} for s in studies])

    @extend_schema(parameters=[STUDY_ID], responses=StudyReportSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        study, state = self._state(request, pk)
        body: dict[str, Any] = {"study": study.pk, "name": study.name, "status": _status(state)}
        if state is not None:
            body["job"] = state.job.pk if state.job else None
            body["computed_at"] = state.snapshot.computed_at if state.snapshot else None
            body["report"] = state.full_data()
        return Response(body)

    @extend_schema(
        parameters=[
            STUDY_ID,
            OpenApiParameter("name", str, OpenApiParameter.PATH, description="table name, e.g. pairwise"),
            OpenApiParameter("as", str, description="csv for a CSV file instead of JSON", enum=["json", "csv"]),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], url_path=r"tables/(?P<name>[^/]+)")
    def table(self, request: Request, pk: str, name: str) -> Response | HttpResponse:
        """One table of the report: ``title``, ``columns``, ``rows``, ``note``; ``?as=csv`` for CSV."""
        tables = self._data(request, pk)["tables"]
        if name not in tables:
            raise Http404("No such table.")
        if request.query_params.get("as") == "csv":
            return HttpResponse(table_csv(tables[name]), content_type=TABLE_FORMATS["csv"])
        return Response(tables[name])

    @extend_schema(
        parameters=[
            STUDY_ID,
            OpenApiParameter("name", str, OpenApiParameter.PATH, enum=FIGURE_NAMES),
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=FIGURE_FORMAT_NAMES),
        ],
        responses={(200, "image/png"): OpenApiTypes.BINARY, (200, "image/svg+xml"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], url_path=r"figures/(?P<name>[^/]+)\.(?P<fmt>[^/.]+)")
    def figure(self, request: Request, pk: str, name: str, fmt: str) -> HttpResponse:
        """One figure of the report as PNG or SVG (matplotlib, drawn on the server)."""
        data = self._data(request, pk)
        if name not in FIGURES or fmt not in FIGURE_FORMATS:
            raise Http404("No such figure.")
        return HttpResponse(figure_render(report=data, name=name, fmt=fmt), content_type=FIGURE_FORMATS[fmt])


router.register("study-reports", StudyReportViewSet, basename="api-study-report")
