"""Does a reply reproduce the instructions it was given? (A small model behind a chat template that mangles the
prompt often repeats the system prompt until ``max_tokens`` instead of answering.)

One pure function, no ORM, so every stage that refuses an empty reply can refuse an echo the same way: the judge
reply parsing (``core.llm.parsing.refuse_echo``), the dataset revision check
(``benchmarks.datasets.generation.revision_problem``) and, in time, critiques and bench answers.
"""

from __future__ import annotations

import re

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
    instruction_words = _WORD.findall(instructions.lower())
    if len(reply_words) < n or len(instruction_words) < n:
        return False
    known = set(_shingles(instruction_words, n))
    reply_shingles = _shingles(reply_words, n)
    shared = sum(1 for shingle in reply_shingles if shingle in known)
    return shared >= min_shingles and shared >= share * len(reply_shingles)
