from __future__ import annotations

import pytest

from benchmarks.bench.demo import DEMO_LOO, DEMO_RUN, bench_demo_ensure
from benchmarks.bench.models import BenchAnswer, BenchRun, LooRevision, Verdict
from benchmarks.bench.results import bench_results
from benchmarks.demo import dataset_demo_ensure
from core.demo import DEMO_STEPS
from core.models import JobStatus
from personas.demo import demo_personas_ensure

pytestmark = pytest.mark.django_db


def test_demo_runs_a_bench_and_a_leave_one_out_offline_once() -> None:
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
    assert "already there" in bench_demo_ensure()
