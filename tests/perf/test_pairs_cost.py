"""``bin/perf pairs``' cost figure at a small size: its three stages run on one job against the mock server, and
the optimised run (y_l reused, batches, cached prefix) costs less than the naive one."""

from __future__ import annotations

import pytest

from perf import bench_pairs

pytestmark = pytest.mark.django_db


def test_the_cost_ratio_runs_the_stages_on_one_job(monkeypatch: pytest.MonkeyPatch) -> None:
    world, dataset = bench_pairs._world, bench_pairs._dataset
    monkeypatch.setattr(bench_pairs, "_world", lambda *sizes: world(2, 8, 2))
    small = {"train_per_persona": 4, "test_seen_per_persona": 1, "test_unseen_per_persona": 1}
    monkeypatch.setattr(bench_pairs, "_dataset", lambda endpoint, **fields: dataset(endpoint, **{**fields, **small}))

    ratio, note = bench_pairs._cost_ratio(None)

    assert 0 < ratio < 1
    assert note.endswith("; 12 pairs each")
