"""A config is refused whole, naming each unknown endpoint, method or attribute, and k > n."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.bench.config import BenchConfigError, bench_config_load, bench_config_parse

pytestmark = pytest.mark.django_db


@pytest.fixture
def names(endpoint: Callable[..., Any]) -> dict[str, str]:
    return {"model": endpoint(name="model-a").name, "critic": endpoint(model="persona_overlap", name="critic-a").name}


def _config(**changes: Any) -> dict[str, Any]:
    return {"name": "t", "models": ["model-a"], "critic": "critic-a", "items": 5, **changes}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"models": ["nope"]}, "unknown endpoint 'nope'"),
        ({"critic": "ghost"}, "unknown endpoint 'ghost'"),
        ({"methods": ["persona", "telepathy"]}, "unknown method 'telepathy'"),
        ({"persona_filter": {"shoe size": "42"}}, "persona_filter: unknown attribute 'shoe size'"),
        ({"slices": [{"sex": "Male"}, {"star sign": "Leo"}]}, "slice 2: unknown attribute 'star sign'"),
        ({"samples": 4, "k": 5}, "k = 5 is more than the samples per item n = 4"),
        ({"samples": 20, "k": 17}, "k must be between 1 and 16"),
        ({"colour": "blue"}, "unknown key 'colour'"),
        ({"source": {"pairs": ["test_everything"]}}, "unknown pair split 'test_everything'"),
        ({"evaluation": "vibes"}, "unknown evaluation 'vibes'"),
        (
            {
                "evaluation": "leave_one_out",
                "leave_one_out": {"attributes": ["moon"], "generator": "model-a", "judge": "critic-a"},
            },
            "leave_one_out: unknown attribute 'moon'",
        ),
    ],
)
def test_refusals_name_the_problem(names: dict[str, str], changes: dict[str, Any], message: str) -> None:
    with pytest.raises(BenchConfigError) as error:
        bench_config_parse(_config(**changes))
    assert any(message in problem for problem in error.value.problems), error.value.problems


def test_placeholders_map_to_endpoints_and_round_trip(names: dict[str, str]) -> None:
    config = bench_config_parse(
        _config(models=["gpt-4"], critic="judge-model", samples=4, k=4, slices=[{"sex": "Male", "age": "18-34"}]),
        endpoint_map={"gpt-4": "model-a", "judge-model": "critic-a"},
    )
    assert config.models == ("model-a",)
    assert config.critic == "critic-a"
    assert config.methods == ("baseline", "persona", "chain_of_thought", "demographic_summary")
    assert bench_config_load(config.to_json()) == config


def test_every_problem_listed_at_once(names: dict[str, str]) -> None:
    with pytest.raises(BenchConfigError) as error:
        bench_config_parse(_config(models=["x"], methods=["y"], samples=1, k=2))
    assert len(error.value.problems) == 3
