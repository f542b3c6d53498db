"""The paper's second persona stage: a model writes the open-ended profile of each persona.

Per persona, a few high-level categories (Lifestyle, Personality, …) are sampled (seeded by the persona's public id,
so a re-run asks the same thing), and one request carries the census and procedural attributes with those
categories; the reply fills ``PROFILE_KEYS``. The values are passed through the rule check
(``personas.consistency``): a profile the rules object to is not written (the curated draw stays, with the reasons
kept). The curated values a profile replaces are kept in ``Persona.checks["llm_profile"]["curated"]``, so the two
draws can be compared on the same personas (``profile_report``), and ``Persona.attribute_sources`` says which values
a model wrote.

The per-persona work is one small handler — build a request from a persona (``profile_request``), read the reply
(``profile_values``), write the result (``persona_profile_apply``) — driven in batches by ``personas_llm_profile``.
The instructions and the full rubric form one constant prefix of over 1,024 tokens (``PROFILE_RUBRIC``), cached at
real providers' minimums; the persona card and its categories follow it.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.llm.runner import Reply, work_run
from core.llm.types import Completion, JobProgress, LLMRequest, Message, ObjectSchema, OutputField
from personas.consistency import persona_rules_check
from personas.enrichment import items_for_age
from personas.formats import persona_to_text
from personas.models import PROFILE_CHECK, Persona, PersonaStatus

BATCH = 50
CHECK_KEY = PROFILE_CHECK
PROFILE_KEYS = ("defining quirks", "mannerisms", "personal time", "lifestyle")
# The high-level categories the paper samples per persona so that, over many personas, every side of a life is
# written about; CATEGORIES_PER_PERSONA of them go into each request.
CATEGORIES = (
    "Lifestyle",
    "Personality",
    "Hobbies and interests",
    "Values and beliefs",
    "Social life and relationships",
    "Health and wellness",
    "Daily routine",
    "Career and ambitions",
    "Family and home",
    "Community and civic life",
    "Money and spending",
    "Food and cooking",
)
CATEGORIES_PER_PERSONA = 3
# A profile value names at least this many words of its own (the shortest curated items have three).
MIN_WORDS = 3
WRITTEN, REJECTED, INVALID, FAILED = "written", "rejected", "invalid", "failed"

SYSTEM = (
    "You write the open-ended part of a synthetic survey persona: a few short, concrete details that fit one real "
    "person whose census record and personality are given. Follow the rubric exactly."
)
FIELD_GUIDE = {
    "defining quirks": "One habit or trait that sets this person apart (at most 15 words).",
    "mannerisms": "How they come across when they talk or move (at most 15 words).",
    "personal time": "What they do with their free time (at most 15 words).",
    "lifestyle": "The shape of their everyday life in a short phrase (at most 10 words).",
}
# The shared prefix: the whole task, written out so that every request of a run shares over 1,024 tokens (Claude's
# minimum cacheable prefix for most models) before the per-persona part. Its length is pinned by a test.
PROFILE_RUBRIC = """\
# Rubric: writing the open-ended profile of a persona

You receive one persona. Its census attributes (age, sex, race, ancestry, household language, education, employment
status, class of worker, industry, occupation, income, marital status, household type, children in the family, place
of birth, citizenship, veteran status, disability, health insurance, cognitive, vision and hearing difficulty,
ability to speak English, fertility) come from a real American Community Survey record. Its procedural attributes
(Big Five personality levels, ideology, political views, religion, and for workers a short description of the job)
were drawn or written before you. You write four fields that make the person concrete: defining quirks, mannerisms,
personal time and lifestyle. You also receive two to four high-level categories sampled for this persona; let them
steer which side of the person's life the four fields show, so that across thousands of personas every side of life
is written about, not only hobbies.

## What each field is
- defining quirks: one habit or trait that sets the person apart from others of their age and situation, e.g. "keeps
  a notebook of every bird seen from the kitchen window" or "answers questions with a question". One short phrase.
- mannerisms: how the person comes across to others when they talk or move: pace, gestures, words they repeat,
  how they listen. One short phrase, e.g. "speaks slowly and rubs the back of the neck when thinking".
