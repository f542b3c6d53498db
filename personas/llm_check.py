"""The optional LLM consistency check: a model reads each rule-consistent persona and says whether the person is
plausible; implausible ones are pruned with the model's reason. All traffic goes through ``core.llm``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from core.jobs import JobRun
from core.llm.service import llm_complete_many
from core.llm.types import ChoiceSchema, Completion, LLMRequest, Message
from personas.models import Persona, PersonaStatus

BATCH = 50
PLAUSIBLE, IMPLAUSIBLE = "plausible", "implausible"
SYSTEM = (
    "You check synthetic survey personas built from US census records plus invented personality details. "
    "Decide whether the attributes could describe one real person. Flag only clear contradictions "
    "(e.g. age vs education, income, marital status, employment, fertility or military service; "
    "personality or lifestyle at odds with age or circumstances); unusual but possible combinations are plausible."
)


def llm_check_request(persona: Persona) -> LLMRequest:
    return LLMRequest(
        system=SYSTEM,
        messages=(Message(role="user", content=f"Persona:\n{persona.text}"),),
        choice=ChoiceSchema(
            options=(PLAUSIBLE, IMPLAUSIBLE),
            name="verdict",
            description="Is this persona plausible as one real person?",
            with_reasoning=True,
        ),
        max_tokens=300,
        key=f"persona-check-{persona.public_id}",
    )


def persona_llm_verdict_apply(persona: Persona, completion: Completion) -> None:
    """Record the verdict on the persona (in memory); an implausible verdict prunes it with the model's reason."""
    verdict = completion.choice if completion.valid else "invalid"
    reason = completion.reasoning or completion.error or completion.text[:500]
    persona.checks = {**persona.checks, "llm": {"verdict": verdict, "reason": reason, "model": completion.model}}
    if verdict == IMPLAUSIBLE:
        persona.status = PersonaStatus.PRUNED
        persona.prune_reason = f"LLM check: {reason}".strip()


def personas_llm_check(*, personas: Sequence[Persona], endpoint: Any, run: JobRun | None = None) -> int:
    """Check ``personas`` (those not yet checked) through ``endpoint``; return how many were pruned."""

    pending = [p for p in personas if p.status == PersonaStatus.CONSISTENT and "llm" not in p.checks]
    # Every persona counts as one item of this stage; those already checked or pruned by the rules are done.
    if run is not None and len(personas) > len(pending):
        run.advance(done=len(personas) - len(pending))
    pruned = 0
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        completions = llm_complete_many(endpoint=endpoint, requests=[llm_check_request(p) for p in batch], run=run)
        for persona, completion in zip(batch, completions, strict=True):
            persona_llm_verdict_apply(persona, completion)
            pruned += persona.status == PersonaStatus.PRUNED
        with transaction.atomic():
            Persona.objects.bulk_update(batch, ["checks", "status", "prune_reason"])
        if run is not None:
            run.advance(done=len(batch))
    return pruned
