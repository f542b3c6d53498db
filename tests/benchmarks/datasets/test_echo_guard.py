"""The echo guard of the critique-and-revise stages: a reply that reproduces its instructions is refused."""

from __future__ import annotations

from benchmarks.datasets.generation import (
    CRITIQUE_SYSTEM,
    REVISION_SYSTEM,
    RevisionFailure,
    critique_problem,
    revision_problem,
    revision_retry_reason,
)
from core.llm.types import Completion

ORIGINAL = (
    "Start with a budget: list what comes in and what goes out each month, then cut the costs you can live without. "
) * 8


def test_a_revision_that_echoes_its_instructions_is_refused():
    echo = Completion(text=(REVISION_SYSTEM * 3)[:900], stop_reason="length")
    problem = revision_problem(completion=echo, original=ORIGINAL, attribute_values=[])
    assert problem is not None
    assert problem[0] == RevisionFailure.ECHO
    assert "cut off at length" in problem[1]
    assert revision_retry_reason(problem) == "reproduces its own instructions"


def test_a_real_revision_passes():
    revision = Completion(
        text="Write down what you earn and spend each month, then drop the costs you will not miss. " * 4
    )
    assert revision_problem(completion=revision, original=ORIGINAL, attribute_values=[]) is None


def test_a_critique_that_echoes_its_instructions_is_refused():
    assert critique_problem(Completion(text=CRITIQUE_SYSTEM))[0] == RevisionFailure.ECHO
    assert critique_problem(Completion(text="They would want fewer numbers and a warmer tone.")) is None
    assert critique_problem(Completion(text=""))[0] == RevisionFailure.EMPTY
