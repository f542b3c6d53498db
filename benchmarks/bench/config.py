"""A bench run's config: parsed and validated once, by name, before anything is stored.

    {"name": "…", "evaluation": "personalization", "models": ["claude-sonnet"], "methods": ["baseline", "persona"],
     "critic": "gpt-4o", "items": 100, "samples": 1, "k": 1, "seed": 0,
     "source": {"pairs": ["test_seen", "test_unseen"]},            # or {"prompts": "heldout"} x persona_filter
     "persona_filter": {"sex": "Male", "age": "18-34"}, "slices": [{"sex": "Female"}],
     "summary_judge": "gpt-4o",
     "leave_one_out": {"attributes": ["religion"], "personas": 40, "attributes_per_persona": 3, "answers": 20,
                       "generator": "…", "judge": "…"}}

Endpoint names may be placeholders (e.g. the paper's model names) mapped to real endpoints with ``endpoint_map``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.bench.models import Evaluation, Method
from benchmarks.bench.sampling import loo_candidates
from benchmarks.datasets.models import PreferenceDataset
from benchmarks.pairs.models import PairSplit
from benchmarks.prompts.models import PromptSplit
from core.llm.models import ModelEndpoint
from personas.attributes import ATTRIBUTE_BY_KEY

MAX_K = 16
MAX_SAMPLES = 64
TEST_SPLITS = (PairSplit.TEST_SEEN.value, PairSplit.TEST_UNSEEN.value)
_TOP_KEYS = {
    "name",
    "evaluation",
    "models",
    "methods",
    "critic",
    "summary_judge",
    "items",
    "samples",
    "k",
    "seed",
    "source",
    "persona_filter",
    "slices",
    "leave_one_out",
}
_LOO_KEYS = {"attributes", "personas", "attributes_per_persona", "answers", "generator", "judge"}


class BenchConfigError(ValueError):
    """A config that cannot run; ``problems`` lists every reason, each naming what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class LeaveOneOut:
    attributes: tuple[str, ...]
    generator: str
    judge: str
    personas: int = 40
    attributes_per_persona: int = 3
    answers: int = 20


@dataclass(frozen=True)
class BenchConfig:
    name: str
    evaluation: str
    models: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    critic: str = ""
    summary_judge: str = ""
    items: int = 100
    samples: int = 1  # n: answers per item, model and method (pass@k needs n >= k)
    k: int = 1
    seed: int = 0
    pair_splits: tuple[str, ...] = TEST_SPLITS  # items from preference pairs in these splits …
    dataset: str = ""  # … of this preference dataset (by name) when set …
    prompt_split: str = ""  # … or, when set, prompts of this split x the personas that match ``persona_filter``
    persona_filter: dict[str, Any] = field(default_factory=dict)
    slices: tuple[dict[str, Any], ...] = ()
    leave_one_out: LeaveOneOut | None = None

    def endpoints(self) -> set[str]:
        names = {*self.models, self.critic, self.summary_judge}
        if self.leave_one_out is not None:
            names |= {self.leave_one_out.generator, self.leave_one_out.judge}
        return {name for name in names if name}

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("prompt_split"), data.pop("pair_splits")
        data.pop("dataset")
        data["source"] = {"prompts": self.prompt_split} if self.prompt_split else {"pairs": list(self.pair_splits)}
        if self.dataset:
            data["source"]["dataset"] = self.dataset
        if data["leave_one_out"] is None:
            data.pop("leave_one_out")
        return data


