"""Study set-up and lifecycle: choose personas, sample each persona's pairs, create slots and questions."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from annotation.models import (
    REASONING_HARD_CAP,
    Participant,
    Question,
    Slot,
    SlotStatus,
    Study,
    StudyPersona,
    StudyStatus,
)
from benchmarks.pairs.models import PreferencePair, PreferencePairQuerySet
from core.db_stats import tables_analyze
from personas.models import Persona

DEFAULT_INSTRUCTIONS = """\
In this study you will step into someone else's shoes. We will show you a short profile of one person: their age,
work, household, personality and views. Please read it carefully; you can reopen it at any time.

You will then see a series of questions. Each has a prompt someone typed into an AI assistant, followed by two
possible replies, A and B. Decide which reply THIS person would prefer — not which one you would prefer — and
explain in a few sentences why, thinking about who they are.

There are no right or wrong answers, except for a few clearly marked checks that tell you exactly what to pick.
Please write your explanations yourself: do not use ChatGPT or any other AI tool, and do not copy text from
elsewhere. Your answers are saved as you go, and you can go back and change them until you press "Submit".
"""

# Instructed-response items: they tell the participant exactly what to choose (Prolific's rules for checks).
ATTENTION_ITEMS = (
    (
        "This question checks that you are reading carefully. Please choose the reply that begins with "
        '"Blue", and write "check" as your reason.',
        "Blue: I have read the instructions for this question.",
        "Green: I did not read the instructions for this question.",
    ),
    (
        "Quality check: whatever the person's profile says, please pick the reply that mentions an apple, "
        'and write "apple" as your reason.',
        "An apple a day: this is the reply you were asked to pick.",
        "A banana a day: this is not the reply you were asked to pick.",
    ),
    (
        'To show you are paying attention, select the reply that contains the number 7 and type "seven" '
        "as your reason.",
        "The number in this reply is 7.",
        "The number in this reply is 4.",
    ),
)


class StudyError(Exception):
    """A study request that cannot be carried out; the message is fit to show the coordinator."""


@dataclass(frozen=True)
class StudySettings:
    name: str
    pairs_per_persona: int = 10
    raters_per_persona: int = 4
    majority_threshold: int = 3
    attention_checks: int = 1
    reasoning_min_chars: int = 30
    reasoning_max_chars: int = 1500
    block_paste: bool = False
    estimated_minutes: int = 20
    max_minutes_override: int | None = None
    instructions: str = DEFAULT_INSTRUCTIONS
    completion_code: str = ""
    failed_check_code: str = ""
    no_place_code: str = ""
    seed: int = 0


def _code() -> str:
    return secrets.token_hex(4).upper()


def _check_settings(config: StudySettings) -> None:
    if not config.name.strip():
        raise StudyError("Give the study a name.")
    if config.raters_per_persona < 1:
        raise StudyError("Each persona needs at least one rater.")
    if not 1 <= config.majority_threshold <= config.raters_per_persona:
        raise StudyError("The majority threshold must be between 1 and the number of raters per persona.")
    if config.pairs_per_persona < 1:
        raise StudyError("Each persona needs at least one question.")
    if config.attention_checks < 0 or config.attention_checks > len(ATTENTION_ITEMS):
        raise StudyError(f"Use between 0 and {len(ATTENTION_ITEMS)} attention checks.")
    if not 0 <= config.reasoning_min_chars <= config.reasoning_max_chars <= REASONING_HARD_CAP:
        raise StudyError(f"Reasoning limits must satisfy 0 ≤ minimum ≤ maximum ≤ {REASONING_HARD_CAP}.")
    if config.estimated_minutes < 1:
        raise StudyError("The estimated time must be at least one minute.")


def _questionnaire(entry: StudyPersona, pairs: list[PreferencePair], n_checks: int) -> list[Question]:
    """The persona's questions in order: the sampled pairs with the checks spread through, never first."""
    items: list[PreferencePair | int] = list(pairs)
    for i in range(n_checks):
        at = min(len(items), max(1, round(len(pairs) * (i + 1) / (n_checks + 1)) + i))
        items.insert(at, i)
    questions = []
    for position, item in enumerate(items, start=1):
        if isinstance(item, int):
            prompt, correct, wrong = ATTENTION_ITEMS[item % len(ATTENTION_ITEMS)]
            questions.append(
                Question(
                    study_persona=entry,
                    position=position,
                    kind=Question.Kind.ATTENTION,
                    check_prompt=prompt,
                    check_correct=correct,
                    check_wrong=wrong,
                )
            )
        else:
            questions.append(Question(study_persona=entry, position=position, pair=item))
    return questions


