"""The report's numbers against a small case computed by hand (see conftest: HUMANS, JUDGE_AB, JUDGE_BA)."""

from __future__ import annotations

import pytest

from annotation.reports.ratings import study_ratings
from annotation.reports.study_report import report_compute


def _row(table: dict, **match: object) -> dict:
    rows = [row for row in table["rows"] if all(row[k] == v for k, v in match.items())]
    assert len(rows) == 1, (match, table["rows"])
    return rows[0]


@pytest.fixture
def report(hand_study):
    return report_compute(ratings=study_ratings(study=hand_study))


def test_human_majority_and_judge_labels(hand_study):
    ratings = study_ratings(study=hand_study)
    assert ratings.majority == ["chosen", "chosen", "rejected", "chosen"]
    assert ratings.votes == [(3, 0), (2, 1), (0, 3), (2, 1)]
    (judge,) = ratings.judges
    # Q2 flips with the order (C in AB, R in BA): abstain; Q4 is R in both orders.
    assert judge.aggregated == ["chosen", "abstain", "rejected", "rejected"]


def test_kappa_matrix_numbers(report):
    pairwise = report["tables"]["pairwise"]
    # Majority C C R C vs the judge's AB replies C C R R: p_o = 3/4, p_e = 3/4*1/2 + 1/4*1/2 = 1/2 → kappa 0.5.
    ab = _row(pairwise, rater_a="Human majority", rater_b="hand-judge · AB")
    assert (ab["n"], ab["ties"]) == (4, 0)
    assert ab["kappa"] == pytest.approx(0.5)
    assert ab["agreement"] == pytest.approx(0.75)
    assert ab["share_a_chosen"] == pytest.approx(0.75)
    assert ab["share_b_chosen"] == pytest.approx(0.5)
    ba = _row(pairwise, rater_a="Human majority", rater_b="hand-judge · BA")
    # BA: C R R R against C C R C: p_o 1/2, p_e = 1/4*3/4 + 3/4*1/4 = 3/8 → kappa 0.2.
    assert ba["kappa"] == pytest.approx(0.2)
    assert not [row for row in pairwise["rows"] if row["rater_b"] == "hand-judge"]  # no order-consistent-only kappa
    assert ab["ci_low"] is None
    assert ab["ci_note"] == "no interval: 1 persona (at least 10 needed for a bootstrap over personas)"
    assert ab["ci_resamples_defined"] == ""  # refused before any resample counted: no "500 of 500"
    # AB vs BA: C C R R vs C R R R: p_o 3/4, p_e = 1/2*1/4 + 1/2*3/4 = 1/2 → 0.5.
    orders = _row(pairwise, rater_a="hand-judge · AB", rater_b="hand-judge · BA")
    assert orders["kappa"] == pytest.approx(0.5)
    matrix = report["matrix"]
    assert matrix["raters"] == ["Human majority", "hand-judge · AB", "hand-judge · BA"]
    assert matrix["kappa"][0][1] == pytest.approx(0.5)


def test_judges_pool_both_orders_so_a_flip_counts_against_them(report):
    (judge,) = report["tables"]["judges"]["rows"]
    # Both orders against C C R C: judge C & majority C 3, judge R & majority C 3, R & R 2 (n = 8, nothing left out);
    # p_o = 5/8, p_e = 3/8*6/8 + 5/8*2/8 = 7/16 → kappa = (3/16)/(9/16) = 1/3. Q2 flips: it is in n, not dropped.
    assert (judge["n"], judge["ties"]) == (8, 0)
    assert judge["kappa"] == pytest.approx(1 / 3)
    assert (judge["kappa_ab"], judge["kappa_ba"]) == (pytest.approx(0.5), pytest.approx(0.2))
    assert (judge["order_consistent"], judge["consistent"], judge["n_both_orders"]) == (0.75, 3, 4)
    assert judge["ci_low"] is None and "1 persona " in judge["ci_note"]  # noqa: PT018


