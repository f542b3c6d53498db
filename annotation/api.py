"""Read-only API: studies, participants (Prolific IDs only for coordinators) and answers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets

from annotation.models import Answer, Participant, Study
from core.api.router import router


class StudySerializer(serializers.ModelSerializer):
    personas = serializers.SerializerMethodField()

    class Meta:
        model = Study
        fields = [
            "id",
            "public_id",
            "name",
            "status",
            "raters_per_persona",
            "majority_threshold",
            "pairs_per_persona",
            "attention_checks",
            "reasoning_min_chars",
            "reasoning_max_chars",
            "estimated_minutes",
            "max_minutes",
            "personas",
            "created_at",
            "launched_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_personas(self, study: Study) -> list[str]:
        return [str(entry.persona.public_id) for entry in study.study_personas.all()]


class ParticipantSerializer(serializers.ModelSerializer):
    persona = serializers.SerializerMethodField()
    # Not read-only in the schema on purpose: a read-only field is documented as always present, and this one is
    # dropped for users who do not manage participants (analysts).
    prolific_pid = serializers.CharField(required=False, help_text="Only for users who manage participants")

    class Meta:
        model = Participant
        fields = [
            "id",
            "study",
            "persona",
            "prolific_pid",
            "status",
            "review",
            "failed_attention_check",
            "entered_at",
            "started_at",
            "submitted_at",
            "released_at",
            "bonus",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_persona(self, participant: Participant) -> str | None:
        entry = participant.study_persona
        return str(entry.persona.public_id) if entry else None

    def to_representation(self, instance: Participant) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        # Prolific IDs identify people on Prolific: only those who manage participants see them.
        if request is None or not request.user.has_perm("annotation.change_participant"):
            data.pop("prolific_pid", None)
        return data


class AnswerSerializer(serializers.ModelSerializer):
    question_position = serializers.IntegerField(source="question.position", read_only=True)
    question_kind = serializers.CharField(source="question.kind", read_only=True)
    pair = serializers.IntegerField(
        source="question.pair_id", read_only=True, allow_null=True, help_text="null for an attention check"
    )

    class Meta:
        model = Answer
        fields = [
            "id",
            "participant",
            "question_position",
            "question_kind",
            "pair",
            "order_shown",
            "choice",
            "reasoning",
            "pasted",
            "revisions",
            "time_ms",
            "first_shown_at",
            "updated_at",
        ]
        read_only_fields = fields


class StudyViewSet(viewsets.ReadOnlyModelViewSet):
    """Annotation studies with their settings and persona public ids."""

    queryset = Study.objects.prefetch_related("study_personas__persona")
    serializer_class = StudySerializer


class ParticipantViewSet(viewsets.ReadOnlyModelViewSet):
    """Participants (never previews); `?study=<id>` filters. Prolific IDs only for coordinators."""

    queryset = Participant.objects.filter(is_preview=False).select_related("study_persona__persona")
    serializer_class = ParticipantSerializer

    def get_queryset(self) -> QuerySet[Participant]:
        queryset = super().get_queryset()
        study = self.request.query_params.get("study", "")
        return queryset.filter(study_id=study) if study.isdigit() else queryset


class AnswerViewSet(viewsets.ReadOnlyModelViewSet):
    """Answers of real participants; `?study=<id>` and `?participant=<id>` filter."""

    queryset = Answer.objects.filter(participant__is_preview=False).select_related("question")
    serializer_class = AnswerSerializer

    def get_queryset(self) -> QuerySet[Answer]:
        queryset = super().get_queryset()
        for param, lookup in (("study", "participant__study_id"), ("participant", "participant_id")):
            value = self.request.query_params.get(param, "")
            if value.isdigit():
                queryset = queryset.filter(**{lookup: value})
        return queryset


router.register("studies", StudyViewSet, basename="study")
router.register("participants", ParticipantViewSet, basename="participant")
router.register("answers", AnswerViewSet, basename="answer")

# The study report endpoints live with the reports.
import annotation.reports.api  # noqa: E402, F401
