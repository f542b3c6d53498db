from __future__ import annotations

import operator
import uuid
from functools import reduce
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q

from personas.attributes import ATTRIBUTE_BY_KEY, ATTRIBUTE_KEYS
from personas.display import persona_sections, persona_summary
from personas.formats import PersonaRow, persona_to_text

# The ``Persona.checks`` entry of the LLM profile stage (``personas.llm_profile``).
PROFILE_CHECK = "llm_profile"


class PersonaSource(models.TextChoices):
    PUMS = "pums", "Sampled from PUMS"
    IMPORTED = "imported", "Imported"
    MANUAL = "manual", "Written by hand"


class PersonaStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CONSISTENT = "consistent", "Consistent"
    PRUNED = "pruned", "Pruned"


class PersonaSplit(models.TextChoices):
    TRAIN = "train", "Train"
    TEST = "test", "Test"


# Share of person records that find their household in the housing file. Below MIN the files cannot belong
# together (another state or year) and the import is refused; below WARN it succeeds with a loud warning.
MIN_JOIN_RATE = 0.5
WARN_JOIN_RATE = 0.95


class CensusDataset(models.Model):
    """One imported PUMS extract: its files, size, weight total and the weighted marginals of every census key.

    The person records themselves (only the columns personas need, as raw codes) live in a Parquet file under
    ``DATA_DIR/pums``; the decoding dictionary is stored with the dataset so sampling needs no other file.
    """

    name = models.CharField(max_length=200, unique=True)
    year = models.PositiveIntegerField()
    state = models.CharField(max_length=64, blank=True)
    person_file = models.CharField(max_length=255)
    housing_file = models.CharField(max_length=255, blank=True)
    # Share of person records whose household the housing file holds (None: imported without one).
    housing_join_rate = models.FloatField(null=True, blank=True)
    dictionary_file = models.CharField(max_length=255)
    rows = models.PositiveIntegerField(default=0)
    weight_total = models.BigIntegerField(default=0)
    # {attribute key: {category label: weighted count}}; census keys only.
    marginals = models.JSONField(default=dict)
    # {PUMS variable: {code: label}} for the variables the records file holds.
    codebook = models.JSONField(default=dict)
    # PUMS column used for each attribute in this extract (year drift: HHT vs HHT2, …).
    columns = models.JSONField(default=dict)
    records_path = models.CharField(max_length=255, help_text="Parquet file, relative to DATA_DIR")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(weight_total__gte=0), name="personas_dataset_weight_pos")]

    def __str__(self) -> str:
        return f"{self.name} ({self.year}, {self.rows} persons)"

    @property
    def join_warning(self) -> str:
        """What to say loudly about a partial household join; "" when it joined (nearly) fully or had no file."""
        rate = self.housing_join_rate
        if rate is None or rate >= WARN_JOIN_RATE:
            return ""
        return (
            f"only {rate:.0%} of persons found their household in {self.housing_file}: household attributes "
            "are empty for the rest"
        )

    @property
    def records_file(self) -> Path:
        return Path(settings.DATA_DIR) / self.records_path


class PersonaQuerySet(models.QuerySet["Persona"]):
    def usable(self) -> PersonaQuerySet:
        """Personas a study, a bench run or a dataset's study may use: every one not pruned (a draft is usable)."""
        return self.exclude(status=PersonaStatus.PRUNED)

    def consistent(self) -> PersonaQuerySet:
        return self.filter(status=PersonaStatus.CONSISTENT)

    def with_attribute(self, key: str, value: str) -> PersonaQuerySet:
        """Personas whose attribute ``key`` contains ``value`` (case-insensitive); "-" = the key is absent."""
        if value == "-":
            return self.exclude(**{f"attributes__{key}__isnull": False})
        return self.filter(**{f"attributes__{key}__icontains": value})

    def with_any_attribute(self, value: str) -> PersonaQuerySet:
        """Personas with some attribute value containing ``value`` (case-insensitive; keys aside)."""
        # One lookup per key looks at values only (a text search of the JSON would also match key names: "age").
        matching = (Q(**{f"attributes__{key}__icontains": value}) for key in ATTRIBUTE_KEYS)
        return self.filter(reduce(operator.or_, matching))


class Persona(models.Model):
    """A synthetic person: the 33 PERSONA attributes (absent key = not applicable) and where they came from."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attributes = models.JSONField(default=dict)
    source = models.CharField(max_length=16, choices=PersonaSource.choices, default=PersonaSource.MANUAL)
    census_record_id = models.CharField(max_length=64, blank=True)
    generation_seed = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=PersonaStatus.choices, default=PersonaStatus.DRAFT, db_index=True)
    prune_reason = models.TextField(blank=True)
    split = models.CharField(max_length=8, choices=PersonaSplit.choices, default=PersonaSplit.TRAIN)
    created_at = models.DateTimeField(auto_now_add=True)
    dataset = models.ForeignKey(
        CensusDataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="personas"
    )
    # Deterministic upsert key of a generated persona ("<dataset fingerprint>:<seed>:<index>"); a re-run never
    # duplicates, and the public id derives from it (``personas.services.generated_public_id``).
    generation_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    # Which checks ran: {"rules": [...reasons], "llm": {"verdict": ..., "reason": ...}}.
    checks = models.JSONField(default=dict, blank=True)
    # The keys in the order an imported text or object listed them (``attributes`` is jsonb, which keeps no order);
    # the line string is written in this order, so import → export is byte-identical. Empty = registry order.
    key_order = models.JSONField(default=list, blank=True)

    objects = PersonaQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        age = self.attributes.get("age", "?")
        sex = self.attributes.get("sex", "")
        return f"Persona {self.pk}: {age}, {sex}".strip(", ")

    @property
    def text(self) -> str:
        """PERSONA's ``key: value`` line string of this persona (imported ones in their own key order)."""
        return persona_to_text(self.attributes, order=self.key_order)

    def export_row(self) -> PersonaRow:
        return PersonaRow(
            id=str(self.public_id),
            key=self.generation_key,
            status=self.status,
            attributes=self.attributes,
            order=self.key_order,
            sources=self.attribute_sources,
        )

    def sections(self) -> list:
        return persona_sections(self.attributes)

    def source_rows(self) -> list[tuple[str, str, str]]:
        """(label, value, source) of every value not taken from the census, in display order."""
        sources = self.attribute_sources
        return [
            (attribute.label, value, sources.get(attribute.key, ""))
            for _title, rows in self.sections()
            for attribute, value in rows
            if sources.get(attribute.key) != "census"
        ]

    @property
    def profile_check(self) -> dict:
        """The LLM profile stage's record for this persona (empty when it did not run)."""
        return self.checks.get(PROFILE_CHECK, {})

    @property
    def attribute_sources(self) -> dict[str, str]:
        """Where each present value comes from: ``census``, ``procedural`` (drawn from the curated lists) or ``llm``
        (the registry's group, except the keys a model wrote for this persona in the LLM profile stage)."""
        written = set(self.checks.get(PROFILE_CHECK, {}).get("fields", ()))
        return {
            key: "llm" if key in written else (ATTRIBUTE_BY_KEY[key].source if key in ATTRIBUTE_BY_KEY else "imported")
            for key, value in self.attributes.items()
            if value not in (None, "")
        }

    @property
    def summary(self) -> str:
        """One readable line to tell personas apart in pickers and lists."""
        return persona_summary(pk=self.pk, attributes=self.attributes)

    @property
    def occupation(self) -> str:
        return self.attributes.get("occupation category", "")