def test_leave_one_out_headline(report):
    """Each human against the other two raters' strict majority (Q2 and Q4 split for some: left out), and the judge
    against exactly those references in both orders."""
    rows = {row["rater"]: row for row in report["tables"]["loo"]["rows"]}
    humans = rows["Humans"]
    # Defined pairs: r1 Q1 CC Q3 RR Q4 RC; r2 Q1 CC Q2 RC Q3 RR; r3 Q1 CC Q3 RR → CC 3, RR 3, RC 2 (4 ties).
    # p_o 6/8, p_e = 3/8*5/8 + 5/8*3/8 = 30/64 → kappa = (18/64)/(34/64) = 9/17.
    assert (humans["n"], humans["ties"]) == (8, 4)
    assert humans["kappa"] == pytest.approx(9 / 17)
    judge = rows["hand-judge"]
    # AB (C C R R): CC 4, RR 3, RC 1; BA (C R R R): CC 3, RR 3, RC 2 → pooled CC 7, RR 6, RC 3 (n 16):
    # p_o 13/16, p_e = 7/16*10/16 + 9/16*6/16 = 124/256 → kappa = (84/256)/(132/256) = 7/11.
    assert (judge["n"], judge["ties"]) == (16, 8)
    assert judge["kappa"] == pytest.approx(7 / 11)
    assert judge["kappa_ab"] == pytest.approx(0.75)
    assert judge["kappa_ba"] == pytest.approx(9 / 17)
    # Each human against the others: r1 has Q1 CC, Q3 RR, Q4 RC (Q2 tied): p_o 2/3, p_e 4/9 → 0.4.
    vs = report["tables"]["human_vs_judges"]["rows"]
    r1 = min(row["participant"] for row in vs)
    (others,) = [row for row in vs if row["participant"] == r1 and row["rater_b"].startswith("Others")]
    assert (others["n"], others["ties"]) == (3, 1)
    assert others["kappa"] == pytest.approx(0.4)
    pairs = report["tables"]["loo_pairs"]["rows"]
    assert len(pairs) == 12
    assert sum(row["others_status"] == "tie" for row in pairs) == 4


def test_human_human_baseline(report):
    pairs = report["tables"]["human_pairs"]["rows"]
    assert sorted(round(row["kappa"], 6) for row in pairs) == [0.0, 0.5, 0.5]
    assert all(row["n"] == 4 for row in pairs)
    baseline = {row["statistic"]: row for row in report["tables"]["human_baseline"]["rows"]}
    pooled = baseline["Cohen's kappa, pooled over every pair of raters of the same persona"]
    # Summed tables: CC 5, CR 1, RC 3, RR 3 → p_o 2/3, p_e 1/2 → 1/3.
    assert pooled["value"] == pytest.approx(1 / 3)
    assert (pooled["n"], pooled["pairs"]) == (12, 3)
    # Counts per question [3,0] [2,1] [0,3] [2,1]: P̄ = 2/3, shares 7/12 and 5/12, P_e = 74/144 → 11/35.
    assert baseline["Fleiss' kappa (varying raters per question)"]["value"] == pytest.approx(11 / 35)
    alpha = baseline["Krippendorff's alpha (nominal)"]
    assert alpha["headline"] == "headline" and alpha["value"] == pytest.approx(13 / 35)  # noqa: PT018
    assert all(row["what_it_is"] for row in baseline.values())


def test_persona_kappa_position_bias_confusion_coverage(report):
    (persona,) = report["tables"]["persona_kappa"]["rows"]
    assert (persona["n"], persona["ties"]) == (8, 0)  # both orders pooled, as in the judges table
    assert persona["kappa"] == pytest.approx(1 / 3)
    (bias,) = report["tables"]["position_bias"]["rows"]
    # Per question (AB shows chosen first, BA rejected first): Q1 C/C balanced, Q2 C/R first twice, Q3 R/R and
    # Q4 R/R balanced → 1 favours the first answer, none the second; sign test p = 1. Replies: 5 of 8 first.
    assert (bias["favour_first"], bias["favour_second"], bias["balanced"], bias["n_items"]) == (1, 0, 3, 4)
    assert bias["p_value"] == pytest.approx(1.0)
    assert (bias["n_replies"], bias["ties"]) == (8, 0)
    assert bias["share_first"] == pytest.approx(0.625)
    confusion = {row["human_majority"]: row for row in report["tables"]["confusion"]["rows"]}
    chosen = confusion["chosen"]
    assert (chosen["judge_chosen"], chosen["judge_rejected"], chosen["judge_abstain"], chosen["judge_invalid"]) == (
        1,
        1,
        1,
        0,
    )
    assert confusion["rejected"]["judge_rejected"] == 1
    assert sum(confusion["tie"][k] for k in confusion["tie"] if k.startswith("judge_")) == 0
    curve = report["tables"]["coverage"]["rows"]
    # Decisive: Q1 (confidence 90, agrees), Q3 (80, agrees), Q4 (50, disagrees).
    assert [(row["min_confidence"], row["n"]) for row in curve] == [(90.0, 1), (80.0, 2), (50.0, 3)]
    assert [row["agreement"] for row in curve] == pytest.approx([1.0, 1.0, 2 / 3])
    assert [row["coverage"] for row in curve] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert {row["ties"] for row in curve} == {1}  # Q2: the judge's orders disagree
    assert curve[0]["kappa"] is None  # one item, one label: undefined, not 0
    assert curve[2]["kappa"] == pytest.approx(0.4)


def test_undefined_is_none_not_zero(report):
    raters = {row["rater"]: row for row in report["tables"]["raters"]["rows"]}
    assert raters["hand-judge · AB"]["ties"] == 0
    assert raters["Human majority"]["n_decisive"] == 4
    model = report["tables"]["model_model"]["rows"]
    assert model == []  # one judge: no model-model pair
