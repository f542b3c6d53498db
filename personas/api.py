from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from core.api.router import router
from personas.formats import persona_to_dict
from personas.models import CensusDataset, Persona


class PersonaSerializer(serializers.ModelSerializer):
    attributes = serializers.SerializerMethodField(help_text="The 33 PERSONA keys; null = not applicable")
    persona = serializers.SerializerMethodField(help_text="PERSONA's 'key: value' line string")
    sources = serializers.SerializerMethodField(
        help_text="Where each present value comes from: census, procedural (curated draw) or llm"
    )
    dataset = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Persona
        fields = (
            "public_id",
            "status",
            "prune_reason",
            "source",
            "split",
            "dataset",
            "census_record_id",
            "generation_seed",
            "attributes",
            "persona",
            "sources",
            "created_at",
        )

    def get_attributes(self, persona: Persona) -> dict[str, str | None]:
        return persona_to_dict(persona.attributes)

    def get_persona(self, persona: Persona) -> str:
        return persona.text

    def get_sources(self, persona: Persona) -> dict[str, str]:
        return persona.attribute_sources


class CensusDatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = CensusDataset
        fields = (
            "id",
            "name",
            "year",
            "state",
            "person_file",
            "housing_file",
            "dictionary_file",
            "rows",
            "weight_total",
            "marginals",
            "created_at",
        )


class PersonaViewSet(viewsets.ReadOnlyModelViewSet):
    """Personas with their 33 attributes; filter with ?status=, ?source=, ?split=, ?dataset=."""

    queryset = Persona.objects.all()
    serializer_class = PersonaSerializer
    lookup_field = "public_id"

    def get_queryset(self) -> QuerySet[Persona]:
        queryset = super().get_queryset()
        for field in ("status", "source", "split", "dataset"):
            value = self.request.query_params.get(field)
            if value:
                queryset = queryset.filter(**{field: value})
        return queryset


class CensusDatasetViewSet(viewsets.ReadOnlyModelViewSet):
    """Imported PUMS extracts with their weighted marginals per census attribute."""

    queryset = CensusDataset.objects.all()
    serializer_class = CensusDatasetSerializer


router.register("personas", PersonaViewSet, basename="persona")
router.register("census-datasets", CensusDatasetViewSet, basename="census-dataset")
