from __future__ import annotations

import pytest

from annotation.services.majority import majority_compute


@pytest.mark.parametrize(
    ("votes", "threshold", "label", "tie", "counts"),
    [
        (["chosen"] * 3 + ["rejected"], 3, "chosen", False, (3, 1)),
        (["chosen", "chosen", "rejected", "rejected"], 3, "", True, (2, 2)),
        (["rejected"] * 4, 3, "rejected", False, (0, 4)),
        (["chosen", "chosen", "rejected"], 3, "", False, (2, 1)),
        (["chosen", "chosen", ""], 2, "chosen", False, (2, 0)),
        ([], 3, "", False, (0, 0)),
        (["chosen"] * 3 + ["rejected"] * 3, 2, "", True, (3, 3)),
        (["chosen"] * 4 + ["rejected"] * 3, 3, "chosen", False, (4, 3)),
    ],
)
def test_majority_compute(votes: list[str], threshold: int, label: str, tie: bool, counts: tuple[int, int]) -> None:
    result = majority_compute(votes=votes, threshold=threshold)
    assert result.label == label
    assert result.tie is tie
    assert (result.chosen_votes, result.rejected_votes) == counts
    assert result.reached is bool(label)


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="threshold"):
        majority_compute(votes=["chosen"], threshold=0)


@pytest.mark.parametrize(
    ("votes", "threshold", "outcome"),
    [
        (["chosen", "chosen", "rejected"], 2, "chosen"),
        (["chosen", "rejected"], 2, "tie"),
        (["rejected"], 2, "no majority: 1 rater"),
        (["chosen", "rejected", "chosen"], 3, "no majority: 2 of 3 (3 needed)"),
        ([], 2, "no votes"),
    ],
)
def test_outcome_in_words_tells_too_few_raters_from_a_tie(votes: list[str], threshold: int, outcome: str) -> None:
    assert majority_compute(votes=votes, threshold=threshold).outcome == outcome
