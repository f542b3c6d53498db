"""Personas vs census, per census attribute: shares side by side, total-variation distance and a chi-square
goodness-of-fit test. Pure functions over counts (no ORM), so they are fast and easy to test.

The test matches how personas are drawn (``personas.sampling``: independent draws ∝ PWGTP, with replacement): the
personas' category counts are then multinomial with the census's weighted shares, which is what the chi-square
goodness of fit assumes. (Pruning by the rules removes some draws, so a tiny misfit can come from the rules.)"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from personas.categories import attribute_category, category_order

MIN_EXPECTED = 5.0  # chi-square needs expected counts of about 5; smaller census categories are pooled


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    dof: int
    p_value: float


@dataclass(frozen=True)
class AttributeComparison:
    key: str
    categories: list[str]
    persona_counts: list[int]
    persona_shares: list[float]
    census_shares: list[float]
    tvd: float
    chi_square: ChiSquare | None  # None when there are too few personas or categories to test

    @property
    def n(self) -> int:
        return sum(self.persona_counts)

    def rows(self) -> list[tuple[str, int, float, float]]:
        return list(zip(self.categories, self.persona_counts, self.persona_shares, self.census_shares, strict=True))


def shares(counts: Mapping[str, float]) -> dict[str, float]:
    total = float(sum(counts.values()))
    return {key: (value / total if total else 0.0) for key, value in counts.items()}


def total_variation_distance(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """Half the L1 distance between two distributions over the union of their categories (0 = equal, 1 = disjoint)."""
    keys = set(p) | set(q)
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in keys)


def chi_square_test(observed: Mapping[str, int], expected_shares: Mapping[str, float]) -> ChiSquare | None:
    """Goodness of fit of persona counts to census shares; categories expecting < 5 personas are pooled together.

    Persona categories the census lacks go into the pool too (the census share there is ~0, so a persona in it
    is strong evidence of a mismatch). Returns None when fewer than two categories remain.
    """
    n = sum(observed.values())
    if n == 0:
        return None
    keys = sorted(set(observed) | set(expected_shares))
    big = [k for k in keys if expected_shares.get(k, 0.0) * n >= MIN_EXPECTED]
    small = [k for k in keys if k not in big]
    obs = [observed.get(k, 0) for k in big]
    exp = [expected_shares.get(k, 0.0) * n for k in big]
    pooled_expected = sum(expected_shares.get(k, 0.0) for k in small) * n
    if small and pooled_expected > 0:
        obs.append(sum(observed.get(k, 0) for k in small))
        exp.append(pooled_expected)
    if len(obs) < 2:
        return None
    # Imported here, as in benchmarks.agreement.report: scipy.stats adds ~60 MB to every process that imports this
    # module at start-up (web and worker, through the admin), and only this test needs it.
    from scipy import stats

    scale = sum(obs) / sum(exp)  # exact equality of sums, which scipy requires
    result = stats.chisquare(obs, [e * scale for e in exp])
    return ChiSquare(statistic=float(result.statistic), dof=len(obs) - 1, p_value=float(result.pvalue))


def persona_category_counts(key: str, values: Iterable[object]) -> Counter[str]:
    return Counter(attribute_category(key, value) for value in values)


def attribute_compare(
    key: str, persona_values: Iterable[object], census_marginal: Mapping[str, float]
) -> AttributeComparison:
    """Compare the personas' values of ``key`` with the census's weighted counts of the same categories."""
    counts = persona_category_counts(key, persona_values)
    census = shares(census_marginal)
    personas = shares(counts)
    order = category_order(key)
    if order is not None:
        categories = [c for c in order if c in counts or c in census]
    else:
        categories = sorted(set(counts) | set(census), key=lambda c: (-census.get(c, 0.0), -counts.get(c, 0), c))
    return AttributeComparison(
        key=key,
        categories=categories,
        persona_counts=[counts.get(c, 0) for c in categories],
        persona_shares=[personas.get(c, 0.0) for c in categories],
        census_shares=[census.get(c, 0.0) for c in categories],
        tvd=total_variation_distance(personas, census),
        chi_square=chi_square_test(counts, census),
    )


def dataset_compare(
    marginals: Mapping[str, Mapping[str, float]], persona_attributes: list[Mapping[str, object]]
) -> list[AttributeComparison]:
    """One comparison per census attribute of the dataset, in the order of ``marginals``."""
    return [
        attribute_compare(key, [attributes.get(key) for attributes in persona_attributes], marginal)
        for key, marginal in marginals.items()
    ]
