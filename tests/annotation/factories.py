from __future__ import annotations

from annotation.models import Study
from annotation.services.study import StudySettings, study_create, study_transition
from benchmarks.pairs.models import PreferencePair
from benchmarks.prompts.models import Prompt, text_digest
from personas.models import Persona


def persona_make(n: int = 0) -> Persona:
    return Persona.objects.create(attributes={"age": 30 + n, "sex": "Female", "occupation category": f"Job {n}"})


def pairs_make(count: int, *, persona: Persona | None = None, prefix: str = "Prompt") -> list[PreferencePair]:
    pairs = []
    for i in range(count):
        text = f"{prefix} {i}?"
        prompt, _ = Prompt.objects.get_or_create(text_sha256=text_digest(text), defaults={"text": text})
        pairs.append(
            PreferencePair.objects.create(persona=persona, prompt=prompt, chosen=f"good {i}", rejected=f"bad {i}")
        )
    return pairs


def study_make(
    *, personas: int = 2, k: int = 4, n: int = 3, checks: int = 1, launch: bool = True, **settings: object
) -> Study:
    people = [persona_make(i) for i in range(personas)]
    if not PreferencePair.objects.filter(persona__isnull=True).count() >= n:
        pairs_make(n + 2)
    config = StudySettings(
        name="Test study",
        raters_per_persona=k,
        majority_threshold=min(3, k),
        pairs_per_persona=n,
        attention_checks=checks,
        reasoning_min_chars=settings.pop("reasoning_min_chars", 5),  # type: ignore[arg-type]
        seed=7,
        **settings,  # type: ignore[arg-type]
    )
    study = study_create(config=config, personas=people)
    return study_transition(study=study, action="launch") if launch else study


def participant_complete(
    study: Study, pid: str, *, pick: str = "chosen", reasoning: str = "Because of who they are.", elapsed_ms: int = 9000
) -> object:
    """Enter, answer every question (``pick`` on pairs, the correct reply on checks) and submit."""
    from annotation.selectors import questions_for
    from annotation.services.answers import AnswerChange, answer_open, answer_save, participant_submit
    from annotation.services.slots import participant_enter
    from benchmarks.judging.models import Order

    participant = participant_enter(study=study, pid=pid, study_param="PS1", session_param=f"sub-{pid}").participant
    for question in questions_for(participant=participant):
        answer = answer_open(participant=participant, question=question)
        wanted = "chosen" if question.is_attention else pick
        chosen_is_a = answer.order_shown == Order.CHOSEN_FIRST
        letter = "A" if (wanted == "chosen") == chosen_is_a else "B"
        answer_save(
            participant_id=participant.pk,
            study_public_id=participant.study.public_id,
            position=question.position,
            change=AnswerChange(letter=letter, reasoning=reasoning, elapsed_ms=elapsed_ms),
        )
    participant_submit(participant=participant)
    participant.refresh_from_db()
    return participant