def _int(data: dict[str, Any], key: str, default: int, problems: list[str], *, low: int, high: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{key} must be a whole number, got {value!r}")
        return default
    if not low <= value <= high:
        problems.append(f"{key} must be between {low} and {high}, got {value}")
    return value


def _names(data: dict[str, Any], key: str, problems: list[str]) -> tuple[str, ...]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{key} must be a list of names")
        return ()
    return tuple(dict.fromkeys(value))


def attribute_filter_problems(filters: Any, *, label: str) -> list[str]:
    """Why ``filters`` (attribute key → value, "lo-hi" range or list of values) is not a valid persona filter."""
    if not isinstance(filters, dict):
        return [f"{label} must be an object of attribute: value"]
    problems = [f"{label}: unknown attribute {key!r}" for key in filters if key not in ATTRIBUTE_BY_KEY]
    for key, value in filters.items():
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
            problems.append(f"{label}: the value of {key!r} must be text, a number, a 'lo-hi' range or a list of them")
    return problems


def bench_config_parse(data: Any, *, endpoint_map: dict[str, str] | None = None) -> BenchConfig:
    """The validated config, with placeholder endpoint names mapped; raises ``BenchConfigError`` naming each problem.

    Unknown keys, endpoints, methods and attributes are refused by name; so is k > n (samples) or k > 16.
    """
    if not isinstance(data, dict):
        raise BenchConfigError(["the config must be a JSON object"])
    problems = [f"unknown key {key!r}" for key in sorted(set(data) - _TOP_KEYS)]
    mapping = endpoint_map or {}

    def endpoint(name: str) -> str:
        return mapping.get(name, name)

    name = data.get("name") or ""
    if not isinstance(name, str) or not name.strip():
        problems.append("name is required")
        name = ""
    evaluation = data.get("evaluation", Evaluation.PERSONALIZATION.value)
    if evaluation not in Evaluation.values:
        problems.append(f"unknown evaluation {evaluation!r} (one of: {', '.join(Evaluation.values)})")
    models = tuple(dict.fromkeys(endpoint(n) for n in _names(data, "models", problems)))
    methods = _names(data, "methods", problems) or (tuple(Method.values) if "methods" not in data else ())
    known_methods = ", ".join(Method.values)
    problems += [f"unknown method {m!r} (one of: {known_methods})" for m in methods if m not in Method.values]
    critic = endpoint(data.get("critic") or "") if isinstance(data.get("critic", ""), str) else ""
    summary_judge = data.get("summary_judge") or ""
    summary_judge = endpoint(summary_judge) if isinstance(summary_judge, str) else ""
    items = _int(data, "items", 100, problems, low=1, high=1_000_000)
    samples = _int(data, "samples", 1, problems, low=1, high=MAX_SAMPLES)
    k = _int(data, "k", 1, problems, low=1, high=MAX_K)
    if k > samples:
        problems.append(f"k = {k} is more than the samples per item n = {samples} (pass@k needs n >= k)")
    seed = _int(data, "seed", 0, problems, low=0, high=2**31 - 1)

    source = data.get("source", {"pairs": list(TEST_SPLITS)})
    pair_splits: tuple[str, ...] = TEST_SPLITS
    prompt_split = dataset = ""
    if not isinstance(source, dict) or set(source) not in ({"pairs"}, {"pairs", "dataset"}, {"prompts"}):
        problems.append(
            'source must be {"pairs": [splits]} (with "dataset": "<name>" optional) or {"prompts": "<split>"}'
        )
    elif "pairs" in source:
        dataset = source.get("dataset") or ""
        if dataset and not PreferenceDataset.objects.filter(name=dataset).exists():
            problems.append(f"unknown dataset {dataset!r}")
        pair_splits = tuple(source["pairs"]) if isinstance(source["pairs"], list) else (source["pairs"],)
        problems += [
            f"unknown pair split {s!r} (one of: {', '.join(PairSplit.values)})"
            for s in pair_splits
            if s not in PairSplit.values
        ]
    else:
        prompt_split = source["prompts"]
        if prompt_split not in PromptSplit.values:
            problems.append(f"unknown prompt split {prompt_split!r} (one of: {', '.join(PromptSplit.values)})")

    persona_filter = data.get("persona_filter", {})
    problems += attribute_filter_problems(persona_filter, label="persona_filter")
    slices = data.get("slices", [])
    if not isinstance(slices, list):
        problems.append("slices must be a list of attribute filters")
        slices = []
    for index, spec in enumerate(slices):
        problems += attribute_filter_problems(spec, label=f"slice {index + 1}")

    loo = None
    if evaluation == Evaluation.LEAVE_ONE_OUT:
        loo = _leave_one_out(data.get("leave_one_out"), endpoint, problems)
    else:
        if not models:
            problems.append("models: name at least one endpoint under test")
        if not methods:
            problems.append("methods: name at least one method")
        if not critic:
            problems.append("critic: name the critic's endpoint")

    config = BenchConfig(
        name=name.strip(),
        evaluation=evaluation,
        models=models,
        methods=methods,
        critic=critic,
        summary_judge=summary_judge,
        items=items,
        samples=samples,
        k=k,
        seed=seed,
        pair_splits=pair_splits,
        prompt_split=prompt_split,
        dataset=dataset,
        persona_filter=dict(persona_filter) if isinstance(persona_filter, dict) else {},
        slices=tuple(s for s in slices if isinstance(s, dict)),
        leave_one_out=loo,
    )
    known = set(ModelEndpoint.objects.filter(name__in=config.endpoints()).values_list("name", flat=True))
    problems += [f"unknown endpoint {n!r}" for n in sorted(config.endpoints() - known)]
    if loo is not None and not problems:
        for attribute in loo.attributes:
            found = len(loo_candidates(attribute=attribute, others=loo.attributes_per_persona))
            if found < loo.personas:
                problems.append(
                    f"leave_one_out: attribute {attribute!r} applies to {found} personas (with "
                    f"{loo.attributes_per_persona} other attributes); the sample needs {loo.personas}"
                )
    if problems:
        raise BenchConfigError(problems)
    return config


def _leave_one_out(data: Any, endpoint: Any, problems: list[str]) -> LeaveOneOut | None:
    if not isinstance(data, dict):
        problems.append("leave_one_out: an object with attributes, generator and judge is required")
        return None
    problems += [f"leave_one_out: unknown key {key!r}" for key in sorted(set(data) - _LOO_KEYS)]
    attributes = _names(data, "attributes", problems)
    if not attributes:
        problems.append("leave_one_out.attributes: name at least one attribute")
    problems += [f"leave_one_out: unknown attribute {a!r}" for a in attributes if a not in ATTRIBUTE_BY_KEY]
    generator, judge = data.get("generator"), data.get("judge")
    if not isinstance(generator, str) or not generator:
        problems.append("leave_one_out.generator: name the endpoint that critiques and revises")
    if not isinstance(judge, str) or not judge:
        problems.append("leave_one_out.judge: name the role-play judge's endpoint")
    personas = _int(data, "personas", 40, problems, low=2, high=10_000)
    per_persona = _int(data, "attributes_per_persona", 3, problems, low=1, high=32)
    answers = _int(data, "answers", 20, problems, low=2, high=10_000)
    if not isinstance(generator, str) or not isinstance(judge, str):
        return None
    return LeaveOneOut(
        attributes=attributes,
        generator=endpoint(generator or ""),
        judge=endpoint(judge or ""),
        personas=personas,
        attributes_per_persona=per_persona,
        answers=answers,
    )


def bench_config_load(run_config: dict[str, Any]) -> BenchConfig:
    """A stored (already validated) config back as a ``BenchConfig``."""
    data = dict(run_config)
    loo = data.pop("leave_one_out", None)
    source = data.pop("source")
    return BenchConfig(
        **{**data, "models": tuple(data["models"]), "methods": tuple(data["methods"]), "slices": tuple(data["slices"])},
        pair_splits=tuple(source.get("pairs", TEST_SPLITS)),
        prompt_split=source.get("prompts", ""),
        dataset=source.get("dataset", ""),
        leave_one_out=LeaveOneOut(**{**loo, "attributes": tuple(loo["attributes"])}) if loo else None,
    )
