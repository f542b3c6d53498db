"""Majority vote over one question's answers: a pure function, no ORM."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from benchmarks.judging.models import Choice


class MajorityStatus(StrEnum):
    MAJORITY = "majority"  # one side reached the threshold
    TIE = "tie"  # equal votes on both sides
    NO_MAJORITY = "no_majority"  # one side leads but is short of the threshold
    NO_VOTES = "no_votes"


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

    @property
    def status(self) -> MajorityStatus:
        if not self.votes:
            return MajorityStatus.NO_VOTES
        if self.label:
            return MajorityStatus.MAJORITY
        return MajorityStatus.TIE if self.tie else MajorityStatus.NO_MAJORITY

    @property
    def outcome(self) -> str:
        """The result in words, as the report and ``majority.csv`` both show it: the winning label, "tie",
        "no majority: 1 rater" (too few raters to reach the threshold at all — not a tie), "no majority: 2 of 3
        (3 needed)", or "no votes"."""
        status = self.status
        if status == MajorityStatus.MAJORITY:
            return self.label
        if status == MajorityStatus.TIE:
            return "tie"
        if status == MajorityStatus.NO_VOTES:
            return "no votes"
        if self.votes < self.threshold:
            return f"no majority: {self.votes} rater{'s' if self.votes != 1 else ''}"
        return f"no majority: {max(self.chosen_votes, self.rejected_votes)} of {self.votes} ({self.threshold} needed)"


def majority_compute(*, votes: Sequence[str], threshold: int) -> MajorityResult:
    """Count chosen/rejected votes (blanks ignored); a side wins when it has at least ``threshold`` votes.

    With more raters than 2 * threshold - 1 both sides could reach the threshold; the larger side wins then, and
    equal counts are a tie with no label.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    chosen = sum(1 for vote in votes if vote == Choice.CHOSEN)
    rejected = sum(1 for vote in votes if vote == Choice.REJECTED)
    tie = chosen == rejected and chosen > 0
    label = ""
    if not tie:
        leader, count = (Choice.CHOSEN.value, chosen) if chosen > rejected else (Choice.REJECTED.value, rejected)
        if count >= threshold:
            label = leader
    return MajorityResult(chosen, rejected, threshold, label, tie)
