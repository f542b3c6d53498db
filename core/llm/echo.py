"""Does a reply reproduce the instructions it was given? (A small model behind a chat template that mangles the
prompt often repeats the system prompt until ``max_tokens`` instead of answering.)

Pure functions, no ORM, so every stage that refuses an empty reply can refuse an echo the same way: the judge
reply parsing (``core.llm.parsing.refuse_echo``), the dataset revision check
(``benchmarks.datasets.generation.revision_problem``), and the work-item runner (``core.llm.runner``), which passes
every reply through ``echo_refused`` before its handler reads it (bench answers, critiques, persona checks).
"""

from __future__ import annotations

import dataclasses
import functools
import re

from core.llm.types import Completion, LLMRequest

# The error of a reply refused as an echo (callers that name reasons recognise it by this text).
ECHO_ERROR = "the reply reproduces its instructions (an echo, not an answer)"

_WORD = re.compile(r"\w+")

ECHO_NGRAM = 4  # words per shingle: long enough that common phrases ("the answer is a") rarely match by chance
ECHO_SHARE = 0.5  # the share of a reply's shingles found in the instructions from which it counts as an echo
ECHO_MIN_SHINGLES = 3  # a reply shorter than this many shingles is too short to judge (it may quote a phrase)


def _shingles(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def echoes_instructions(
    reply: str,
    instructions: str,
    *,
    n: int = ECHO_NGRAM,
    share: float = ECHO_SHARE,
    min_shingles: int = ECHO_MIN_SHINGLES,
) -> bool:
    """True when ``reply`` mostly reproduces ``instructions``: at least ``share`` of its word ``n``-grams (lower-cased
    ``\\w+`` tokens) occur in the instructions, and at least ``min_shingles`` of them do.

    A reply that quotes a line of its instructions inside a real answer stays well under the share; a reply that
    repeats them (once, or over and over until it is cut off) is almost all shared n-grams.
    """
    reply_words = _WORD.findall(reply.lower())
    if len(reply_words) < n:
        return False
    known = _instruction_shingles(instructions, n)
    if not known:  # instructions shorter than one shingle
        return False
    reply_shingles = _shingles(reply_words, n)
    shared = sum(1 for shingle in reply_shingles if shingle in known)
    return shared >= min_shingles and shared >= share * len(reply_shingles)


# A run's requests share a few system prompts of several thousand characters: splitting one into shingles costs
# more than the rest of the check, and every reply (each of its texts) checks against it.
@functools.lru_cache(maxsize=64)
def _instruction_shingles(instructions: str, n: int) -> frozenset[tuple[str, ...]]:
    return frozenset(_shingles(_WORD.findall(instructions.lower()), n))


def _reply_texts(completion: Completion) -> list[str]:
    texts = [completion.text, completion.reasoning]
    texts += [value for value in completion.fields.values() if isinstance(value, str)]
    return [text for text in texts if text]


def echo_refused(completion: Completion, request: LLMRequest) -> Completion:
    """``completion`` made invalid (``ECHO_ERROR``) when any of its texts reproduces the request's instructions (its
    system prompt); otherwise ``completion`` itself. The raw reply, usage and stop reason stay for the record."""
    if not completion.valid or not request.system:
        return completion
    if not any(echoes_instructions(text, request.system) for text in _reply_texts(completion)):
        return completion
    cut = f" (cut off at {completion.stop_reason})" if completion.cut_off else ""
    return dataclasses.replace(completion, valid=False, choice=None, error=ECHO_ERROR + cut)
