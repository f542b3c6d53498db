"""Study set-up and lifecycle: choose personas, sample each persona's pairs, create slots and questions."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from annotation.models import REASONING_HARD_CAP, Question, Slot, SlotStatus, Study, StudyPersona, StudyStatus
from benchmarks.models import PreferencePair, PreferencePairQuerySet
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


def personas_select(
    *,
    ids: Sequence[int] | None = None,
    status: str = "",
    split: str = "",
    sample_size: int | None = None,
    seed: int = 0,
) -> list[Persona]:
    """Personas for a study: the picked ids (or all), narrowed by status/split, then N sampled with the seed."""
    queryset = Persona.objects.order_by("id")
    if ids:
        queryset = queryset.filter(pk__in=ids)
    if status:
        queryset = queryset.filter(status=status)
    if split:
        queryset = queryset.filter(split=split)
    personas = list(queryset)
    if sample_size is not None and sample_size < len(personas):
        personas = sorted(random.Random(seed).sample(personas, sample_size), key=lambda p: p.pk)
    return personas


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


def study_create(
    *,
    config: StudySettings,
    personas: Sequence[Persona],
    created_by: object = None,
    pairs: PreferencePairQuerySet | None = None,
) -> Study:
    """Create a draft study: for each persona, k free slots and n seeded-sampled pairs plus attention checks.

    ``pairs`` is the pool to draw from (e.g. one split of a preference dataset); default every usable pair.
    """
    _check_settings(config)
    if not personas:
        raise StudyError("Choose at least one persona.")
    plan: list[tuple[Persona, list[PreferencePair]]] = []
    for persona in personas:
        pool = pairs if pairs is not None else PreferencePair.objects.all()
        candidates = list(pool.usable().for_persona(persona).order_by("id"))
        if len(candidates) < config.pairs_per_persona:
            raise StudyError(
                f"Persona {persona.pk} has {len(candidates)} usable pairs; the study needs {config.pairs_per_persona}."
            )
        rng = random.Random(f"{config.seed}:{persona.pk}")
        plan.append((persona, rng.sample(candidates, config.pairs_per_persona)))

    with transaction.atomic():
        study = Study.objects.create(
            name=config.name.strip()[:200],
            instructions=config.instructions.strip() or DEFAULT_INSTRUCTIONS,
            raters_per_persona=config.raters_per_persona,
            majority_threshold=config.majority_threshold,
            pairs_per_persona=config.pairs_per_persona,
            attention_checks=config.attention_checks,
            reasoning_min_chars=config.reasoning_min_chars,
            reasoning_max_chars=config.reasoning_max_chars,
            block_paste=config.block_paste,
            estimated_minutes=config.estimated_minutes,
            max_minutes_override=config.max_minutes_override,
            completion_code=config.completion_code.strip() or _code(),
            failed_check_code=config.failed_check_code.strip() or _code(),
            no_place_code=config.no_place_code.strip() or _code(),
            seed=config.seed,
            created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        )
        slots: list[Slot] = []
        questions: list[Question] = []
        for position, (persona, pairs) in enumerate(plan, start=1):
            entry = StudyPersona.objects.create(study=study, persona=persona, position=position)
            slots += [Slot(study=study, study_persona=entry, index=i) for i in range(config.raters_per_persona)]
            questions += _questionnaire(entry, pairs, config.attention_checks)
        Slot.objects.bulk_create(slots)
        Question.objects.bulk_create(questions)
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
