"""Critique-and-revise generation: the requests for the plain answer y_l, a persona's critique of it and the
revision y_w, and the rules a generated text must keep.

The dataset stages (``benchmarks.datasets.stages``) and PERSONA Bench's leave-one-out (``benchmarks.bench.loo``)
build their requests with the ``*_request`` builders and apply ``text_problem`` / ``revision_problem`` (and the
stages ``revision_retry_reason``), so there is one place for the prompts and one for the rules. Nothing here calls
a model: the callers send the requests through ``core.llm`` in bulk.

The prompts are ours; they carry the rules of the PERSONA paper's appendix B: the critic puts itself in the
persona's place and quotes both the persona and the answer, keeps to what matters for this question, and the
revision never names the persona's attributes, stays subtle, and is no longer than the original answer.
Everything goes through ``core.llm`` (any endpoint: Claude, an OpenAI-compatible server, or the offline ``text``
generator, which understands these prompts' ``<question>`` / ``<answer>`` / ``<critique>`` tags).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import models

from core.llm.echo import ECHO_ERROR, echoes_instructions
from core.llm.types import Completion, LLMRequest, Message
from personas.card_guide import PERSONA_CARD_GUIDE

DEFAULT_LENGTH_TOLERANCE = 0.10  # a revision may be at most 10 % longer than y_l (in characters)

ANSWER_SYSTEM = "You are a helpful assistant. Answer the user's question directly and helpfully."

CRITIQUE_SYSTEM = (
    "You help write answers that fit the person who asks. Below is a description of one person, then a question "
    "this person asked and an answer an assistant gave.\n"
    "Put yourself in this person's place and critique the answer as they would read it:\n"
    "- quote the lines of the person's description that matter here, and quote the parts of the answer you "
    "comment on;\n"
    "- keep to what is relevant to this question: most of the description will not matter, so leave it out;\n"
    "- say what this person would want changed, added or dropped, and why;\n"
    "- do not rewrite the answer yourself.\n"
    "Reply with the critique only, in a short paragraph or a few bullet points.\n\n" + PERSONA_CARD_GUIDE
)

REVISION_SYSTEM = (
    "You help write answers that fit the person who asks. Below is a description of one person, then a question "
    "this person asked, an assistant's answer, and a critique of that answer from this person's point of view.\n"
    "Rewrite the answer so this person would prefer it, following the critique. Rules:\n"
    "- never name or state the person's attributes or any value from the description (no \"as a 45-year-old "
    'teacher", no age, job, place, religion or income): adapt what you say, not who you say it to;\n'
    "- stay subtle: keep what was good in the answer and change only what this person would want changed;\n"
    "- keep it no longer than the original answer;\n"
    "- answer the question itself, in the same language.\n"
    "Reply with the revised answer only: no preamble, no notes.\n\n" + PERSONA_CARD_GUIDE
)

PERSONA_HEADING = "The person:\n"

# What a revision is told (system prompt and the user turn's closing lines): a reply that reproduces it is refused.
REVISION_INSTRUCTIONS = (
    f"{REVISION_SYSTEM}\nRewrite the answer for this person. It must be at most characters long.\n"
    "A previous rewrite was refused; write it again and respect the rules."
)
CRITIQUE_INSTRUCTIONS = f"{CRITIQUE_SYSTEM}\nCritique this answer as the person described would."

# Replies that decline instead of answering (checked at the start of the text, case-insensitive).
_REFUSAL = re.compile(
    r"^\s*(i'm sorry,? but|i am sorry,? but|sorry, (but )?i|i can(no|')t (help|assist|do|provide|comply)|"
    r"i cannot (help|assist|do|provide|comply)|i won't|i will not|as an ai\b|i'm not able to|i am not able to|"
    r"i'm unable to|i am unable to)",
    re.IGNORECASE,
)
# Attribute values too generic to count as naming the persona when they appear in an answer.
_GENERIC_VALUES = {"yes", "no", "none", "n/a", "na", "not applicable", "unknown", "other", "true", "false"}


class RevisionFailure(models.TextChoices):
    """Why a generated text was not kept (the reason stored on a failed dataset item)."""

    CALL_FAILED = "call_failed", "The call failed (outage or garbage reply)"
    EMPTY = "empty", "Empty reply"
    REFUSAL = "refusal", "Refusal"
    TOO_LONG = "too_long", "Longer than y_l beyond the tolerance"
    NAMES_ATTRIBUTE = "names_attribute", "Names a persona attribute verbatim"
    SAME_AS_ORIGINAL = "same_as_original", "Identical to y_l"
    ECHO = "echo", "Reproduces its own instructions"


# ---- requests -------------------------------------------------------------------------------------------------


def persona_prefix(persona_text: str) -> str:
    """The persona as the cached prefix every critique and revision of this persona shares."""
    return PERSONA_HEADING + persona_text.strip()


def answer_request(*, prompt_text: str, key: str | None = None, sample: int = 0) -> LLMRequest:
    """y_l: the generator's answer to the prompt alone (no persona)."""
    return LLMRequest(system=ANSWER_SYSTEM, messages=(Message("user", prompt_text),), key=key, sample=sample)


def critique_request(
    *, persona_text: str, prompt_text: str, answer: str, key: str | None = None, sample: int = 0
) -> LLMRequest:
    user = (
        f"<question>\n{prompt_text}\n</question>\n\n<answer>\n{answer}\n</answer>\n\n"
        "Critique this answer as the person described would."
    )
    return LLMRequest(
        system=CRITIQUE_SYSTEM,
        cache_prefix=persona_prefix(persona_text),
        messages=(Message("user", user),),
        key=key,
        sample=sample,
    )


