"""The order-aggregated answer of a judge on one item (persona x pair), from its replies in both A/B orders.

1. Per order, the samples vote: the decisive label (chosen/rejected) with more votes wins; equal votes, or only
   "can't tell" replies, give ``abstain``; only invalid replies give ``invalid``.
2. Across orders: when both orders give the same decisive label, that label; when both are ``invalid``, ``invalid``;
   otherwise (the orders disagree, one abstains, or one reply is invalid) ``abstain`` — a judge whose pick flips
   with the order has no preference we can trust. An item missing an order has no aggregated answer (None).

Reports treat ``abstain`` and ``invalid`` as "no decisive label": such items leave the kappa (as missing ratings)
and are counted beside it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from benchmarks.judging.models import DECISIVE, Choice


def order_answer(choices: Iterable[str]) -> str | None:
    """One order's answer from its samples' choices; None when there are no samples."""
    counts = Counter(choices)
    if not counts:
        return None
    chosen, rejected = counts[Choice.CHOSEN], counts[Choice.REJECTED]
    if chosen != rejected:
        return Choice.CHOSEN.value if chosen > rejected else Choice.REJECTED.value
    if chosen == 0 and counts[Choice.ABSTAIN] == 0:
        return Choice.INVALID.value
    return Choice.ABSTAIN.value


def aggregated_answer(ab: str | None, ba: str | None) -> str | None:
    """The order-aggregated answer from the two orders' answers (see the module docstring)."""
    if ab is None or ba is None:
        return None
    if ab == ba and ab in DECISIVE:
        return ab
    if ab == ba == Choice.INVALID:
        return Choice.INVALID.value
    return Choice.ABSTAIN.value
