from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotation.demo import DEMO_STUDY_NAME
from annotation.models import Study
from annotation.reports.demo import DEMO_REPORT_STUDY, report_demo_ensure

pytestmark = pytest.mark.django_db


def test_demo_study_page_shows_the_precision_panel_planned_from_the_demo_pilot(coordinator: object) -> None:
    report_demo_ensure()  # the participant demo study and the demo report study (the pilot)
    study, pilot = Study.objects.get(name=DEMO_STUDY_NAME), Study.objects.get(name=DEMO_REPORT_STUDY)
    client = Client()
    client.force_login(coordinator)
    page = client.get(reverse("study-detail", args=[study.pk])).content.decode()
    assert '<h2 id="precision-title">Precision</h2>' in page
    plan = client.get(reverse("study-precision", args=[study.pk]), {"pilot": pilot.pk}).content.decode()
    assert f"pilot “{DEMO_REPORT_STUDY}”: κ = " in plan
    assert "no interval: 3 personas (the report needs at least 10)" in plan  # the demo study as it stands
    assert '<th scope="row">More personas</th><td class="num">10</td>' in plan
    assert "(width 0." in plan  # ten personas: an interval is predicted
    running = client.get(reverse("study-precision-running", args=[study.pk])).content.decode()
    assert "no report yet" in running  # nobody has taken part in the participant demo study
