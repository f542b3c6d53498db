"""One rule for "personas a study may use": ``PersonaQuerySet.usable()``, which every selection calls."""

from __future__ import annotations

import pytest

from personas.models import Persona, PersonaStatus
from personas.selectors import personas_select
from tests.personas.factories import PersonaFactory

pytestmark = pytest.mark.django_db


def test_usable_leaves_out_pruned_personas_only() -> None:
    draft, consistent, _ = (PersonaFactory(status=status) for status in PersonaStatus.values)
    assert list(Persona.objects.usable().order_by("pk")) == [draft, consistent]
    assert list(personas_select().values_list("pk", flat=True)) == [draft.pk, consistent.pk]
