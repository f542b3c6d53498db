"""Baselines that need no model: deterministic judges and a demo text generator. Free and instant.

The endpoint's ``model`` picks the baseline. Judges read the answer texts from ``ChoiceSchema.options_text``:
- ``always_a``: the first option;
- ``random``: an option drawn with a seed derived from the request key (+ sample, + the endpoint's ``seed`` param),
  so the same request always gets the same draw;
- ``shorter_answer``: the option whose text is shortest (ties: the first);
- ``persona_overlap``: the option whose text is most similar to the persona (``cache_prefix``, else ``system``) by
  TF-IDF cosine (scikit-learn), abstaining on a tie when abstaining is allowed;
- ``text``: no judgment of its own (``random`` when a choice is asked).
Requests without a choice get deterministic demo text that says it is offline text. The text generator also plays
the preference-data stages (``benchmarks.datasets.generation``): a message with ``<answer>`` and ``<critique>`` tags
gets a revision (persona-flavoured, never longer than the answer, never quoting a whole attribute value), one with
only ``<answer>`` gets a critique quoting the persona (``cache_prefix``) and the answer.

Structured replies (``LLMRequest.output``, PERSONA Bench's methods and critic) are filled field by field: a text field
is demo text that, when the request carries a persona, leans on one to three of its values; a boolean field is a
seeded coin, except on ``persona_overlap``, where it is true ("needs revision") when the ``<answer>`` mentions fewer
of the persona's values than a seeded threshold of 0-3; a list field is a seeded subset of its allowed items, except
on ``persona_overlap``, where it lists the profile labels whose values the ``<summary>`` leaves out. A text field
with ``examples`` gets one of them, picked by its overlap with the request (the persona profile stage).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import asdict
from typing import TYPE_CHECKING

from core.llm.types import ChoiceSchema, Completion, LLMRequest, OutputField

if TYPE_CHECKING:
    from core.llm.models import ModelEndpoint

OFFLINE_MARK = "[offline text]"
_WORDS = [
    "perspective",
    "community",
    "values",
    "practical",
    "everyday",
    "experience",
    "family",
    "work",
    "balance",
    "fairness",
    "tradition",
    "change",
    "careful",
    "honest",
    "direct",
    "respectful",
    "evidence",
    "local",
    "priorities",
    "trade-offs",
    "clarity",
    "detail",
    "context",
]


def _request_digest(request: LLMRequest) -> str:
    payload = json.dumps(asdict(request), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class OfflineProvider:
    def __init__(self, endpoint: ModelEndpoint, *, api_key: str | None = None) -> None:
        self.endpoint = endpoint
        self.baseline = endpoint.model

    def complete(self, request: LLMRequest) -> Completion:
        if request.output is not None:
            return self.structured(request)
        if request.choice is None:
            text = self.generate(request)
            return Completion(text=text, raw=text, model=f"offline:{self.baseline}", stop_reason="end_turn")
        judge = {
            "always_a": self.always_a,
            "shorter_answer": self.shorter_answer,
            "persona_overlap": self.persona_overlap,
        }.get(self.baseline, self.random_choice)
        completion = Completion(text="", model=f"offline:{self.baseline}", stop_reason="end_turn")
        try:
            choice, reasoning, confidence = judge(request, request.choice)
        except ValueError as exc:
            completion.valid = False
            completion.error = str(exc)
            return completion
        completion.choice = choice
        completion.text = completion.raw = choice
        completion.reasoning = reasoning if request.choice.with_reasoning else ""
        completion.confidence = confidence if request.choice.with_confidence else None
        return completion

    def structured(self, request: LLMRequest) -> Completion:
        assert request.output is not None
        rng = random.Random(_request_digest(request))
        persona = _persona_lines(request.cache_prefix or "")
        message = request.messages[-1].content if request.messages else ""
        values: dict[str, object] = {}
        for item in request.output.fields:
            if item.kind == "boolean":
                values[item.name] = self._flag(rng, message, persona)
            elif item.kind == "list":
                values[item.name] = self._listed(rng, item, message, persona)
            elif item.examples:
                values[item.name] = _closest_example(rng, item.examples, message)
            else:
                values[item.name] = self._text(rng, message, persona)
        text = json.dumps(values)
        return Completion(text=text, raw=text, fields=values, model=f"offline:{self.baseline}", stop_reason="end_turn")

    def _text(self, rng: random.Random, message: str, persona: list[tuple[str, str]]) -> str:
        filler = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 14))).capitalize() + "."
        if not persona:
            return f"{OFFLINE_MARK} {filler}"
        picked = rng.sample(persona, min(len(persona), rng.randint(1, 3)))
        return f"{OFFLINE_MARK} Keeping in mind {' and '.join(value for _, value in picked)}: {filler}"

    def _flag(self, rng: random.Random, message: str, persona: list[tuple[str, str]]) -> bool:
        if self.baseline != "persona_overlap":
            return rng.random() < 0.5
        answer = (_tagged(message, "answer") or message).lower()
        mentioned = sum(1 for _, value in persona if value.lower() in answer)
        return mentioned < rng.randint(0, 3)

    def _listed(self, rng: random.Random, item: OutputField, message: str, persona: list[tuple[str, str]]) -> list[str]:
        if self.baseline != "persona_overlap":
            return [option for option in item.enum if rng.random() < 0.3]
        summary = (_tagged(message, "summary") or message).lower()
        by_label = {label.lower(): value for label, value in persona}
        return [
            option
            for option in item.enum
            if option.lower() in by_label and by_label[option.lower()].lower() not in summary
        ]

    def always_a(self, request: LLMRequest, schema: ChoiceSchema) -> tuple[str, str, int]:
        return schema.options[0], "Offline baseline: always the first option.", 50

    def random_choice(self, request: LLMRequest, schema: ChoiceSchema) -> tuple[str, str, int]:
        seed_source = (
            f"{self.endpoint.params.get('seed', 0)}:{request.key or _request_digest(request)}:{request.sample}"
        )
        rng = random.Random(hashlib.sha256(seed_source.encode()).hexdigest())
        return rng.choice(schema.options), "Offline baseline: a seeded random pick.", 50

    def shorter_answer(self, request: LLMRequest, schema: ChoiceSchema) -> tuple[str, str, int]:
        texts = _option_texts(schema)
        lengths = [len(text) for text in texts]
        best = lengths.index(min(lengths))
        longest = max(lengths) or 1
        confidence = round(50 + 50 * (longest - lengths[best]) / longest)
        return schema.options[best], f"Offline baseline: the shorter answer ({lengths[best]} characters).", confidence

    def persona_overlap(self, request: LLMRequest, schema: ChoiceSchema) -> tuple[str, str, int]:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.metrics.pairwise import cosine_similarity

        texts = _option_texts(schema)
        persona = request.cache_prefix or request.system
        if not persona.strip():
            raise ValueError("persona_overlap needs the persona text in cache_prefix or system")
        try:
            matrix = TfidfVectorizer().fit_transform([persona, *texts])
        except ValueError:  # no usable words at all
            scores = [0.0] * len(texts)
        else:
            scores = [float(s) for s in cosine_similarity(matrix[0], matrix[1:])[0]]
        best = scores.index(max(scores))
        if schema.allow_abstain and all(abs(s - scores[best]) < 1e-12 for s in scores):
            return "abstain", "Offline baseline: no answer overlaps the persona more than another.", 50
        runner_up = max((s for i, s in enumerate(scores) if i != best), default=0.0)
        confidence = round(50 + 50 * min(1.0, (scores[best] - runner_up) / (scores[best] or 1)))
        summary = ", ".join(f"{o}={s:.3f}" for o, s in zip(schema.options, scores, strict=True))
        return schema.options[best], f"Offline baseline: TF-IDF cosine with the persona ({summary}).", confidence

    def generate(self, request: LLMRequest) -> str:
        """Deterministic filler for demos, marked so nobody mistakes it for a model's words."""
        rng = random.Random(_request_digest(request))
        prompt = request.messages[-1].content if request.messages else request.system
        answer = _tagged(prompt, "answer")
        if answer is not None and request.cache_prefix:
            if _tagged(prompt, "critique") is not None:
                return _offline_revision(rng, answer, request.cache_prefix)
            return _offline_critique(rng, answer, request.cache_prefix)
        topic = " ".join(prompt.split()[:8])
        sentences = [
            " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 11))).capitalize() + "."
            for _ in range(rng.randint(2, 4))
        ]
        return f"{OFFLINE_MARK} On “{topic}”: {' '.join(sentences)}"


