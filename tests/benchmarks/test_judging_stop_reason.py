"""Small local models on the judge path: a llama.cpp-like server's replies keep their stop reason, and a reply cut
off at max_tokens or a reasoning that echoes the instructions is stored as invalid with a reason that says so, so a
truncated or parroted reply never counts as a judgment."""

from __future__ import annotations

import pytest

from benchmarks.judging.models import Choice, Judgment
from benchmarks.judging.services import judgments_run
from core.llm import faults
from tests.benchmarks.test_judging import KEY_ENV, _items, _judge
from tests.llm_mock import MockLLMServer


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "RETRY_BASE_SECONDS", 0.01)
    monkeypatch.setenv(KEY_ENV, "sk-test-not-a-real-key")


@pytest.mark.django_db
def test_judgments_store_the_stop_reason_and_why_a_reply_was_unusable():
    with MockLLMServer(llama_cpp=True) as server:
        judge = _judge("openai_compatible", "gemma-3-270m", base_url=server.openai_url)
        judge.endpoint.structured_output = "text"
        judge.endpoint.max_tokens = 48
        judge.endpoint.save()
        judgments_run(judge=judge, items=_items(personas=1, pairs=1, prefix="Plain"))
        judgments_run(judge=judge, items=_items(personas=1, pairs=1, prefix="[[mock:echo]] Echo"))
        judge.endpoint.max_tokens = 4096  # room for the whole echoed system prompt (instructions + card guide)
        judge.endpoint.save()
        judgments_run(judge=judge, items=_items(personas=1, pairs=1, prefix="[[mock:echo_reasoning]] Echo"))
    rows = list(Judgment.objects.filter(judge=judge).select_related("pair__prompt"))
    plain = [r for r in rows if r.pair.prompt.text.startswith("Plain")]
    cut = [r for r in rows if "[[mock:echo]]" in r.pair.prompt.text]
    echoed = [r for r in rows if "echo_reasoning" in r.pair.prompt.text]
    assert {(r.choice != Choice.INVALID, r.stop_reason) for r in plain} == {(True, "stop")}
    assert {(r.choice, r.stop_reason, r.error) for r in cut} == {
        (Choice.INVALID, "length", "cut off at max_tokens=48 — raise the endpoint's max_tokens")
    }
    assert {r.choice for r in echoed} == {Choice.INVALID}
    assert all("reproduces the instructions" in r.error for r in echoed), [r.raw[:2000] for r in echoed]
