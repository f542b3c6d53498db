"""Cohen's, Fleiss' kappa and Krippendorff's alpha against scikit-learn, statsmodels and published examples."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater

from benchmarks.agreement import (
    MISSING,
    cohen,
    encode_labels,
    fleiss_kappa,
    fleiss_kappa_from_table,
    fleiss_table,
    krippendorff_alpha,
    pairwise_counts,
    pairwise_kappa,
)
from benchmarks.agreement.cohen import cohen_kappa

HYPOTHESIS = settings(max_examples=40, deadline=None)


def sklearn_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Reference: sklearn on the items both rated (NaN = missing); NaN for no overlap, as we define it."""
    both = ~np.isnan(a) & ~np.isnan(b)
    if not both.any():
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns on the single-label case and returns NaN
        return float(cohen_kappa_score(a[both], b[both]))


@st.composite
def rating_matrices(draw: st.DrawFn, *, min_raters: int = 2) -> np.ndarray:
    n_raters = draw(st.integers(min_raters, 4))
    n_items = draw(st.integers(1, 40))
    n_labels = draw(st.integers(1, 4))
    labels = draw(arrays(np.int64, (n_raters, n_items), elements=st.integers(0, n_labels - 1))).astype(float)
    holes = draw(arrays(np.bool_, (n_raters, n_items), elements=st.booleans()))
    if draw(st.booleans()):
        labels[holes] = np.nan
    return labels


# --- label encoding -------------------------------------------------------------------------------------------------


def test_encode_labels_missing_conventions() -> None:
    assert encode_labels([[1.0, np.nan], [2.0, 1.0]]).codes.tolist() == [[0, MISSING], [1, 0]]
    words = encode_labels([["chosen", None], ["rejected", float("nan")]])
    assert words.categories == ("chosen", "rejected")
    assert words.codes.tolist() == [[0, MISSING], [1, MISSING]]
    assert encode_labels([[1, -1], [2, 1]], missing=-1).codes.tolist() == [[0, MISSING], [1, 0]]
    assert encode_labels(np.array(["A", "", "B"]), missing="").codes.tolist() == [[0, MISSING, 1]]
    assert encode_labels([True, False]).categories == (False, True)


def test_encode_labels_fixed_categories_keep_unused_columns() -> None:
    labels = encode_labels([["a", "a"]], categories=["b", "a", "c"])
    assert labels.categories == ("b", "a", "c")
    assert labels.codes.tolist() == [[1, 1]]
    with pytest.raises(ValueError, match="not in categories"):
        encode_labels([["a", "z"]], categories=["a", "b"])


def test_encode_labels_keeps_fractional_floats_and_sparse_ints() -> None:
    assert encode_labels([[0.5, 2.0, np.nan]]).categories == (0.5, 2.0)
    sparse = encode_labels([[0, 500, 10, 500]])
    assert sparse.categories == (0, 10, 500)
    assert sparse.codes.tolist() == [[0, 2, 1, 2]]
    assert encode_labels([[3, 1, 3]], missing=1).codes.tolist() == [[0, MISSING, 0]]
    assert encode_labels([[0.5, 1.5, np.nan]]).categories == (0.5, 1.5)
    gaps = encode_labels([[2, 9, 4, 2]], missing=9)  # sentinel above the labels, gap between them
    assert (gaps.categories, gaps.codes.tolist()) == ((2, 4), [[0, MISSING, 1, 0]])


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 3), st.integers(1, 12)),
        elements=st.sampled_from([-200.0, -128.0, -127.0, -1.0, 0.0, 1.0, 2.0, 126.0, 127.0, 128.0, 0.5, np.nan]),
    ),
    st.sampled_from([None, -1.0, 127.0]),
)
@HYPOTHESIS
def test_encode_labels_fast_paths_match_the_definition(ratings: np.ndarray, missing: float | None) -> None:
    labels = encode_labels(ratings, missing=missing)
    present = ~np.isnan(ratings) if missing is None else ~np.isnan(ratings) & (ratings != missing)
    assert list(labels.categories) == sorted(set(ratings[present].tolist()))
    assert np.array_equal(labels.codes == MISSING, ~present)
    decoded = labels.decode()
    assert [float(v) for v in decoded[present]] == ratings[present].tolist()
    ints = encode_labels(np.where(np.isnan(ratings), -1, ratings).astype(np.int64), missing=-1)
    if not (ratings == 0.5).any() and missing is None and not (ratings == -1).any():
        assert np.array_equal(ints.codes, labels.codes)


