from __future__ import annotations

import pytest

from annotation.models import Participant, Study
from annotation.precision.check import precision_check
from annotation.precision.simulate import Design, process_for_kappa

pytestmark = pytest.mark.django_db


def test_predicted_width_is_within_ten_percent_of_the_finished_reports() -> None:
    """Rounds played through the services and scored by the finished report, against the prediction: over 40
    seeds the mean observed width is within 10 % of the predicted one, and the 95 % interval of their ratio holds 1
    (no bias the seeds can see)."""
    design = Design(personas=12, raters=3, questions=3, attention_checks=1)
    result = precision_check(design=design, process=process_for_kappa(0.5, raters=3), rounds=40, seed=100)
    assert len(result.widths) == 40  # 12 personas: every finished report shows the interval
    assert result.prediction.mean_width is not None
    assert abs(result.ratio - 1) < 0.10, (result.ratio, result.ratio_interval)
    low, high = result.ratio_interval
    assert low < 1 < high
    assert sum(result.kappas) / len(result.kappas) == pytest.approx(0.5, abs=0.06)
    assert not Study.objects.exists()  # every round was rolled back
    assert not Participant.objects.exists()
