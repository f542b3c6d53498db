"""The designs around the formulas: per-rater references (leave-one-out majorities) and like-for-like judge
scoring, Fleiss with varying raters, cluster bootstrap of pooled tables and when to show its interval, per-item
position bias, order consistency. Checked against scikit-learn, statsmodels, scipy and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater

from benchmarks.agreement import (
    MISSING,
    ConfidenceInterval,
    bootstrap_ci,
    bootstrap_tables,
    encode_labels,
    fleiss_kappa_varying,
    kappa_from_counts,
    order_consistency,
    paired_tables,
    pairwise_kappa,
    position_bias,
    position_bias_by_item,
    reportable_interval,
)


def test_pooled_kappa_against_per_rater_references_is_sklearn_on_the_expanded_pairs() -> None:
    """Humans against their own reference (e.g. a leave-one-out majority) and a judge against the same references."""
    rng = np.random.default_rng(7)
    labels_with_none = np.array(["chosen", "rejected", None], dtype=object)
    humans = rng.choice(labels_with_none, size=(3, 60), p=[0.5, 0.35, 0.15])
    reference = rng.choice(labels_with_none, size=(3, 60), p=[0.5, 0.3, 0.2])
    judge = rng.choice(labels_with_none, size=60, p=[0.6, 0.3, 0.1])
    persona = np.repeat(np.arange(6), 10)
    labels = encode_labels(humans, categories=("chosen", "rejected"))
    reference_codes = encode_labels(reference, categories=("chosen", "rejected")).codes

    human_tables, ids = paired_tables(labels.codes, reference_codes, persona, n_categories=2)
    pairs = [(humans[r, i], reference[r, i]) for r in range(3) for i in range(60)]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    assert ids.tolist() == list(range(6))
    assert human_tables.sum() == len(pairs)
    assert kappa_from_counts(human_tables.sum(0))[0] == pytest.approx(cohen_kappa_score(*zip(*pairs, strict=True)))

    # The judge against the same references, on the (rater, item) pairs the humans contribute.
    judge_codes = encode_labels(judge, categories=("chosen", "rejected")).codes[0]
    judge_rows = np.where(labels.rated, judge_codes[np.newaxis, :], MISSING)
    judge_tables, _ = paired_tables(judge_rows, reference_codes, persona, n_categories=2)
    judge_pairs = [
        (judge[i], reference[r, i])
        for r in range(3)
        for i in range(60)
        if humans[r, i] is not None and judge[i] is not None and reference[r, i] is not None
    ]
    assert judge_tables.sum() == len(judge_pairs)
    expected = cohen_kappa_score(*zip(*judge_pairs, strict=True))
    assert kappa_from_counts(judge_tables.sum(0))[0] == pytest.approx(expected)


def test_fleiss_varying_equals_statsmodels_when_every_item_has_the_same_raters() -> None:
    rng = np.random.default_rng(1)
    for _ in range(50):
        raters, items, cats = rng.integers(2, 7), rng.integers(2, 30), rng.integers(2, 5)
        table = np.stack([rng.multinomial(raters, rng.dirichlet(np.ones(cats))) for _ in range(items)])
        if (table.sum(0) == table.sum()).any():
            continue  # one label only: undefined
        assert fleiss_kappa_varying(table) == pytest.approx(inter_rater.fleiss_kappa(table), abs=1e-12)


def test_fleiss_varying_by_hand_and_keeps_every_item() -> None:
    # Item 1: 3 raters (2 chosen, 1 rejected); item 2: 2 raters (both rejected); item 3: 1 rater (chosen).
    table = np.array([[2, 1], [0, 2], [1, 0]])
    observed = np.mean([(2 * 1 + 0) / (3 * 2), (0 + 2 * 1) / (2 * 1)])  # items with 2+ ratings
    shares = np.mean([[2 / 3, 1 / 3], [0, 1], [1, 0]], axis=0)  # items with 1+ rating
    expected = (shares**2).sum()
    assert fleiss_kappa_varying(table) == pytest.approx((observed - expected) / (1 - expected))
    assert np.isnan(fleiss_kappa_varying(np.array([[1, 0], [0, 1]])))  # no item with two ratings
    assert np.isnan(fleiss_kappa_varying(np.array([[3, 0], [2, 0]])))  # one label only


def test_bootstrap_of_pooled_tables_equals_the_label_bootstrap_with_the_same_seed() -> None:
    rng = np.random.default_rng(5)
    pair = rng.choice(np.array(["chosen", "rejected"], dtype=object), size=(2, 80))
    copied = rng.random(80) < 0.5
    pair[1, copied] = pair[0, copied]  # some real agreement
    pair[1, rng.random(80) < 0.1] = None  # and some missing ratings
    groups = np.repeat(np.arange(16), 5)
    codes = encode_labels(pair, categories=("chosen", "rejected")).codes
    tables, _ = paired_tables(codes[0], codes[1], groups, n_categories=2)
    by_tables = bootstrap_tables(tables, n_resamples=300, seed=11)
    by_labels = bootstrap_ci(lambda m: pairwise_kappa(m).kappa[0, 1], pair, groups, n_resamples=300, seed=11)
    assert by_tables.estimate == pytest.approx(by_labels.estimate)
    assert by_tables.low == pytest.approx(by_labels.low)
    assert by_tables.high == pytest.approx(by_labels.high)
    assert by_tables.n_valid == by_labels.n_valid


def test_an_interval_is_shown_only_with_enough_personas_and_defined_resamples() -> None:
    fine = ConfidenceInterval(0.4, 0.2, 0.6, 0.95, 500, 500)
    assert reportable_interval(fine, n_groups=12).low == 0.2
    few = reportable_interval(fine, n_groups=9)
    assert few.low is None and "9 personas" in few.reason  # noqa: PT018
    shaky = reportable_interval(ConfidenceInterval(0.4, 0.2, 0.6, 0.95, 500, 430), n_groups=30)
    assert shaky.low is None and "430 of 500" in shaky.reason  # noqa: PT018
    assert shaky.n_valid == 430
    # Columns: the defined-resample count only where the resamples were looked at.
    assert few.columns() == {"ci_low": None, "ci_high": None, "ci_resamples_defined": "", "ci_note": few.reason}
    assert shaky.columns()["ci_resamples_defined"] == "430 of 500"
    assert reportable_interval(fine, n_groups=12).columns()["ci_resamples_defined"] == "500 of 500"


def test_position_bias_per_item_treats_the_samples_of_one_item_as_one_observation() -> None:
    """Four items, ten samples each in one order, always the first-shown answer: a reply-level binomial test says
    p < 1e-11; per item it is four signs, p = 0.125."""
    options = ("chosen", "rejected")
    items = np.repeat(np.arange(4), 10)
    first = np.where(items % 2 == 0, "chosen", "rejected").astype(object)
    replies = first.copy()
    per_reply = position_bias(replies, first, options=options)
    assert per_reply.p_value[0] < 1e-11
    per_item = position_bias_by_item(replies, first, items, options=options)
    assert (per_item.favour_first, per_item.favour_second, per_item.n_items) == (4, 0, 4)
    assert per_item.p_value == pytest.approx(stats.binomtest(4, 4, 0.5).pvalue) == pytest.approx(0.125)


def test_position_bias_per_item_by_hand() -> None:
    options = ("chosen", "rejected")
    # item 0: consistent judge, both orders → balanced; item 1: first-shown twice; item 2: second-shown + abstain.
    items = np.array([0, 0, 1, 1, 2, 2])
    first = np.array(["chosen", "rejected", "chosen", "rejected", "chosen", "chosen"], dtype=object)
    replies = np.array(["chosen", "chosen", "chosen", "rejected", "rejected", "abstain"], dtype=object)
    result = position_bias_by_item(replies, first, items, options=options)
    assert (result.favour_first, result.favour_second, result.balanced) == (1, 1, 1)
    assert result.n_other == 1
    assert result.share_first == pytest.approx(3 / 5)
    assert result.mean_item_share == pytest.approx((0.5 + 1 + 0) / 3)
    assert result.p_value == pytest.approx(1.0)


def test_order_consistency_counts_flips_and_abstentions_as_inconsistent() -> None:
    ab = ["chosen", "chosen", "rejected", "abstain", None]
    ba = ["chosen", "rejected", "rejected", "chosen", "chosen"]
    result = order_consistency(ab, ba, options=("chosen", "rejected"))
    assert (result.consistent, result.inconsistent, result.n) == (2, 2, 4)
    assert result.share == 0.5