def _pairs_plan(
    config: StudySettings, personas: Sequence[Persona], pairs: PreferencePairQuerySet | None
) -> list[tuple[Persona, list[PreferencePair]]]:
    """Each persona's seeded sample of n usable pairs from ``pairs`` (all pairs when None): the shared ones plus
    those written for that persona. Raises ``StudyError`` naming the first persona with too few."""
    base = (pairs if pairs is not None else PreferencePair.objects.all()).usable().select_related("prompt")
    persona_ids = [p.pk for p in personas]
    shared: list[PreferencePair] = []
    own: dict[int, list[PreferencePair]] = {}
    for pair in base.filter(Q(persona__isnull=True) | Q(persona_id__in=persona_ids)).order_by("id"):
        if pair.persona_id is None:
            shared.append(pair)
        else:
            own.setdefault(pair.persona_id, []).append(pair)
    plan: list[tuple[Persona, list[PreferencePair]]] = []
    for persona in personas:
        candidates = sorted([*shared, *own.get(persona.pk, [])], key=lambda pair: pair.pk)
        if len(candidates) < config.pairs_per_persona:
            raise StudyError(
                f"Persona #{persona.pk} has {len(candidates)} usable pairs among the chosen ones; the study needs "
                f"{config.pairs_per_persona} per persona. Choose more pairs or fewer questions."
            )
        rng = random.Random(f"{config.seed}:{persona.pk}")
        plan.append((persona, rng.sample(candidates, config.pairs_per_persona)))
    return plan


def _study_fields(config: StudySettings) -> dict[str, object]:
    return {
        "name": config.name.strip()[:200],
        "instructions": config.instructions.strip() or DEFAULT_INSTRUCTIONS,
        "raters_per_persona": config.raters_per_persona,
        "majority_threshold": config.majority_threshold,
        "pairs_per_persona": config.pairs_per_persona,
        "attention_checks": config.attention_checks,
        "reasoning_min_chars": config.reasoning_min_chars,
        "reasoning_max_chars": config.reasoning_max_chars,
        "block_paste": config.block_paste,
        "estimated_minutes": config.estimated_minutes,
        "max_minutes_override": config.max_minutes_override,
        "seed": config.seed,
    }


def _questionnaires_create(
    study: Study, config: StudySettings, plan: list[tuple[Persona, list[PreferencePair]]], *, first_position: int = 1
) -> None:
    slots: list[Slot] = []
    questions: list[Question] = []
    for position, (persona, pairs) in enumerate(plan, start=first_position):
        entry = StudyPersona.objects.create(study=study, persona=persona, position=position)
        slots += [Slot(study=study, study_persona=entry, index=i) for i in range(config.raters_per_persona)]
        questions += _questionnaire(entry, pairs, config.attention_checks)
    Slot.objects.bulk_create(slots)
    Question.objects.bulk_create(questions)
    tables_analyze(StudyPersona, Slot, Question)  # a paper-size study adds tens of thousands of rows at once


def _checked_plan(
    config: StudySettings, personas: Sequence[Persona], pairs: PreferencePairQuerySet | None
) -> list[tuple[Persona, list[PreferencePair]]]:
    """The settings checked, at least one persona, then each persona's pairs (``_pairs_plan``)."""
    _check_settings(config)
    personas = list(personas)
    if not personas:
        raise StudyError("Choose at least one persona.")
    return _pairs_plan(config, personas, pairs)


def study_create(
    *,
    config: StudySettings,
    personas: Sequence[Persona],
    pairs: PreferencePairQuerySet | None = None,
    selection: dict[str, object] | None = None,
    created_by: object = None,
) -> Study:
    """Create a draft study: for each persona, k free slots and n seeded-sampled pairs (from ``pairs``, default
    all) plus attention checks. ``selection`` records how personas and pairs were chosen, for editing the draft."""
    plan = _checked_plan(config, personas, pairs)
    with transaction.atomic():
        study = Study.objects.create(
            **_study_fields(config),
            completion_code=config.completion_code.strip() or _code(),
            failed_check_code=config.failed_check_code.strip() or _code(),
            no_place_code=config.no_place_code.strip() or _code(),
            selection=selection or {},
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        )
        _questionnaires_create(study, config, plan)
    return study