- personal time: what they actually do with free time, given their hours, income, family, health and where they
  live, e.g. "coaching a youth soccer team on Saturdays" or "crosswords and long phone calls with a sister".
- lifestyle: the shape of the everyday life in a few words, e.g. "frugal, routine-driven and outdoorsy" or "busy
  shift-work life built around the kids' schedules".

## Fit the person (this is what the answers are judged on)
1. Age first. A child's personal time is play, school and family; a teenager's is school, friends, sport, games,
   part-time work; a retiree's is not a commute. Never give a child a job, a car, a mortgage, alcohol, dating or
   political activity. Never give a very old person feats of strength or a youthful nightlife.
2. Work and money. The hours, income and class of worker bound what is affordable and how much time is free: a
   low-income worker with children does not sail a yacht or travel abroad every month; an unemployed person does not
   describe a busy office life. Use the occupation and industry when they say something about the person's habits
   (a nurse used to night shifts, a rancher up before dawn), but do not restate the job.
3. Household. Marital status, household type and children shape personal time (a single parent of young children
   has little of it; a person living alone may fill it differently than a large family does).
4. Health and ability. Respect disabilities and difficulties: a person with a vision difficulty does not spend free
   time on fine embroidery without support; a person with an ambulatory or cognitive difficulty is described with
   dignity and realism, never as a joke.
5. Personality. The Big Five levels should show: high extraversion, social and talkative manners; low
   extraversion, quiet ones; high conscientiousness, orderly habits; high openness, curiosity and new things; high
   neuroticism, worry and checking; high agreeableness, warmth. Average levels need no mention.
6. Place, language and background. Household language, place of birth, ancestry and citizenship may inform food,
   family customs, music or holidays, but never as a stereotype, and only when it fits the rest.
7. Values. Ideology, political views and religion may show in personal time (church on Sundays, volunteering,
   local politics) when the person is old enough; never invent views the persona does not hold.
8. The sampled categories. Make at least one field speak to each sampled category.

## Style
- Plain, specific and ordinary: most people are not remarkable, and the details should sound like one real person,
  not a character in a novel. Prefer one concrete detail over a list of adjectives.
- No names of people, employers, brands or exact places; no quotes; no emojis; no trailing period.
- Each field at most 15 words (lifestyle at most 10). Do not repeat the same idea across fields.
- Do not restate the census attributes ("a 45-year-old married teacher who…"): the reader already has them.
- Nothing offensive, sexual, medical advice or anything that mocks the person's circumstances.

