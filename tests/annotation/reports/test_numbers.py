"""The report's numbers against a small case computed by hand (see conftest: HUMANS, JUDGE_AB, JUDGE_BA)."""

from __future__ import annotations

import pytest

from annotation.reports.compute import report_compute
from annotation.reports.ratings import study_ratings


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
    # Both orders: C - R R against the majority's C C R C: Q2 is a tie, n = 3 (Q1 agree, Q3 agree, Q4 not);
    # p_o = 2/3, p_e = 2/3*1/3 + 1/3*2/3 = 4/9 → kappa = (2/9)/(5/9) = 0.4.
    both = _row(pairwise, rater_a="Human majority", rater_b="hand-judge")
    assert (both["n"], both["ties"]) == (3, 1)
    assert both["kappa"] == pytest.approx(0.4)
    assert both["agreement"] == pytest.approx(2 / 3)
    assert both["band"] == "fair"
    # AB vs BA: C C R R vs C R R R: p_o 3/4, p_e = 1/2*1/4 + 1/2*3/4 = 1/2 → 0.5.
    orders = _row(pairwise, rater_a="hand-judge · AB", rater_b="hand-judge · BA")
    assert orders["kappa"] == pytest.approx(0.5)
    matrix = report["matrix"]
    assert matrix["raters"] == ["Human majority", "hand-judge · AB", "hand-judge · BA", "hand-judge"]
    assert matrix["kappa"][0][1] == pytest.approx(0.5)
    assert matrix["n"][0][3] == 3


def test_human_human_baseline(report):
    pairs = report["tables"]["human_pairs"]["rows"]
    assert sorted(round(row["kappa"], 6) for row in pairs) == [0.0, 0.5, 0.5]
    assert all(row["n"] == 4 for row in pairs)
    pooled = report["tables"]["human_baseline"]["rows"][0]
    # Summed tables: CC 5, CR 1, RC 3, RR 3 → p_o 2/3, p_e 1/2 → 1/3.
    assert pooled["value"] == pytest.approx(1 / 3)
    assert (pooled["n"], pooled["pairs"]) == (12, 3)


def test_persona_kappa_position_bias_confusion_coverage(report):
    (persona,) = report["tables"]["persona_kappa"]["rows"]
    assert (persona["n"], persona["ties"]) == (3, 1)
    assert persona["kappa"] == pytest.approx(0.4)
    (bias,) = report["tables"]["position_bias"]["rows"]
    # AB: picked first when chosen (2 of 4); BA: picked first when rejected (3 of 4) → 5 of 8.
    assert (bias["n_first"], bias["n_decisive"], bias["ties"]) == (5, 8, 0)
    assert bias["share_first"] == pytest.approx(0.625)
    assert bias["order_consistent"] == pytest.approx(0.75)
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
    assert raters["hand-judge"]["ties"] == 1
    assert raters["Human majority"]["n_decisive"] == 4
    model = report["tables"]["model_model"]["rows"]
    assert model == []  # one judge: no model-model pair
