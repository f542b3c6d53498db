from __future__ import annotations

import uuid

from django.db import models

from personas.attributes import attributes_by_section


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

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        age = self.attributes.get("age", "?")
        sex = self.attributes.get("sex", "")
        return f"Persona {self.pk}: {age}, {sex}".strip(", ")

    def sections(self) -> list:
        return attributes_by_section(self.attributes)
