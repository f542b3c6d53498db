"""Majority vote over one question's answers: a pure function, no ORM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CHOSEN = "chosen"
REJECTED = "rejected"


@dataclass(frozen=True)
class MajorityResult:
    chosen_votes: int
    rejected_votes: int
    threshold: int
    label: str  # "chosen", "rejected", or "" when no side reached the threshold
    tie: bool

    @property
    def votes(self) -> int:
        return self.chosen_votes + self.rejected_votes

    @property
    def reached(self) -> bool:
        return bool(self.label)


def majority_compute(*, votes: Sequence[str], threshold: int) -> MajorityResult:
    """Count chosen/rejected votes (blanks ignored); a side wins when it has at least ``threshold`` votes.

    With more raters than 2 * threshold - 1 both sides could reach the threshold; the larger side wins then, and
    equal counts are a tie with no label.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    chosen = sum(1 for vote in votes if vote == CHOSEN)
    rejected = sum(1 for vote in votes if vote == REJECTED)
    tie = chosen == rejected and chosen > 0
    label = ""
    if not tie:
        leader, count = (CHOSEN, chosen) if chosen > rejected else (REJECTED, rejected)
        if count >= threshold:
            label = leader
    return MajorityResult(chosen, rejected, threshold, label, tie)