def revision_request(
    *,
    persona_text: str,
    prompt_text: str,
    answer: str,
    critique: str,
    key: str | None = None,
    retry_reason: str = "",
    sample: int = 0,
) -> LLMRequest:
    """The revision request; ``retry_reason`` (a failed first attempt's problem) is told to the model on the retry."""
    user = (
        f"<question>\n{prompt_text}\n</question>\n\n<answer>\n{answer}\n</answer>\n\n"
        f"<critique>\n{critique}\n</critique>\n\n"
        f"Rewrite the answer for this person. It must be at most {len(answer)} characters long."
    )
    if retry_reason:
        user += f"\nA previous rewrite was refused ({retry_reason}); write it again and respect the rules."
    return LLMRequest(
        system=REVISION_SYSTEM,
        cache_prefix=persona_prefix(persona_text),
        messages=(Message("user", user),),
        key=key,
        sample=sample,
    )


# ---- checks ---------------------------------------------------------------------------------------------------


def _distinctive(value: object) -> str | None:
    text = str(value).strip()
    if len(text) < 4 or text.lower() in _GENERIC_VALUES or not re.search(r"[A-Za-z]", text):
        return None
    return text


def attribute_named(*, text: str, attribute_values: list[str]) -> str | None:
    """The first distinctive attribute value that ``text`` contains verbatim (whole words, any case), else None.

    Generic values (yes/no/none/…), numbers and values under four characters are not looked for: an answer may
    say "no" or quote a figure without pointing at the persona.
    """
    for value in attribute_values:
        distinctive = _distinctive(value)
        if distinctive and re.search(rf"(?<!\w){re.escape(distinctive)}(?!\w)", text, re.IGNORECASE):
            return distinctive
    return None


def text_problem(completion: Completion) -> tuple[str, str] | None:
    """(reason, detail) when a reply is unusable as text: a failed call, an empty reply or a refusal."""
    if not completion.valid:
        if completion.error.startswith(ECHO_ERROR):  # refused by the runner's echo guard
            return RevisionFailure.ECHO, completion.error[:300]
        if completion.stop_reason == "refusal":
            return RevisionFailure.REFUSAL, completion.error[:300]
        return RevisionFailure.CALL_FAILED, (completion.error or "invalid reply")[:300]
    if not completion.text.strip():
        return RevisionFailure.EMPTY, ""
    if _REFUSAL.match(completion.text):
        return RevisionFailure.REFUSAL, completion.text.strip()[:200]
    return None


def echo_problem(completion: Completion, *, instructions: str) -> tuple[str, str] | None:
    """(ECHO, detail) when the reply reproduces ``instructions`` (``core.llm.echo``): refused like an empty one."""
    if echoes_instructions(completion.text, instructions):
        cut = f", cut off at {completion.stop_reason}" if completion.cut_off else ""
        return RevisionFailure.ECHO, f"the reply repeats the stage's instructions{cut}"
    return None


def critique_problem(completion: Completion) -> tuple[str, str] | None:
    """(reason, detail) when a critique is unusable: ``text_problem``, or it echoes the critique instructions."""
    return text_problem(completion) or echo_problem(completion, instructions=CRITIQUE_INSTRUCTIONS)


def revision_problem(
    *,
    completion: Completion,
    original: str,
    attribute_values: list[str],
    tolerance: float = DEFAULT_LENGTH_TOLERANCE,
    instructions: str = REVISION_INSTRUCTIONS,
) -> tuple[str, str] | None:
    """(reason, detail) when a revision breaks a rule (see ``RevisionFailure``), None when it may be kept.

    A revision that reproduces ``instructions`` (what the revision was told) is refused as an echo.
    """
    if problem := text_problem(completion):
        return problem
    if problem := echo_problem(completion, instructions=instructions):
        return problem
    text = completion.text.strip()
    limit = int(len(original.strip()) * (1 + tolerance))
    if len(text) > limit:
        return RevisionFailure.TOO_LONG, f"{len(text)} characters; y_l has {len(original.strip())}, limit {limit}"
    if text == original.strip():
        return RevisionFailure.SAME_AS_ORIGINAL, ""
    if named := attribute_named(text=text, attribute_values=attribute_values):
        return RevisionFailure.NAMES_ATTRIBUTE, f"names {named!r}"
    return None


def revision_retry_reason(problem: tuple[str, str]) -> str:
    """What the one retry of a refused revision tells the model: the first attempt's ``revision_problem``."""
    return RevisionFailure(problem[0]).label.lower()


@dataclass(frozen=True)
class RevisionCheck:
    """A revision reply judged by the rules: the text to keep, or why not, and whether to ask once more (why)."""

    text: str = ""
    problem: tuple[str, str] | None = None
    retry: str = ""


def revision_check(
    *,
    completion: Completion,
    original: str,
    attribute_values: list[str],
    last: bool,
    tolerance: float = DEFAULT_LENGTH_TOLERANCE,
) -> RevisionCheck:
    """The revise-and-retry rule every revising stage shares (dataset stage, leave-one-out): a revision breaking a
    rule (``revision_problem``) is asked once more, told why; on the ``last`` attempt it fails with that reason."""
    problem = revision_problem(
        completion=completion, original=original, attribute_values=attribute_values, tolerance=tolerance
    )
    if problem is None:
        return RevisionCheck(text=completion.text.strip())
    return RevisionCheck(problem=problem, retry="" if last else revision_retry_reason(problem))


def persona_values(persona_text: str) -> list[str]:
    """The values of a ``key: value`` persona text, in order."""
    return [line.partition(":")[2].strip() for line in persona_text.splitlines() if ":" in line]
