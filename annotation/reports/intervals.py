"""The study report's bootstrap policy: every interval resamples personas ``BOOTSTRAP_RESAMPLES`` times, and is shown
only when ``benchmarks.agreement.reportable_interval`` allows it (10+ personas, defined in 95 % of the resamples);
otherwise the table says why, with the count of defined resamples beside it when they were looked at."""

from __future__ import annotations

from typing import Any

from benchmarks.agreement import ConfidenceInterval, reportable_interval

# Every interval of the study report; the page prints "<defined> of 500" beside each. PERSONA Bench's pass rates draw
# 1000 (benchmarks.bench.results.BOOTSTRAP_RESAMPLES): one number for both would move the intervals one page shows.
BOOTSTRAP_RESAMPLES = 500


def interval_columns(interval: ConfidenceInterval, *, n_groups: int) -> dict[str, Any]:
    """The columns an interval fills in a report table (``ReportableInterval.columns``): its bounds (None when not
    shown), how many resamples were defined (empty when the interval was refused for too few personas) and why none
    is shown."""
    return reportable_interval(interval, n_groups=n_groups).columns()
