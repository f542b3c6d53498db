"""The bench's prompts, in our own words: the four personalization methods (paper section 5), the critic
(LLM-as-judge: reasoning, a personalization critique, a helpfulness critique and ``needs_revision``), the summary
analysis judge and the leave-one-out role-play pick. Each asks for a structured reply (``core.llm`` ObjectSchema
or ChoiceSchema); the persona goes into ``cache_prefix`` so a persona's requests share a cached prefix, and the
instructions carry the guide to the persona card (``personas.card_guide``), so that prefix reaches real providers'
minimum cacheable length."""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.bench.models import Method
from benchmarks.judging.prompts import ROLE_PLAY_SYSTEM, attributes_text
from core.llm.types import ChoiceSchema, LLMRequest, Message, ObjectSchema, OutputField
from personas.attributes import ATTRIBUTES
from personas.card_guide import PERSONA_CARD_GUIDE

PERSONA_HEADING = "The person asking:\n"
ANSWER_FIELD = OutputField("answer", "The answer to the question, written for the person asking.")


@dataclass(frozen=True)
class MethodSpec:
    system: str
    with_persona: bool
    intermediate: OutputField | None  # the text the method writes before its answer, stored with it


METHODS: dict[str, MethodSpec] = {
    Method.BASELINE: MethodSpec(
        system="Answer the user's question helpfully, clearly and honestly.", with_persona=False, intermediate=None
    ),
    Method.PERSONA: MethodSpec(
        system=(
            "You will answer a question for the person described below. Write the answer that would serve this "
            "particular person best: what they care about, what they already know, how they like to be spoken to. "
            "Do not recite their description back to them."
        ),
        with_persona=True,
        intermediate=None,
    ),
    Method.CHAIN_OF_THOUGHT: MethodSpec(
        system=(
            "You will answer a question for the person described below. First think step by step about who this "
            "person is, what in their situation bears on the question and what answer would serve them best; "
            "then write that answer. Do not recite their description back to them in the answer."
        ),
        with_persona=True,
        intermediate=OutputField("reasoning", "Your step-by-step thinking about this person and the question."),
    ),
    Method.DEMOGRAPHIC_SUMMARY: MethodSpec(
        system=(
            "You will answer a question for the person described below. First summarise, in a few lines, only the "
            "parts of their description that matter for this question; then write the answer that serves them "
            "best, guided by that summary. Do not recite their description back to them in the answer."
        ),
        with_persona=True,
        intermediate=OutputField(
            "summary", "The parts of the person's description relevant to the question, summarised."
        ),
    ),
}


def persona_prefix(values: dict[str, object]) -> str:
    return PERSONA_HEADING + attributes_text(values)


def method_request(*, method: str, persona: dict[str, object], question: str, key: str, sample: int) -> LLMRequest:
    """One model's answer to ``question`` for ``persona`` with ``method`` (structured: [intermediate,] answer)."""
    spec = METHODS[method]
    fields = (spec.intermediate, ANSWER_FIELD) if spec.intermediate else (ANSWER_FIELD,)
    return LLMRequest(
        # With a persona, the card guide makes instructions + persona long enough to cache at real minimums.
        system=f"{spec.system}\n\n{PERSONA_CARD_GUIDE}" if spec.with_persona else spec.system,
        cache_prefix=persona_prefix(persona) if spec.with_persona else None,
        messages=(Message("user", f"<question>\n{question}\n</question>"),),
        output=ObjectSchema(fields=fields, name="answer", description="Your reply, every field filled."),
        key=key,
        sample=sample,
    )


CRITIC_SYSTEM = (
    "You review an assistant's answer to a question asked by the person described below. Judge two things: "
    "personalization (does the answer fit this person: their situation, values and needs, without stereotyping them "
    "or reciting their description?) and helpfulness (is it correct, clear, complete and direct?). Give your "
    "reasoning, one critique for each, and decide whether the answer needs revision for this person. An answer "
    "that serves this person well on both counts needs no revision.\n\n" + PERSONA_CARD_GUIDE
)
CRITIC_SCHEMA = ObjectSchema(
    name="critique",
    description="Your review of the answer, every field filled.",
    fields=(
        OutputField("reasoning", "Your reasoning about the answer and the person."),
        OutputField("personalization_critique", "How well the answer fits this person, and what it misses."),
        OutputField("helpfulness_critique", "How helpful, correct and clear the answer is."),
        OutputField("needs_revision", "True when the answer should be revised for this person.", kind="boolean"),
    ),
)


def critic_request(*, persona: dict[str, object], question: str, answer: str, key: str) -> LLMRequest:
    user = f"<question>\n{question}\n</question>\n\n<answer>\n{answer}\n</answer>"
    return LLMRequest(
        system=CRITIC_SYSTEM,
        cache_prefix=persona_prefix(persona),
        messages=(Message("user", user),),
        output=CRITIC_SCHEMA,
        key=key,
    )


SUMMARY_SYSTEM = (
    "Below is the description of a person, then a question they asked and a summary of the parts of their "
    "description someone judged relevant to it. List the attributes of the description (by their label) that the "
    "summary leaves out entirely.\n\n" + PERSONA_CARD_GUIDE
)


def present_labels(persona: dict[str, object]) -> tuple[str, ...]:
    """Labels of the registry attributes the persona has, in display order (the summary judge's allowed answers)."""
    return tuple(a.label for a in sorted(ATTRIBUTES, key=lambda a: a.order) if persona.get(a.key) not in (None, ""))


def summary_request(*, persona: dict[str, object], question: str, summary: str, key: str) -> LLMRequest:
    labels = present_labels(persona)
    user = f"<question>\n{question}\n</question>\n\n<summary>\n{summary}\n</summary>"
    schema = ObjectSchema(
        name="dropped",
        description="The attributes the summary leaves out.",
        fields=(OutputField("dropped", "Labels of the attributes the summary leaves out.", kind="list", enum=labels),),
    )
    return LLMRequest(
        system=SUMMARY_SYSTEM,
        cache_prefix=persona_prefix(persona),
        messages=(Message("user", user),),
        output=schema,
        key=key,
    )


def loo_pick_request(
    *, persona: dict[str, object], question: str, answer_a: str, answer_b: str, key: str
) -> LLMRequest:
    """The leave-one-out judgment: the (cut-down) persona, role-played, picks between two revisions."""
    user = (
        f"The question you asked:\n{question}\n\nAnswer A:\n{answer_a}\n\nAnswer B:\n{answer_b}\n\n"
        "Which answer would you, as this person, prefer: A or B?"
    )
    return LLMRequest(
        system=ROLE_PLAY_SYSTEM,
        cache_prefix="The person you will become:\n" + attributes_text(persona),
        messages=(Message("user", user),),
        choice=ChoiceSchema(
            options=("A", "B"), options_text=(answer_a, answer_b), description="The answer this person would prefer."
        ),
        key=key,
    )