def _closest_example(rng: random.Random, examples: tuple[str, ...], message: str) -> str:
    """One of ``examples``: a seeded pick among the (up to three) that share the most words with the request
    (TF-IDF cosine), or among all when none shares a word. Picked, not invented, so it carries no offline mark."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    try:
        matrix = TfidfVectorizer(stop_words="english").fit_transform([message, *examples])
    except ValueError:  # no usable words at all
        return rng.choice(examples)
    scores = [float(s) for s in cosine_similarity(matrix[0], matrix[1:])[0]]
    ranked = sorted((i for i, score in enumerate(scores) if score > 0), key=lambda i: -scores[i])
    return examples[rng.choice(ranked[:3])] if ranked else rng.choice(examples)


def _option_texts(schema: ChoiceSchema) -> tuple[str, ...]:
    if len(schema.options_text) != len(schema.options):
        raise ValueError("this offline judge needs ChoiceSchema.options_text: one answer text per option")
    return schema.options_text


def _tagged(text: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>\n?(.*?)\n?</{tag}>", text, re.DOTALL)
    return match.group(1) if match else None


def _persona_lines(persona: str) -> list[tuple[str, str]]:
    lines = [line.partition(":") for line in persona.splitlines()]
    return [(key.strip(), value.strip()) for key, sep, value in lines if sep and value.strip()]


def _offline_critique(rng: random.Random, answer: str, persona: str) -> str:
    lines = _persona_lines(persona) or [("profile", persona.strip()[:60])]
    key, value = rng.choice(lines)
    quoted = " ".join(answer.replace(OFFLINE_MARK, "").split()[:8])
    wanted = ", ".join(rng.sample(_WORDS, 3))
    return (
        f"{OFFLINE_MARK} Reading this as someone whose {key} is “{value}”: the part “{quoted}” says little to them. "
        f"They would want more about {wanted}."
    )


def _offline_revision(rng: random.Random, answer: str, persona: str) -> str:
    """A rewrite leaning on words from the persona's values (single words, never a whole value), cut to fit."""
    values = {value.lower() for _, value in _persona_lines(persona)}
    words = sorted(
        {
            word.lower()
            for _, value in _persona_lines(persona)
            for word in re.findall(r"[A-Za-z]{4,}", value)
            if word.lower() not in values
        }
    )
    picked = rng.sample(words, min(len(words), 6)) if words else rng.sample(_WORDS, 3)
    body = answer.replace(OFFLINE_MARK, "").strip()
    text = f"{OFFLINE_MARK} With {', '.join(picked)} in mind: {body}"
    limit = max(len(OFFLINE_MARK) + 1, len(answer.strip()) - 1)
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",:;") + "."
    return text