## Reply
Reply with the four fields only, as the structured reply asks: "defining quirks", "mannerisms", "personal time",
"lifestyle". Every field must be filled. If the persona is a young child, describe what a child of that age does
(play, routines, family), still in four fields.
"""


def persona_categories(persona: Persona, *, seed: int = 0) -> tuple[str, ...]:
    """The categories sampled for ``persona`` (seeded by ``seed`` and its public id, so a re-run asks the same)."""
    rng = random.Random(f"{seed}:{persona.public_id}")
    return tuple(sorted(rng.sample(CATEGORIES, CATEGORIES_PER_PERSONA), key=CATEGORIES.index))


def _age(persona: Persona) -> float | None:
    try:
        return float(persona.attributes["age"])
    except (KeyError, ValueError):
        return None


def profile_request(persona: Persona, *, seed: int = 0) -> LLMRequest:
    """One request for ``persona``: the constant rubric (cached), then its attributes and sampled categories."""
    given = {k: v for k, v in persona.attributes.items() if k not in PROFILE_KEYS}
    categories = persona_categories(persona, seed=seed)
    age = _age(persona)
    fields = tuple(
        OutputField(
            name=key,
            description=FIELD_GUIDE[key],
            # The curated values for this age: what the offline baseline picks from (never sent to a model).
            examples=tuple(item.text for item in items_for_age(key, age)),
        )
        for key in PROFILE_KEYS
    )
    content = f"Persona:\n{persona_to_text(given)}\n\nCategories to cover: {', '.join(categories)}"
    return LLMRequest(
        system=SYSTEM,
        cache_prefix=PROFILE_RUBRIC,
        messages=(Message(role="user", content=content),),
        output=ObjectSchema(fields=fields, name="profile", description="The persona's open-ended profile."),
        max_tokens=300,
        key=f"persona-profile-{persona.public_id}",
    )


def _describes(text: str) -> bool:
    """Whether ``text`` says something of its own: at least ``MIN_WORDS`` words with letters once the field and
    category names are taken out. A small local model fills the schema with "d", "30" or "personality" (seen with
    Gemma 3 270M); the consistency rules cannot see that, so such a reply is unreadable and asked again."""
    rest = text.lower()
    for name in (*PROFILE_KEYS, *CATEGORIES):
        rest = rest.replace(name.lower(), " ")
    return sum(any(c.isalpha() for c in word) for word in rest.split()) >= MIN_WORDS


def profile_values(completion: Completion) -> dict[str, str] | None:
    """The four fields of a reply, cleaned (one line, no quotes or trailing period); None when one is missing or
    does not describe anything (``_describes``)."""
    if not completion.valid:
        return None
    values = {}
    for key in PROFILE_KEYS:
        raw = completion.fields.get(key)
        text = " ".join(str(raw).split()).strip().strip('"').rstrip(".").strip() if raw is not None else ""
        if not _describes(text):
            return None
        values[key] = text[:300]
    return values


def persona_profile_apply(persona: Persona, completion: Completion, *, categories: Sequence[str]) -> str:
    """Write the reply onto ``persona`` (in memory) and return the item's outcome.

    ``written``: the rules accept the new values, which replace the curated ones (kept under ``curated``);
    ``rejected``: the rules object, the curated values stay and the reasons are kept; ``invalid``: the reply could not
    be read; ``failed``: the call failed. Invalid and failed items are asked again by a re-run."""
    values = profile_values(completion)
    attempts = persona.checks.get(CHECK_KEY, {}).get("attempts", 0) + 1
    record: dict[str, Any] = {"model": completion.model, "categories": list(categories), "attempts": attempts}
    if values is None:
        record["outcome"] = FAILED if completion.transient else INVALID
        record["error"] = (completion.error or "a field is missing, empty or describes nothing")[:500]
    else:
        candidate = {**persona.attributes, **values}
        reasons = persona_rules_check(candidate)
        record["values"] = values
        if reasons:
            record.update(outcome=REJECTED, reasons=reasons)
        else:
            record.update(
                outcome=WRITTEN,
                fields=list(PROFILE_KEYS),
                curated={k: persona.attributes[k] for k in PROFILE_KEYS if k in persona.attributes},
            )
            persona.attributes = candidate
    persona.checks = {**persona.checks, CHECK_KEY: record}
    return str(record["outcome"])


def profile_settled(persona: Persona) -> bool:
    """The stage has an outcome for ``persona`` that a re-run keeps (written or rejected)."""
    return persona.checks.get(CHECK_KEY, {}).get("outcome") in (WRITTEN, REJECTED)


class _ProfileHandler:
    """The stage as runner work: a persona in, its profile (or the rules' reasons) written on it."""

    def __init__(self, *, seed: int) -> None:
        self.seed = seed
        self.counts: Counter[str] = Counter()

    def requests(self, items: list[Persona], *, retry: list[str] | None = None) -> list[LLMRequest]:
        return [profile_request(persona, seed=self.seed) for persona in items]

    def reply(self, item: Persona, completion: Completion, *, last: bool) -> Reply:
        outcome = persona_profile_apply(item, completion, categories=persona_categories(item, seed=self.seed))
        self.counts[outcome] += 1
        # An unreadable reply is kept on the persona (attempts, error) but counts as failed: a re-run asks again.
        return Reply(item, valid=outcome in (WRITTEN, REJECTED))

    def write(self, rows: list[Persona]) -> None:
        Persona.objects.bulk_update(rows, ["attributes", "checks"])


def personas_llm_profile(
    *, personas: Sequence[Persona], endpoint: Any, job: JobProgress | None = None, seed: int = 0
) -> dict[str, int]:
    """Write the open-ended profile of the consistent ``personas`` not settled yet; return the outcome counts. Each
    persona is one item of the job: done when written or rejected by the rules, failed otherwise."""
    pending = [p for p in personas if p.status == PersonaStatus.CONSISTENT and not profile_settled(p)]
    if job is not None and len(personas) > len(pending):
        job.advance(done=len(personas) - len(pending))
    handler = _ProfileHandler(seed=seed)
    work_run(endpoint=endpoint, items=pending, handler=handler, job=job, chunk_size=BATCH, use_batch=True)
    return dict(handler.counts)


@dataclass(frozen=True)
class FieldDiversity:
    key: str
    llm_distinct: int
    llm_count: int
    curated_distinct: int
    curated_count: int


@dataclass(frozen=True)
class ProfileReport:
    """The stage measured on a set of personas (``profile_report``)."""

    asked: int  # personas with a readable reply
    written: int  # of those, accepted by the rules
    rejected_reasons: Counter[str] = field(default_factory=Counter)
    fields: tuple[FieldDiversity, ...] = ()
    category_counts: dict[str, int] = field(default_factory=dict)

    @property
    def pass_share(self) -> float:
        """Share of LLM-written profiles that pass the consistency check (NaN when none was written)."""
        return self.written / self.asked if self.asked else float("nan")

    def lines(self) -> list[str]:
        """The report as Markdown (the README's measured table has this shape)."""
        share = f"{self.pass_share:.1%}" if self.asked else "n/a"
        out = [
            f"LLM-written profiles passing the consistency check: {self.written}/{self.asked} ({share})",
            "",
            "| field | distinct LLM values | LLM profiles | distinct curated values | curated draws |",
            "|---|---:|---:|---:|---:|",
        ]
        out += [
            f"| {f.key} | {f.llm_distinct} | {f.llm_count} | {f.curated_distinct} | {f.curated_count} |"
            for f in self.fields
        ]
        total = sum(self.category_counts.values())
        coverage = ", ".join(f"{name} {count}" for name, count in self.category_counts.items())
        out += ["", f"Category coverage ({total} draws over {len(CATEGORIES)} categories): {coverage}"]
        if self.rejected_reasons:
            out += ["", "Rejected by the rules:", *(f"- {r} ({n})" for r, n in self.rejected_reasons.most_common(5))]
        return out


def profile_report(personas: Iterable[Persona]) -> ProfileReport:
    """Measure the stage: pass share, distinct values per field (LLM against the curated draw) and category coverage.

    The curated draw is every curated value of these personas: the values a written profile replaced and those of
    personas the stage did not write for."""
    llm: dict[str, list[str]] = {key: [] for key in PROFILE_KEYS}
    curated: dict[str, list[str]] = {key: [] for key in PROFILE_KEYS}
    categories: Counter[str] = Counter()
    asked = written = 0
    reasons: Counter[str] = Counter()
    for persona in personas:
        record = persona.checks.get(CHECK_KEY, {})
        outcome = record.get("outcome")
        categories.update(record.get("categories", []))
        if outcome in (WRITTEN, REJECTED):
            asked += 1
            for key, value in record.get("values", {}).items():
                llm[key].append(value)
        if outcome == WRITTEN:
            written += 1
            drawn = record.get("curated", {})
        else:
            drawn = {k: persona.attributes[k] for k in PROFILE_KEYS if k in persona.attributes}
            reasons.update(record.get("reasons", []) if outcome == REJECTED else [])
        for key, value in drawn.items():
            curated[key].append(value)
    fields = tuple(
        FieldDiversity(
            key=key,
            llm_distinct=len(set(llm[key])),
            llm_count=len(llm[key]),
            curated_distinct=len(set(curated[key])),
            curated_count=len(curated[key]),
        )
        for key in PROFILE_KEYS
    )
    return ProfileReport(
        asked=asked,
        written=written,
        rejected_reasons=reasons,
        fields=fields,
        category_counts={name: categories[name] for name in CATEGORIES},
    )
