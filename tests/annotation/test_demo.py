from __future__ import annotations

import pytest

from annotation.demo import annotation_demo_ensure
from annotation.models import Study, StudyStatus
from core.demo import DEMO_STEPS
from personas.models import Persona

pytestmark = pytest.mark.django_db


def test_demo_step_is_registered_and_idempotent() -> None:
    assert annotation_demo_ensure in DEMO_STEPS
    first = annotation_demo_ensure()
    second = annotation_demo_ensure()
    study = Study.objects.get()
    assert first == second
    assert f"/s/{study.public_id}/?PROLIFIC_PID=demo1&STUDY_ID=demo&SESSION_ID=demo1" in first
    assert study.status == StudyStatus.LIVE
    assert Persona.objects.count() == 3
    assert study.slots.count() == 3 * 2
