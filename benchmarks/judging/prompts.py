"""The role-play prompt: the judge becomes the persona, reads a question and two answers, and picks one.

The instructions carry the guide to the persona card (``personas.card_guide``), so instructions + persona reach the
providers' minimum cacheable prefix. The persona goes into ``cache_prefix`` (shared by all of that persona's
requests, so Anthropic bills it at the cache-read price and the offline ``persona_overlap`` baseline reads it); the
question and the two answers, in the order shown, go into the user message.
"""

from __future__ import annotations

from benchmarks.judging.models import Choice, Judge, Order, choice_for_letter
from benchmarks.pairs.models import PreferencePair
from core.llm.types import ChoiceSchema, LLMRequest, Message
from personas.attributes import ATTRIBUTES
from personas.card_guide import PERSONA_CARD_GUIDE
from personas.models import Persona

ROLE_PLAY_SYSTEM = (
    'Become the person described in the profile ("The person you will become"). Think, value and judge as they '
    "would: their age, background, work, beliefs and habits, not your own preferences and not what a typical "
    "assistant would pick.\n"
    "You will read a question this person asked and two answers to it, A and B. Decide which answer this person "
    "would prefer to receive, and give the reasons they would give, in a few sentences.\n\n" + PERSONA_CARD_GUIDE
)
CONFIDENCE_NOTE = " Say how sure you are that this person would prefer it, from 0 (a guess) to 100 (certain)."
ABSTAIN_NOTE = ' If you truly cannot tell which answer this person would prefer, answer "abstain" instead of guessing.'


def persona_profile(persona: Persona) -> str:
    """The persona as plain text, one "Label: value" line per present attribute in the registry's display order."""
    return "The person you will become:\n" + attributes_text(persona.attributes)


def attributes_text(values: dict[str, object]) -> str:
    """Attributes as "Label: value" lines: registry keys in display order, then any other keys sorted."""
    lines = [
        f"{attribute.label}: {values[attribute.key]}"
        for attribute in sorted(ATTRIBUTES, key=lambda a: a.order)
        if values.get(attribute.key) not in (None, "")
    ]
    known = {attribute.key for attribute in ATTRIBUTES}
    lines += [
        f"{key}: {value}" for key, value in sorted(values.items()) if key not in known and value not in (None, "")
    ]
    return "\n".join(lines)


def judge_system(judge: Judge) -> str:
    text = ROLE_PLAY_SYSTEM
    if judge.with_confidence:
        text += CONFIDENCE_NOTE
    if judge.allow_abstain:
        text += ABSTAIN_NOTE
    if judge.instructions.strip():
        text += "\n" + judge.instructions.strip()
    return text


def shown_answers(pair: PreferencePair, order: str) -> tuple[str, str]:
    """The texts shown as A and B: AB shows the chosen answer first, BA the rejected one."""
    if order == Order.CHOSEN_FIRST:
        return pair.chosen, pair.rejected
    return pair.rejected, pair.chosen


def judgment_request_key(*, judge: Judge, persona_id: int, pair_id: int, order: str) -> str:
    return f"judge-{judge.pk}-persona-{persona_id}-pair-{pair_id}-{order}"


def judgment_request(*, judge: Judge, persona: Persona, pair: PreferencePair, order: str, sample: int) -> LLMRequest:
    answer_a, answer_b = shown_answers(pair, order)
    user = (
        f"The question you asked:\n{pair.prompt.text}\n\n"
        f"Answer A:\n{answer_a}\n\n"
        f"Answer B:\n{answer_b}\n\n"
        "Which answer would you, as this person, prefer: A or B?"
    )
    return LLMRequest(
        system=judge_system(judge),
        cache_prefix=persona_profile(persona),
        messages=(Message("user", user),),
        choice=ChoiceSchema(
            options=("A", "B"),
            options_text=(answer_a, answer_b),
            description="The answer this person would prefer.",
            with_reasoning=True,
            with_confidence=judge.with_confidence,
            allow_abstain=judge.allow_abstain,
        ),
        key=judgment_request_key(judge=judge, persona_id=persona.pk, pair_id=pair.pk, order=order),
        sample=sample,
    )


def choice_from_letter(letter: str | None, order: str) -> str:
    """A reply's letter as the pair's label: A is the chosen answer in order AB and the rejected one in BA."""
    if letter == "abstain":
        return Choice.ABSTAIN
    if letter not in ("A", "B"):
        return Choice.INVALID
    return choice_for_letter(letter=letter, order=order)
