"""Small builders for the requests the tests send."""

from __future__ import annotations

from core.llm import ChoiceSchema, LLMRequest, Message

PERSONA = "Persona: a retired farmer from Wyoming who values tradition, family and plain talk. " * 60


def ab_request(question: str = "Which answer is better?", *, key: str | None = None, **fields: object) -> LLMRequest:
    return LLMRequest(
        system="You judge answers as the persona would.",
        messages=(Message("user", question),),
        choice=ChoiceSchema(options=("A", "B"), with_confidence=True),
        key=key,
        **fields,  # type: ignore[arg-type]
    )


def text_request(prompt: str = "Say hello.") -> LLMRequest:
    return LLMRequest(system="Be brief.", messages=(Message("user", prompt),))
