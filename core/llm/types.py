"""The provider-neutral request/completion types every caller of ``core.llm`` uses (the contract).

Callers build an ``LLMRequest`` and get a ``Completion`` back from ``core.llm.llm_complete`` (one call) or
``core.llm.llm_complete_many`` (many, concurrent or through a provider's batch API). Failures raise ``LLMError``
with a ``transient`` flag; an answer that cannot be parsed is a Completion with ``valid=False``, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class Message:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChoiceSchema:
    """Ask for a structured pick among ``options`` (e.g. ("A", "B")), optionally with reasons and confidence."""

    options: tuple[str, ...]
    name: str = "answer"
    description: str = "Pick one option."
    with_reasoning: bool = True
    with_confidence: bool = False
    allow_abstain: bool = False  # adds "abstain" as a legal option
    # The text each option stands for, in the order of ``options`` (e.g. the two answers a judge compares). Models
    # see only the prompt; offline judges (shorter_answer, persona_overlap) read these. Not sent to any provider.
    options_text: tuple[str, ...] = ()

    @property
    def legal(self) -> tuple[str, ...]:
        """The options a reply may pick, "abstain" included when allowed."""
        return (*self.options, "abstain") if self.allow_abstain else self.options


@dataclass(frozen=True)
class OutputField:
    """One named field of a structured reply: free ``text``, a ``boolean``, or a ``list`` of ``enum`` values."""

    name: str
    description: str
    kind: Literal["text", "boolean", "list"] = "text"
    enum: tuple[str, ...] = ()  # the legal items of a ``list`` field
    # Typical values of a ``text`` field the offline baseline picks from (the one that overlaps the request most);
    # like ``ChoiceSchema.options_text``, never sent to any provider.
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectSchema:
    """Ask for a JSON object with every one of ``fields`` (e.g. an answer with its reasoning, or a critique).

    The reply's values land in ``Completion.fields``; a reply missing a field or with a value of the wrong type is
    invalid. Offline endpoints fill the fields themselves (see ``core.llm.providers.offline``).
    """

    fields: tuple[OutputField, ...]
    name: str = "reply"
    description: str = "Reply with every field."


@dataclass(frozen=True)
class LLMRequest:
    system: str
    messages: tuple[Message, ...]
    choice: ChoiceSchema | None = None
    # A structured reply of named fields (instead of a choice; a request asks for one or the other).
    output: ObjectSchema | None = None
    max_tokens: int | None = None  # None = the endpoint's default
    # A long text shared by many requests (the persona). It follows ``system`` in the system prompt and closes the
    # cached prefix (Anthropic cache_control; automatic prefix caching elsewhere), so keep ``system`` constant
    # across a run. Offline judges read the persona from here (else from ``system``).
    cache_prefix: str | None = None
    # Caller's stable id for this request (logged with the call; seeds the offline `random` judge).
    key: str | None = None
    # Tells repeated samples of one request apart: part of the response-cache key, so sample 1 is not sample 0.
    sample: int = 0


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


# The stop reasons that mean "the reply was cut off at max_tokens", as the providers spell them.
CUT_OFF_STOP_REASONS = frozenset({"length", "max_tokens"})


@dataclass
class Completion:
    text: str
    valid: bool = True
    choice: str | None = None  # one of ChoiceSchema.options / "abstain"; None when no choice was asked or invalid
    reasoning: str = ""
    fields: dict[str, Any] = field(default_factory=dict)  # the values of ``LLMRequest.output``'s fields
    confidence: int | None = None  # 0-100 when asked for
    raw: str = ""  # the provider's reply as received (stored for audit; never rendered as HTML)
    usage: Usage = field(default_factory=Usage)
    cost_usd: Decimal = Decimal(0)
    latency_s: float = 0.0
    model: str = ""
    # Why the model stopped, as the provider says it ("stop", "length", "end_turn", "max_tokens", "tool_use", …):
    # callers store it next to the answer, so a reply cut off at max_tokens can be told from a bad one.
    stop_reason: str = ""
    from_cache: bool = False
    error: str = ""  # why the answer is invalid
    # Set by llm_complete_many on an item whose call still failed transiently after every retry (an outage):
    # worth trying again later, unlike an invalid answer.
    transient: bool = False

    @property
    def cut_off(self) -> bool:
        """The reply stopped at ``max_tokens`` (OpenAI finish_reason=length, Anthropic stop_reason=max_tokens)."""
        return self.stop_reason in CUT_OFF_STOP_REASONS

    @classmethod
    def malformed(cls, *, raw: str, error: Exception, model: str) -> Completion:
        """A reply the SDK could not parse: kept as received, invalid."""
        return cls(text="", valid=False, raw=raw, error=f"malformed response: {error}"[:500], model=model)


class LLMError(Exception):
    """A provider call that failed. ``transient`` errors (429, 529, 5xx, timeouts) are worth retrying later."""

    def __init__(
        self, message: str, *, transient: bool, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.status_code = status_code
        # Seconds the provider asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after


class JobRecord(Protocol):
    """The stored job a run works for: the LLM layer only names it (an ``LLMCall``'s job)."""

    pk: Any


@runtime_checkable
class JobProgress(Protocol):
    """What the LLM layer needs of the job it works for; ``core.jobs.JobRun`` is one. The jobs sit above the LLM
    layer (they run its callers), so ``core.llm`` names this instead of importing them."""

    @property
    def job(self) -> JobRecord: ...

    def add_usage(self, *, input_tokens: int = 0, output_tokens: int = 0, cost_usd: Decimal = ...) -> None:
        """Add the tokens and cost of calls made for the job; raises when the job has stopped (cancelled)."""

    def advance(self, *, done: int = 1, failed: int = 0) -> None:
        """Count items settled (done, or failed); raises when the job has stopped (cancelled)."""

    def check_running(self) -> None:
        """A heartbeat: raises when the job has stopped (cancelled, or taken over), so the caller stops too."""
