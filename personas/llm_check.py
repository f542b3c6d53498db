"""The optional LLM consistency check: a model reads each rule-consistent persona and says whether the person is
plausible; implausible ones are pruned with the model's reason. All traffic goes through ``core.llm``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings

from core.llm.runner import Reply, work_run
from core.llm.types import ChoiceSchema, Completion, JobProgress, LLMRequest, Message
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


INVALID, FAILED = "invalid", "failed"


def persona_llm_checked(persona: Persona) -> bool:
    """Whether the model's check of ``persona`` gave a verdict (plausible or implausible).

    An unreadable reply (``invalid``) or a failed call (``failed``) is recorded with its reason and attempts, but
    is no verdict: the persona is not checked, and a re-run asks again.
    """
    return persona.checks.get("llm", {}).get("verdict") in (PLAUSIBLE, IMPLAUSIBLE)


def persona_llm_check_exhausted(persona: Persona) -> bool:
    """An invalid reply asked again ``LLM_INVALID_RETRIES`` times already: not asked any more, counted as failed."""
    check = persona.checks.get("llm", {})
    return check.get("verdict") == INVALID and check.get("attempts", 1) > settings.LLM_INVALID_RETRIES


def persona_llm_verdict_apply(persona: Persona, completion: Completion) -> None:
    """Record the verdict on the persona (in memory); an implausible verdict prunes it with the model's reason.

    A reply that could not be read (or that echoes the instructions) is ``invalid``, a call that failed for good
    ``failed`` (older records: the runner now stores nothing for it); either keeps the persona unchecked, with the
    number of attempts so far."""
    verdict = completion.choice if completion.valid else (FAILED if completion.transient else INVALID)
    reason = completion.reasoning or completion.error or completion.text[:500]
    attempts = persona.checks.get("llm", {}).get("attempts", 0) + 1
    check = {"verdict": verdict, "reason": reason, "model": completion.model, "attempts": attempts}
    persona.checks = {**persona.checks, "llm": check}
    if verdict == IMPLAUSIBLE:
        persona.status = PersonaStatus.PRUNED
        persona.prune_reason = f"LLM check: {reason}".strip()


class _CheckHandler:
    """The consistency check as runner work: a persona in, its verdict recorded on it (an implausible one prunes)."""

    def requests(self, items: list[Persona], *, retry: list[str] | None = None) -> list[LLMRequest]:
        return [llm_check_request(persona) for persona in items]

    def reply(self, item: Persona, completion: Completion, *, last: bool) -> Reply:
        persona_llm_verdict_apply(item, completion)
        return Reply(item, valid=persona_llm_checked(item))

    def write(self, rows: list[Persona]) -> None:
        Persona.objects.bulk_update(rows, ["checks", "status", "prune_reason"])


def personas_llm_check(*, personas: Sequence[Persona], endpoint: Any, job: JobProgress | None = None) -> int:
    """Check ``personas`` (those without a verdict yet) through ``endpoint``; return how many were pruned.

    Each persona is one item of the job: done when it has a verdict (or was pruned by the rules), failed when its
    reply could not be read or its call failed. Those are asked again by a re-run, an invalid one at most
    ``LLM_INVALID_RETRIES`` more times."""

    unsettled = [p for p in personas if p.status == PersonaStatus.CONSISTENT and not persona_llm_checked(p)]
    exhausted = [p for p in unsettled if persona_llm_check_exhausted(p)]
    pending = [p for p in unsettled if not persona_llm_check_exhausted(p)]
    # Those already checked or pruned by the rules are done; invalid ones past their retries stay failed.
    if job is not None and (len(personas) > len(unsettled) or exhausted):
        job.advance(done=len(personas) - len(unsettled), failed=len(exhausted))
    work_run(endpoint=endpoint, items=pending, handler=_CheckHandler(), job=job, chunk_size=BATCH)
    return sum(p.status == PersonaStatus.PRUNED for p in pending)
