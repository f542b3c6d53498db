"""Read-only API for prompts and preference pairs."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt
from core.api.router import router


class PromptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prompt
        fields = ["id", "text", "source_id", "topic", "split", "controversy", "reject_reason", "created_at"]
        read_only_fields = fields


class PreferencePairSerializer(serializers.ModelSerializer):
    persona = serializers.SlugRelatedField(slug_field="public_id", read_only=True, allow_null=True)

    class Meta:
        model = PreferencePair
        fields = ["id", "persona", "prompt", "chosen", "rejected", "critique", "split", "verification", "created_at"]
        read_only_fields = fields


class PromptViewSet(viewsets.ReadOnlyModelViewSet):
    """Prompts (controversial prompts become preference pairs)."""

    queryset = Prompt.objects.all()
    serializer_class = PromptSerializer


class PreferencePairViewSet(viewsets.ReadOnlyModelViewSet):
    """Preference pairs: chosen (y_w) and rejected (y_l) answers; persona null = persona-independent."""

    queryset = PreferencePair.objects.select_related("persona")
    serializer_class = PreferencePairSerializer


router.register("prompts", PromptViewSet, basename="prompt")
router.register("pairs", PreferencePairViewSet, basename="pair")

# PERSONA Bench registers its viewsets on the same router.
import benchmarks.bench.api  # noqa: E402,F401
