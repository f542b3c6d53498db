"""Agreement statistics: pure functions over rater x item label arrays (no ORM), tested against scikit-learn,
statsmodels and published examples.

A label matrix has one row per rater and one column per item; labels are small ints or strings and missing ratings
are ``NaN``/``None`` (or a ``missing=`` sentinel you name) — see ``benchmarks.agreement.labels``. Every statistic
returns NaN where it is undefined (no overlap, a single shared label, no pairable ratings), never 0.
"""

from __future__ import annotations

from benchmarks.agreement.bands import UNDEFINED, landis_koch, landis_koch_bands
from benchmarks.agreement.bootstrap import ConfidenceInterval, bootstrap_ci, bootstrap_pairwise_kappa
from benchmarks.agreement.cohen import (
    PairwiseKappa,
    cohen_kappa,
    kappa_from_counts,
    pairwise_counts,
    pairwise_kappa,
)
from benchmarks.agreement.fleiss import fleiss_kappa, fleiss_kappa_from_table, fleiss_table, item_counts
from benchmarks.agreement.krippendorff import coincidence_matrix, krippendorff_alpha
from benchmarks.agreement.labels import MISSING, LabelMatrix, encode_labels
from benchmarks.agreement.report import (
    CoverageCurve,
    GroupKappa,
    PositionBias,
    agreement_coverage,
    per_group_kappa,
    position_bias,
)

__all__ = [
    "MISSING",
    "UNDEFINED",
    "ConfidenceInterval",
    "CoverageCurve",
    "GroupKappa",
    "LabelMatrix",
    "PairwiseKappa",
    "PositionBias",
    "agreement_coverage",
    "bootstrap_ci",
    "bootstrap_pairwise_kappa",
    "cohen_kappa",
    "coincidence_matrix",
    "encode_labels",
    "fleiss_kappa",
    "fleiss_kappa_from_table",
    "fleiss_table",
    "item_counts",
    "kappa_from_counts",
    "krippendorff_alpha",
    "landis_koch",
    "landis_koch_bands",
    "pairwise_counts",
    "pairwise_kappa",
    "per_group_kappa",
    "position_bias",
]