def study_update(
    *,
    study: Study,
    config: StudySettings,
    personas: Sequence[Persona],
    pairs: PreferencePairQuerySet | None = None,
    selection: dict[str, object] | None = None,
) -> Study:
    """Rewrite a draft with new settings, personas and pairs (its questions and places are drawn afresh). Only a
    draft: nobody has answered it, and a launched study's questions never change under its raters."""
    plan = _checked_plan(config, personas, pairs)
    with transaction.atomic():
        locked = Study.objects.select_for_update().get(pk=study.pk)
        if locked.status != StudyStatus.DRAFT:
            raise StudyError(f"A {locked.get_status_display().lower()} study cannot be edited; only drafts can.")
        fields = {
            **_study_fields(config),
            "completion_code": config.completion_code.strip() or locked.completion_code,
            "failed_check_code": config.failed_check_code.strip() or locked.failed_check_code,
            "no_place_code": config.no_place_code.strip() or locked.no_place_code,
            "selection": selection or {},
        }
        Study.objects.filter(pk=locked.pk).update(**fields)
        # Preview runs hold no slot but answer questions: they go with the old questionnaire.
        Participant.objects.filter(study=locked).delete()
        StudyPersona.objects.filter(study=locked).delete()
        _questionnaires_create(locked, config, plan)
    study.refresh_from_db()
    return study


_TRANSITIONS = {
    "launch": ((StudyStatus.DRAFT, StudyStatus.PAUSED), StudyStatus.LIVE),
    "pause": ((StudyStatus.LIVE,), StudyStatus.PAUSED),
    "close": ((StudyStatus.DRAFT, StudyStatus.LIVE, StudyStatus.PAUSED), StudyStatus.CLOSED),
}


def study_transition(*, study: Study, action: str) -> Study:
    """Launch, pause or close a study with a conditional UPDATE (a replayed click changes nothing)."""
    if action not in _TRANSITIONS:
        raise StudyError(f"Unknown action {action!r}.")
    sources, target = _TRANSITIONS[action]
    fields: dict[str, object] = {"status": target}
    now = timezone.now()
    if target == StudyStatus.LIVE and study.launched_at is None:
        fields["launched_at"] = now
    if target == StudyStatus.CLOSED:
        fields["closed_at"] = now
    if not Study.objects.filter(pk=study.pk, status__in=sources).update(**fields):
        study.refresh_from_db()
        verb = {"launch": "launched", "pause": "paused", "close": "closed"}[action]
        raise StudyError(f"A {study.get_status_display().lower()} study cannot be {verb}.")
    study.refresh_from_db()
    return study


def slot_add(*, study_persona: StudyPersona) -> Slot:
    """Add a (k+1)-th place for one persona, e.g. to replace a rater set the coordinator will drop."""
    with transaction.atomic():
        last = Slot.objects.filter(study_persona=study_persona).aggregate(m=Max("index"))["m"]
        return Slot.objects.create(
            study_id=study_persona.study_id,
            study_persona=study_persona,
            index=(last + 1) if last is not None else 0,
            status=SlotStatus.FREE,
        )


def study_personas_add(*, study: Study, count: int) -> list[StudyPersona]:
    """Add ``count`` personas to a study, each with the study's k places and its own seeded questionnaire (the same
    number of pairs and checks as the others). The personas are the usable ones not yet in the study, oldest first.
    Raises ``StudyError`` when there are not enough, or one of them has too few pairs; nothing is added then."""
    if count < 1:
        raise StudyError("Add at least one persona.")
    if study.status == StudyStatus.CLOSED:
        raise StudyError("A closed study takes no new personas.")
    config = StudySettings(
        name=study.name,
        pairs_per_persona=study.pairs_per_persona,
        raters_per_persona=study.raters_per_persona,
        attention_checks=study.attention_checks,
        seed=study.seed,
    )
    candidates = list(Persona.objects.usable().exclude(study_entries__study=study).order_by("pk")[:count])
    if len(candidates) < count:
        raise StudyError(f"Only {len(candidates)} usable personas are not in this study yet; {count} were asked for.")
    plan = _pairs_plan(config, candidates, None)
    with transaction.atomic():
        Study.objects.select_for_update().filter(pk=study.pk).first()  # one adder at a time: positions stay unique
        last = StudyPersona.objects.filter(study=study).aggregate(m=Max("position"))["m"] or 0
        _questionnaires_create(study, config, plan, first_position=last + 1)
    return list(StudyPersona.objects.filter(study=study, position__gt=last).order_by("position"))
