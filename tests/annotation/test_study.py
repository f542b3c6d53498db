from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from annotation.models import Question, Slot, Study, StudyStatus
from annotation.services.study import (
    StudyError,
    StudySettings,
    slot_add,
    study_create,
    study_transition,
)
from personas.models import Persona, PersonaStatus
from personas.selectors import personas_select
from tests.annotation.factories import pairs_make, persona_make, study_make

pytestmark = pytest.mark.django_db


def test_study_create_makes_k_slots_and_n_questions_plus_checks() -> None:
    study = study_make(personas=3, k=4, n=5, checks=2, launch=False)
    assert study.status == StudyStatus.DRAFT
    assert study.study_personas.count() == 3
    for entry in study.study_personas.all():
        assert entry.slots.count() == 4
        questions = list(entry.questions.order_by("position"))
        assert [q.position for q in questions] == list(range(1, 8))
        assert sum(q.kind == Question.Kind.ATTENTION for q in questions) == 2
        assert questions[0].kind == Question.Kind.PAIR
    assert study.completion_code
    assert study.no_place_code
    assert study.failed_check_code


def test_pair_sampling_is_seeded_and_uses_persona_pairs() -> None:
    persona = persona_make()
    pairs_make(4)
    own = pairs_make(4, persona=persona, prefix="Own")
    config = StudySettings(name="s", pairs_per_persona=6, attention_checks=0, seed=3)
    first = study_create(config=config, personas=[persona])
    second = study_create(config=config, personas=[persona])
    picks = [list(s.study_personas.get().questions.values_list("pair_id", flat=True)) for s in (first, second)]
    assert picks[0] == picks[1]
    assert len(set(picks[0])) == 6
    assert set(picks[0]) & {p.pk for p in own}


def test_too_few_pairs_is_a_clear_error() -> None:
    persona = persona_make()
    pairs_make(2)
    with pytest.raises(StudyError, match="usable pairs"):
        study_create(config=StudySettings(name="s", pairs_per_persona=3), personas=[persona])
    assert not Study.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"majority_threshold": 5}, "majority"),
        ({"reasoning_min_chars": 50, "reasoning_max_chars": 10}, "Reasoning"),
        ({"name": " "}, "name"),
    ],
)
def test_invalid_settings_are_rejected(overrides: dict, message: str) -> None:
    persona = persona_make()
    pairs_make(10)
    with pytest.raises(StudyError, match=message):
        study_create(config=StudySettings(**{"name": "s", **overrides}), personas=[persona])


def test_personas_select_filters_and_samples_with_seed() -> None:
    people = [persona_make(i) for i in range(6)]
    picked = list(personas_select(ids=[p.pk for p in people[:4]]))
    assert picked == people[:4]
    sample = list(personas_select(sample_size=3, seed=9))
    assert len(sample) == 3
    assert sample == list(personas_select(sample_size=3, seed=9))


def test_personas_select_never_takes_pruned_personas() -> None:
    people = [persona_make(i) for i in range(4)]
    Persona.objects.filter(pk=people[0].pk).update(status=PersonaStatus.PRUNED)
    assert people[0] not in personas_select(ids=[p.pk for p in people])
    assert people[0] not in personas_select()
    assert personas_select(sample_size=10).count() == 3


def test_transitions_are_conditional() -> None:
    study = study_make(launch=False)
    study = study_transition(study=study, action="launch")
    assert study.status == StudyStatus.LIVE
    assert study.launched_at
    with pytest.raises(StudyError):
        study_transition(study=study, action="launch")
    study = study_transition(study=study, action="pause")
    study = study_transition(study=study, action="close")
    assert study.status == StudyStatus.CLOSED
    with pytest.raises(StudyError, match="closed"):
        study_transition(study=study, action="launch")


def test_database_constraints_hold() -> None:
    study = study_make(k=2)
    slot = Slot.objects.filter(study=study).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(status="reserved")  # reserved without a holder
    with pytest.raises(IntegrityError), transaction.atomic():
        Study.objects.filter(pk=study.pk).update(majority_threshold=9)


def test_slot_add_makes_a_k_plus_one_place() -> None:
    study = study_make(k=2)
    entry = study.study_personas.first()
    slot = slot_add(study_persona=entry)
    assert slot.index == 2
    assert entry.slots.count() == 3


def test_max_minutes_follows_prolific_default() -> None:
    study = study_make(estimated_minutes=16)
    assert study.max_minutes == 2 + 16 + 8


def test_a_study_with_participants_can_be_deleted() -> None:
    from annotation.services.slots import participant_enter

    study = study_make(personas=1, k=2)
    participant_enter(study=study, pid="someone")
    study.delete()
    assert not Slot.objects.exists()