def test_encode_labels_already_coded_input_is_copied() -> None:
    coded = np.array([[0, 1, -1, 2]], dtype=np.int8)
    labels = encode_labels(coded, missing=-1)
    assert (labels.categories, labels.codes.tolist()) == ((0, 1, 2), [[0, 1, MISSING, 2]])
    coded[0, 0] = 2
    assert labels.codes[0, 0] == 0
    shifted = encode_labels(np.array([[5, 6, 4]]), missing=4)
    assert (shifted.categories, shifted.codes.tolist()) == ((5, 6), [[0, 1, MISSING]])


@given(rating_matrices(min_raters=1))
@HYPOTHESIS
def test_encode_labels_round_trips(ratings: np.ndarray) -> None:
    labels = encode_labels(ratings)
    decoded = labels.decode()
    assert np.array_equal(labels.codes == MISSING, np.isnan(ratings))
    present = ~np.isnan(ratings)
    assert [float(v) for v in decoded[present]] == ratings[present].tolist()


# --- Cohen's kappa --------------------------------------------------------------------------------------------------


def test_cohen_kappa_published_example() -> None:
    """Wikipedia's Cohen's kappa example: 50 grant proposals, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no → κ = 0.4."""
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    result = pairwise_kappa([a, b], raters=["A", "B"])
    assert result.kappa[0, 1] == pytest.approx(0.4, abs=1e-12)
    assert result.agreement[0, 1] == pytest.approx(0.7)
    assert result.n[0, 1] == 50
    no, yes = result.categories.index("no"), result.categories.index("yes")
    assert result.shares[0, 1, yes] == pytest.approx(0.5)  # A said yes to 25 of 50
    assert result.shares[1, 0, yes] == pytest.approx(0.6)  # B said yes to 30 of 50
    assert result.counts[0, 1, yes, no] == 5


@given(rating_matrices())
@settings(max_examples=30, deadline=None)  # sklearn takes ~1 ms a pair
def test_pairwise_kappa_equals_sklearn_on_every_pair(ratings: np.ndarray) -> None:
    result = pairwise_kappa(ratings)
    for a, b in itertools.combinations(range(ratings.shape[0]), 2):
        expected = sklearn_kappa(ratings[a], ratings[b])
        both = ~np.isnan(ratings[a]) & ~np.isnan(ratings[b])
        assert result.n[a, b] == both.sum()
        if np.isnan(expected):
            assert np.isnan(result.kappa[a, b])
        else:
            assert abs(result.kappa[a, b] - expected) <= 1e-12
        assert result.kappa[a, b] == result.kappa[b, a] or np.isnan(result.kappa[a, b])
        if both.any():
            assert result.agreement[a, b] == pytest.approx((ratings[a][both] == ratings[b][both]).mean())


def test_pairwise_kappa_of_large_integer_labels_and_repeated_calls() -> None:
    # Labels far outside int8 take the shifted fast path; pairwise_kappa keeps its codes in a reused scratch buffer,
    # so a second call on other data must not see the first one's codes.
    first = np.array([[100_000, 100_001, 99_999, 100_002], [100_001, 100_001, 100_000, 100_002]])
    second = np.array([[0, 1, 1, 0], [0, 1, 0, 0]])
    for ratings, missing in ((first, 99_999), (second, None), (first, 99_999)):
        result = pairwise_kappa(ratings, missing=missing)
        both = (ratings[0] != missing) & (ratings[1] != missing)
        assert abs(result.kappa[0, 1] - cohen_kappa_score(ratings[0][both], ratings[1][both])) <= 1e-12


