from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from benchmarks.bench.demo import DEMO_LOO, DEMO_RUN, bench_demo_ensure
from benchmarks.bench.loo import LOO_ANSWER_COLUMNS
from benchmarks.bench.models import BenchAnswer, BenchRun, LooRevision, Verdict
from benchmarks.bench.results import bench_results
from benchmarks.demo import dataset_demo_ensure
from core.demo import DEMO_STEPS
from core.models import JobStatus
from personas.demo import demo_personas_ensure
from tests.downloads import table_check

pytestmark = pytest.mark.django_db


def test_demo_runs_a_bench_and_a_leave_one_out_offline_once(client: Client, analyst: Any) -> None:
    assert DEMO_STEPS.index(dataset_demo_ensure) < DEMO_STEPS.index(bench_demo_ensure)
    demo_personas_ensure()
    dataset_demo_ensure()
    line = bench_demo_ensure()
    run = BenchRun.objects.get(name=DEMO_RUN)
    assert run.job.status == JobStatus.SUCCEEDED, line
    assert run.items.exists()
    assert not BenchAnswer.objects.filter(run=run, verdict=Verdict.PENDING).exists()
    tables = bench_results(run=run)["tables"]
    rates = {row["method"]: row["pass_rate"] for row in tables["pass_rates"]["rows"]}
    assert set(rates) == {"baseline", "persona", "chain_of_thought", "demographic_summary"}
    assert tables["summary_dropped"]["rows"]
    loo = BenchRun.objects.get(name=DEMO_LOO)
    assert loo.job.status == JobStatus.SUCCEEDED, line
    assert LooRevision.objects.filter(twin__run=loo).exclude(choice="").exists()
    # The demo's leave-one-out answers export: every twin's picks on every baseline answer, not just a header.
    client.force_login(analyst)
    exported = table_check(
        client.get(reverse("bench-run-answers-csv", args=[loo.pk])), "csv", columns=LOO_ANSWER_COLUMNS
    )
    assert len(exported) == loo.loo_twins.count() * loo.loo_answers.filter(ok=True).count() > 0
    assert "already there" in bench_demo_ensure()
