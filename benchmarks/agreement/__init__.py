"""Agreement statistics: pure functions over rater x item label arrays (no ORM), tested against scikit-learn,
statsmodels and published examples.

A label matrix has one row per rater and one column per item; labels are small ints or strings and missing ratings
are ``NaN``/``None`` (or a ``missing=`` sentinel you name) — see ``benchmarks.agreement.labels``. Every statistic
returns NaN where it is undefined (no overlap, a single shared label, no pairable ratings), never 0.
"""

from __future__ import annotations

from benchmarks.agreement.bands import UNDEFINED, landis_koch, landis_koch_bands
from benchmarks.agreement.bootstrap import (
    MIN_GROUPS_FOR_INTERVAL,
    ConfidenceInterval,
    ReportableInterval,
    bootstrap_ci,
    bootstrap_group_values,
    bootstrap_pairwise_kappa,
    bootstrap_tables,
    reportable_interval,
)
from benchmarks.agreement.cohen import (
    PairwiseKappa,
    cohen_kappa,
    kappa_from_counts,
    pairwise_counts,
    pairwise_kappa,
)
from benchmarks.agreement.fleiss import (
    fleiss_kappa,
    fleiss_kappa_from_table,
    fleiss_kappa_varying,
    fleiss_table,
    item_counts,
)
from benchmarks.agreement.krippendorff import coincidence_matrix, krippendorff_alpha
from benchmarks.agreement.labels import MISSING, LabelMatrix, encode_labels
from benchmarks.agreement.leave_one_out import paired_tables
from benchmarks.agreement.report import (
    CoverageCurve,
    GroupKappa,
    ItemPositionBias,
    OrderConsistency,
    PositionBias,
    agreement_coverage,
    order_consistency,
    per_group_kappa,
    position_bias,
    position_bias_by_item,
)

__all__ = [
    "MIN_GROUPS_FOR_INTERVAL",
    "MISSING",
    "UNDEFINED",
    "ConfidenceInterval",
    "CoverageCurve",
    "GroupKappa",
    "ItemPositionBias",
    "LabelMatrix",
    "OrderConsistency",
    "PairwiseKappa",
    "PositionBias",
    "ReportableInterval",
    "agreement_coverage",
    "bootstrap_ci",
    "bootstrap_group_values",
    "bootstrap_pairwise_kappa",
    "bootstrap_tables",
    "cohen_kappa",
    "coincidence_matrix",
    "encode_labels",
    "fleiss_kappa",
    "fleiss_kappa_from_table",
    "fleiss_kappa_varying",
    "fleiss_table",
    "item_counts",
    "kappa_from_counts",
    "krippendorff_alpha",
    "landis_koch",
    "landis_koch_bands",
    "order_consistency",
    "paired_tables",
    "pairwise_counts",
    "pairwise_kappa",
    "per_group_kappa",
    "position_bias",
    "position_bias_by_item",
    "reportable_interval",
]