def test_pairwise_kappa_string_labels_equal_sklearn() -> None:
    rng = np.random.default_rng(7)
    ratings = rng.choice(np.array(["chosen", "rejected", "abstain"], dtype=object), size=(4, 300))
    ratings[rng.random(ratings.shape) < 0.2] = None
    result = pairwise_kappa(ratings)
    for a, b in itertools.combinations(range(4), 2):
        both = (ratings[a] != None) & (ratings[b] != None)  # noqa: E711 - elementwise comparison
        expected = cohen_kappa_score(ratings[a][both].astype(str), ratings[b][both].astype(str))
        assert abs(result.kappa[a, b] - expected) <= 1e-12


@pytest.mark.parametrize("n_labels", [1, 2, 3, 4, 7, 8])  # bit planes: 1, 2, 2, 3, 3, 4
@pytest.mark.parametrize("n_items", [1, 63, 64, 65, 5000])
def test_bitset_and_matmul_counts_agree(n_items: int, n_labels: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(n_items)
    ratings = rng.integers(0, n_labels, size=(5, n_items)).astype(float)
    ratings[rng.random(ratings.shape) < 0.2] = np.nan
    labels = encode_labels(ratings)
    by_matmul = pairwise_counts(labels, method="matmul")  # 5000 items: two BLAS chunks
    assert np.array_equal(pairwise_counts(labels, method="bitset"), by_matmul)
    monkeypatch.setattr(cohen, "WORDS_PER_CHUNK", 2)  # many bitset chunks
    assert np.array_equal(pairwise_counts(labels, method="bitset"), by_matmul)
    direct = np.zeros_like(by_matmul)
    for a, b in itertools.product(range(5), repeat=2):
        both = (labels.codes[a] != MISSING) & (labels.codes[b] != MISSING)
        np.add.at(direct[a, b], (labels.codes[a][both], labels.codes[b][both]), 1)
    assert np.array_equal(by_matmul, direct)


def test_kappa_edge_cases_are_undefined_not_zero() -> None:
    nan = np.nan
    ratings = np.array(
        [
            [1, 0, 1, 0, nan, nan],  # 0: two labels
            [1, 0, 1, 0, nan, nan],  # 1: agrees fully with 0
            [1, 1, 1, 1, nan, nan],  # 2: one label only
            [1, 1, 1, 1, nan, nan],  # 3: the same single label as 2
            [nan, nan, nan, nan, 0, 1],  # 4: no overlap with 0-3
            [0, 1, 0, 1, nan, nan],  # 5: always disagrees with 0
        ]
    )
    result = pairwise_kappa(ratings)
    assert result.kappa[0, 1] == 1.0
    assert np.isnan(result.kappa[2, 3])  # both used one identical label: p_e = 1
    assert result.agreement[2, 3] == 1.0
    assert result.kappa[0, 2] == 0.0  # one rater constant, the other not: defined, p_o = p_e
    assert np.isnan(result.kappa[0, 4])  # no overlap
    assert result.n[0, 4] == 0
    assert np.isnan(result.agreement[0, 4])
    assert np.isnan(result.shares[0, 4]).all()
    assert result.kappa[0, 5] == -1.0
    records = {(r["rater_a"], r["rater_b"]): r for r in result.records()}
    assert records[("rater_0", "rater_4")]["kappa"] is None
    assert records[("rater_0", "rater_4")]["n"] == 0
    assert records[("rater_0", "rater_2")]["share_b_1"] == 1.0


def test_two_rater_convenience_and_all_missing() -> None:
    kappa, n = cohen_kappa([1, 0, 1, np.nan], [1, 0, 0, 1])
    assert n == 3
    assert kappa == pytest.approx(sklearn_kappa(np.array([1, 0, 1.0]), np.array([1, 0, 0.0])))
    for n_items in (4, 5000):  # both counting methods
        empty = pairwise_kappa(np.full((3, n_items), np.nan))
        assert np.isnan(empty.kappa).all()
        assert (empty.n == 0).all()
        assert empty.categories == ()


# --- Fleiss' kappa --------------------------------------------------------------------------------------------------

# Wikipedia's Fleiss' kappa example (also statsmodels' test table): 10 subjects, 14 raters, 5 categories, κ = 0.210.
WIKIPEDIA_FLEISS = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def table_to_ratings(table: np.ndarray) -> np.ndarray:
    """A raters x items matrix with the given item x category counts (rater identity is arbitrary in Fleiss)."""
    return np.stack([np.repeat(np.arange(table.shape[1]), row) for row in table], axis=1)


def test_fleiss_kappa_published_example() -> None:
    ratings = table_to_ratings(WIKIPEDIA_FLEISS)
    assert ratings.shape == (14, 10)
    assert fleiss_kappa(ratings) == pytest.approx(0.2099307, abs=1e-7)
    assert np.array_equal(fleiss_table(ratings), WIKIPEDIA_FLEISS)


def test_fleiss_kappa_statsmodels_diagnoses_data() -> None:
    """statsmodels' own test data (Fleiss 1971 diagnoses, 30 subjects x 6 raters; R irr::kappam.fleiss 0.4302445)."""
    tests = pytest.importorskip("statsmodels.stats.tests.test_inter_rater")
    diagnoses = tests.diagnoses  # subjects x raters
    assert fleiss_kappa(diagnoses.T) == pytest.approx(0.4302445, abs=1e-7)


@given(
    st.integers(2, 6).flatmap(
        lambda raters: arrays(np.int64, st.tuples(st.just(raters), st.integers(1, 30)), elements=st.integers(0, 3))
    )
)
@HYPOTHESIS
def test_fleiss_kappa_equals_statsmodels(ratings: np.ndarray) -> None:
    table, _ = inter_rater.aggregate_raters(ratings.T)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        expected = inter_rater.fleiss_kappa(table)
    ours = fleiss_kappa(ratings)
    if len(np.unique(ratings)) == 1:
        assert np.isnan(ours)  # every rating the same label: P_e = 1, undefined
    else:
        assert ours == pytest.approx(expected, abs=1e-12)


def test_fleiss_kappa_randolph_and_undefined() -> None:
    assert fleiss_kappa_from_table([[7, 1], [3, 5]], method="randolph") == pytest.approx(0.214286, abs=6e-6)
    assert fleiss_kappa_from_table([[6, 1, 0], [0, 7, 0]]) == pytest.approx(0.708333, abs=6e-6)
    assert np.isnan(fleiss_kappa([[1, 1, 1], [1, 1, 1]]))
    assert np.isnan(fleiss_kappa(np.full((3, 2), np.nan)))
    assert np.isnan(fleiss_kappa([[1, 0, 1]]))  # one rating per item: no pairs


def test_fleiss_kappa_needs_equal_raters_per_item() -> None:
    ratings = np.array([[0, 1, 1, 0], [0, 1, np.nan, 1], [0, 1, 1, 1]])
    with pytest.raises(ValueError, match="equal ratings per item"):
        fleiss_kappa(ratings)
    kept = fleiss_kappa(ratings, drop_incomplete=True)
    assert kept == pytest.approx(fleiss_kappa(ratings[:, [0, 1, 3]]))


# --- Krippendorff's alpha -------------------------------------------------------------------------------------------

# The canonical reliability-data example (Wikipedia "Krippendorff's alpha"; the README of the GPL krippendorff package):
# 3 coders x 15 units, * = missing. Nominal alpha = 0.691358, interval alpha = 0.810845.
CANONICAL = """
*    *    *    *    *    3    4    1    2    1    1    3    3    *    3
1    *    2    1    3    3    4    3    *    *    *    *    *    *    *
*    *    2    1    3    4    4    *    2    1    1    3    3    *    4
"""

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: 4 observers x 12 units.
KRIPPENDORFF_2011 = """
1 2 3 3 2 1 4 1 2 * * *
1 2 3 3 2 2 4 1 2 5 * 3
* 3 3 3 2 3 4 2 2 5 1 *
1 2 3 3 2 4 4 1 2 5 1 *
"""


def parse(text: str) -> np.ndarray:
    return np.array([[np.nan if v == "*" else float(v) for v in line.split()] for line in text.strip().splitlines()])


def test_krippendorff_alpha_canonical_example() -> None:
    data = parse(CANONICAL)
    assert round(krippendorff_alpha(data, level="nominal"), 6) == 0.691358
    assert round(krippendorff_alpha(data, level="interval"), 6) == 0.810845


@pytest.mark.parametrize(
    ("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_alpha_2011_paper(level: str, expected: float) -> None:
    assert round(krippendorff_alpha(parse(KRIPPENDORFF_2011), level=level), 3) == expected  # type: ignore[arg-type]


def naive_alpha(ratings: np.ndarray, level: str) -> float:
    """Textbook definition by explicit pair enumeration: 1 - D_o / D_e over pairable values."""
    units = [[v for v in col if not np.isnan(v)] for col in ratings.T]
    units = [u for u in units if len(u) >= 2]
    values = [v for u in units for v in u]
    n = len(values)
    if n == 0:
        return float("nan")

    def delta(c: float, k: float) -> float:
        return float(c != k) if level == "nominal" else (c - k) ** 2

    observed = sum(
        sum(delta(u[i], u[j]) for i in range(len(u)) for j in range(len(u)) if i != j) / (len(u) - 1) for u in units
    )
    expected = sum(delta(values[i], values[j]) for i in range(n) for j in range(n) if i != j)
    if expected == 0:
        return float("nan")
    return 1 - (n - 1) * observed / expected


@given(rating_matrices(), st.sampled_from(["nominal", "interval"]))
@HYPOTHESIS
def test_krippendorff_alpha_equals_pair_enumeration(ratings: np.ndarray, level: str) -> None:
    ours = krippendorff_alpha(ratings, level=level)  # type: ignore[arg-type]
    expected = naive_alpha(ratings, level)
    assert (np.isnan(ours) and np.isnan(expected)) or ours == pytest.approx(expected, abs=1e-9)


def test_krippendorff_alpha_undefined_and_string_labels() -> None:
    assert np.isnan(krippendorff_alpha([[1, 1, 1], [1, 1, 1]]))  # one value only: D_e = 0
    assert np.isnan(krippendorff_alpha([[1, np.nan], [np.nan, 2]]))  # no unit with two ratings
    assert krippendorff_alpha([["a", "b", "a"], ["a", "b", "a"]]) == 1.0
    with pytest.raises(ValueError, match="numeric labels"):
        krippendorff_alpha([["a", "b"], ["a", "b"]], level="interval")


@pytest.mark.parametrize(("n_resamples", "n_groups", "seed"), [(500, 1586, 0), (7, 3, 1), (40, 1, 2), (5, 0, 0)])
def test_group_weights_count_the_resamples_group_draws_draws(n_resamples: int, n_groups: int, seed: int) -> None:
    """The bootstraps count each resample's draws as they are drawn; they must be ``group_draws``' resamples."""
    from benchmarks.agreement.bootstrap import group_draws, group_weights

    _, draws = group_draws(np.arange(n_groups), n_resamples=n_resamples, seed=seed)
    expected = np.array([np.bincount(row, minlength=n_groups) for row in draws]).reshape(n_resamples, n_groups)
    assert np.array_equal(group_weights(n_groups, n_resamples=n_resamples, seed=seed), expected)
