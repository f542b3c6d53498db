"""Prompt import (PRISM conversations / cluster CSV / plain files), the filters, topics and the split."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.prompts.filters import prompt_filter_counts, prompt_form_verdict, prompt_overrule, prompts_form_check
from benchmarks.prompts.importing import prompts_import
from benchmarks.prompts.models import ControversyVerdict, FormCheck, Prompt, PromptSource, PromptSplit, TopicOrigin
from benchmarks.prompts.topics import heldout_count, prompts_cluster, prompts_split, topic_split_counts
from core.uploads import FileRefusedError
from tests.personas.conftest import SHARED_DATA

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "prompts"
# ../shared/data next to the checkout (as tests/personas reads it), or where PERSONA_LAB_SHARED_DATA points.
SHARED_CLUSTERS = Path(os.environ.get("PERSONA_LAB_SHARED_DATA") or SHARED_DATA) / "prism_opening_prompt_clusters.csv"

pytestmark = pytest.mark.django_db


def _import(name: str):
    return prompts_import(data=(FIXTURES / name).read_bytes(), name=name)


def test_prism_cluster_csv_keeps_cluster_topics_and_reimport_adds_nothing():
    result = _import("prism_clusters_small.csv")
    assert result.source == PromptSource.PRISM_CLUSTERS
    assert result.created == Prompt.objects.count() == 32
    work = Prompt.objects.get(text="Should everyone be required to retire at a fixed age?")
    assert (work.topic, work.topic_origin, work.source_id) == ("Work and Careers", TopicOrigin.SUPPLIED, "cluster3:1")
    outlier = Prompt.objects.get(text="Hello there")
    assert outlier.topic == ""
    assert outlier.source_id == "cluster-1:0"
    again = _import("prism_clusters_small.csv")
    assert (again.created, again.existing) == (0, 32)
    assert Prompt.objects.count() == 32


def test_prism_conversations_and_plain_files():
    conversations = _import("conversations.jsonl")
    assert conversations.source == PromptSource.PRISM_CONVERSATIONS
    prompt = Prompt.objects.get(source_id="c101")
    assert prompt.conversation_type == "controversy guided"
    assert _import("prompts.csv").created == 3
    assert Prompt.objects.get(text__startswith="Should homework").topic == "Education"
    assert _import("prompts.jsonl").created == 2
    assert Prompt.objects.get(source_id="x1").source == PromptSource.FILE


def test_malformed_file_is_refused_whole_with_lines():
    with pytest.raises(FileRefusedError) as error:
        _import("malformed.jsonl")
    assert "line 2: not valid JSON" in str(error.value)
    assert not Prompt.objects.exists()
    with pytest.raises(FileRefusedError, match="line 3: the prompt"):
        prompts_import(data=b'{"prompt": "Is it ok?"}\n{"prompt": "Fine?"}\n{"prompt": ""}\n', name="p.jsonl")
    with pytest.raises(FileRefusedError, match="no prompt column"):
        prompts_import(data=b"question\nWhy?\n", name="p.csv")
    with pytest.raises(FileRefusedError, match="not UTF-8"):
        prompts_import(data="prompt\nÉtait-ce juste ?\n".encode("latin-1"), name="p.csv")
    with pytest.raises(FileRefusedError, match="top_texts is not a list"):
        prompts_import(data=b"cluster_id,top_texts\n1,not a list\n", name="c.csv")
    assert not Prompt.objects.exists()


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Should taxes be higher for the rich?", FormCheck.PASSED),
        ("Tell me about taxes for the rich", FormCheck.NO_QUESTION_MARK),
        ("Does God exist?", FormCheck.TOO_SHORT),
    ],
)
def test_form_verdict(text, verdict):
    assert prompt_form_verdict(text) == verdict


def test_filters_counts_overrule_cluster_and_split():
    _import("prism_clusters_small.csv")
    counts = prompts_form_check()
    assert counts[FormCheck.PASSED] == Prompt.objects.filter(form_check=FormCheck.PASSED).count() > 20
    assert counts[FormCheck.NO_QUESTION_MARK] >= 2
    assert counts[FormCheck.TOO_SHORT] >= 1
    passed = list(Prompt.objects.filter(form_check=FormCheck.PASSED).order_by("pk"))
    Prompt.objects.filter(pk__in=[p.pk for p in passed]).update(controversy=ControversyVerdict.CONTROVERSIAL)
    prompt_overrule(prompt=passed[0], controversial=False)
    summary = prompt_filter_counts()
    by_reason = {code: n for code, _, n in summary.by_reason}
    assert by_reason["not_controversial"] == 1
    assert summary.kept == len(passed) - 1
    assert summary.kept + sum(by_reason.values()) + summary.unchecked == summary.total == 32

    clustered = prompts_cluster(k=2, seed=1)
    outliers = Prompt.objects.kept().filter(topic_origin=TopicOrigin.CLUSTERED)
    assert sum(clustered.values()) == outliers.count() >= 1
    assert not Prompt.objects.kept().filter(topic="").exists()

    split = prompts_split(seed=3)
    kept = Prompt.objects.kept()
    assert split["heldout"] == heldout_count(kept.count()) == kept.filter(split=PromptSplit.HELDOUT).count()
    first = dict(kept.values_list("pk", "split"))
    prompts_split(seed=3)
    assert dict(kept.values_list("pk", "split")) == first  # seeded
    bars = topic_split_counts()
    assert sum(b.total for b in bars) == kept.count()
    # Stratified: each topic's held-out share is within one prompt of the overall share.
    share = split["heldout"] / kept.count()
    for bar in bars:
        assert abs(bar.heldout - share * bar.total) < 1


def test_paper_split_proportion():
    assert heldout_count(3868) == 868


def test_real_prism_cluster_file(db):
    if not SHARED_CLUSTERS.exists():
        pytest.skip(f"real validation data not present at {SHARED_CLUSTERS}")
    result = prompts_import(data=SHARED_CLUSTERS.read_bytes(), name=SHARED_CLUSTERS.name)
    assert result.source == PromptSource.PRISM_CLUSTERS
    assert result.read == 23 * 5
    topics = Counter(Prompt.objects.exclude(topic="").values_list("topic", flat=True))
    assert len(topics) == 22
    assert "Managing Relationships" in topics
    assert Prompt.objects.filter(text="Do God exist?", topic="").exists()  # an outlier
    prompts_form_check()
    assert Prompt.objects.filter(form_check=FormCheck.PASSED).count() > 40
