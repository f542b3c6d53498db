"""Topics and the train / held-out split of the kept prompts.

A prompt keeps the topic its source supplied (PRISM's cluster, a topic column). The others are clustered with
TF-IDF + k-means (seeded) and each cluster is named by its top words. The split is seeded and stratified by topic:
every topic gives the held-out side the same share of its prompts (largest remainders make the total exact).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction

from benchmarks.prompts.models import Prompt, PromptSplit, TopicOrigin

PAPER_TRAIN, PAPER_HELDOUT = 3000, 868  # the paper's split of 3,868 prompts


def prompts_cluster(*, k: int = 20, seed: int = 0, top_words: int = 3) -> dict[str, int]:
    """Give every kept prompt without a topic one from k-means over TF-IDF; returns the new topics' sizes."""
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    prompts = list(Prompt.objects.kept().filter(topic="").order_by("text_sha256").only("pk", "text"))
    if not prompts:
        return {}
    k = max(1, min(k, len(prompts)))
    vectorizer = TfidfVectorizer(stop_words="english", max_features=20_000, min_df=1)
    try:
        matrix = vectorizer.fit_transform([p.text for p in prompts])
    except ValueError:  # nothing but stop words
        names = ["misc"] * len(prompts)
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=10).fit(matrix)
        vocabulary = vectorizer.get_feature_names_out()
        labels_named = {
            label: " / ".join(vocabulary[i] for i in centre.argsort()[::-1][:top_words])
            for label, centre in enumerate(model.cluster_centers_)
        }
        names = [labels_named[label] for label in model.labels_]
    for prompt, name in zip(prompts, names, strict=True):
        prompt.topic = name[:128]
        prompt.topic_origin = TopicOrigin.CLUSTERED
    with transaction.atomic():
        Prompt.objects.bulk_update(prompts, ["topic", "topic_origin"], batch_size=1000)
    return dict(Counter(names))


def heldout_count(total: int, *, train: int = PAPER_TRAIN, heldout: int = PAPER_HELDOUT) -> int:
    """How many of ``total`` prompts go to held out when the split keeps the ratio train : heldout."""
    return round(total * heldout / (train + heldout))


def prompts_split(*, heldout: int | None = None, seed: int = 0) -> dict[str, int]:
    """Split the kept prompts train / held out, stratified by topic; ``heldout`` defaults to the paper's share.

    Deterministic: prompts are ordered by text hash, shuffled per topic with the seed, and each topic's held-out
    quota is its share of ``heldout`` (largest remainders settle the rounding).
    """
    prompts = list(Prompt.objects.kept().order_by("text_sha256").only("pk", "topic", "text_sha256"))
    total = len(prompts)
    if total == 0:
        return {PromptSplit.TRAIN: 0, PromptSplit.HELDOUT: 0}
    wanted = heldout_count(total) if heldout is None else max(0, min(heldout, total))
    by_topic: dict[str, list[Prompt]] = defaultdict(list)
    for prompt in prompts:
        by_topic[prompt.topic].append(prompt)
    exact = {topic: wanted * len(group) / total for topic, group in by_topic.items()}
    quota = {topic: int(share) for topic, share in exact.items()}
    leftover = wanted - sum(quota.values())
    for topic in sorted(exact, key=lambda t: (-(exact[t] - quota[t]), t))[:leftover]:
        quota[topic] += 1
    for topic, group in by_topic.items():
        random.Random(f"{seed}:{topic}").shuffle(group)
        for index, prompt in enumerate(group):
            prompt.split = PromptSplit.HELDOUT if index < quota[topic] else PromptSplit.TRAIN
    with transaction.atomic():
        Prompt.objects.bulk_update(prompts, ["split"], batch_size=1000)
    return {PromptSplit.TRAIN: total - wanted, PromptSplit.HELDOUT: wanted}


@dataclass(frozen=True)
class TopicBar:
    topic: str
    train: int
    heldout: int

    @property
    def total(self) -> int:
        return self.train + self.heldout


def topic_split_counts() -> list[TopicBar]:
    """Kept prompts per topic and split (the bar chart on the prompts page), largest topics first."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for topic, split in Prompt.objects.kept().values_list("topic", "split").iterator(5000):
        counts[topic or "(no topic)"][split] += 1
    bars = [TopicBar(t, c[PromptSplit.TRAIN], c[PromptSplit.HELDOUT]) for t, c in counts.items()]
    return sorted(bars, key=lambda b: (-b.total, b.topic))
