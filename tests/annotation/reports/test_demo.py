from __future__ import annotations

import pytest
from django.urls import reverse

from annotation.models import Participant, Study
from annotation.reports.demo import DEMO_JUDGES, DEMO_REPORT_STUDY, report_demo_ensure
from annotation.reports.services import report_state
from benchmarks.judging.models import Judgment
from core.demo import DEMO_STEPS, demo_data_ensure
from tests.downloads import figure_check


@pytest.mark.django_db
def test_demo_step_judges_and_reports_without_a_worker_and_is_idempotent(client, analyst):
    assert DEMO_STEPS[-1] is report_demo_ensure
    line = report_demo_ensure()
    study = Study.objects.get(name=DEMO_REPORT_STUDY)
    assert f"/studies/{study.pk}/report/" in line
    assert report_state(study=study).fresh
    client.force_login(analyst)
    for fmt in ("png", "svg"):  # the figure that was a 500 on every report with a judge
        figure_check(client.get(reverse("study-report-figure", args=[study.pk, "position-bias", fmt])), fmt)
    assert Participant.objects.filter(study=study, status="submitted").count() == 9
    judgments = Judgment.objects.count()
    assert judgments == len(DEMO_JUDGES) * 2 * 18
    assert report_demo_ensure() == line
    assert Judgment.objects.count() == judgments
    assert Study.objects.filter(name=DEMO_REPORT_STUDY).count() == 1


@pytest.mark.django_db
def test_demo_data_builds_the_report_after_the_other_steps(monkeypatch):
    monkeypatch.setattr("core.demo.DEMO_STEPS", list(DEMO_STEPS))
    import core.demo

    lines = demo_data_ensure()
    assert core.demo.DEMO_STEPS[-1] is report_demo_ensure
    assert "/report/" in lines[-1]
    # The annotation demo study was made by its own step, after the personas step, not by ours.
    assert any(line.startswith("Annotation demo study") for line in lines[:-1])


@pytest.mark.django_db
def test_study_judge_command_judges_every_study_item_in_both_orders(hand_study):
    from io import StringIO

    from django.core.management import call_command

    from annotation.selectors import study_items
    from benchmarks.judging.services import baseline_judges_ensure

    baseline_judges_ensure()
    out = StringIO()
    call_command("study_judge", "baseline-always-a", str(hand_study.pk), stdout=out)
    items = study_items(study=hand_study)
    assert Judgment.objects.filter(judge__name="baseline-always-a").count() == 2 * len(items)
    assert "stored" in out.getvalue()
