"""The real local model: calls per second, valid share and seconds per call for judge-sized requests against
llama-cpp-python's server running Gemma 3 270M (the ``local-model`` group), reached through ``openai_compatible``.

Command: ``bin/perf local_model``. Without the group the benchmark prints one row saying so. The valid share is what
this small model achieves (reported, not a target); the speed figures are those of a 2-core machine.
"""

from __future__ import annotations

import io
import time
import uuid
from pathlib import Path

from django.core.management import call_command

from core.llm import ChoiceSchema, LLMRequest, Message, local_server
from core.llm.models import ModelEndpoint
from core.llm.service import llm_complete_many
from perf.result import Result

CALLS = 8
MANAGE_PY = Path(__file__).resolve().parents[1] / "manage.py"
_JUDGE = (
    "You are the person described below. Read the question and the two answers, then say which answer you would "
    "prefer and why, in one sentence of your own."
)
_PERSONA = (
    "Age 67, retired farmer in rural Wyoming, widowed, two grown children. Values hard work, plain speech and "
    "self-reliance; distrusts big promises; goes to church on Sundays; reads the local paper every morning."
)


def _request(index: int) -> LLMRequest:
    question = f"Question {index}: should the county pave the gravel road to the reservoir?"
    answers = "Answer A: Yes, it saves wear on trucks and helps the ambulance.\nAnswer B: No, it costs too much."
    return LLMRequest(
        system=_JUDGE,
        cache_prefix=_PERSONA,
        messages=(Message("user", f"{question}\n\n{answers}"),),
        choice=ChoiceSchema(options=("A", "B"), with_reasoning=True),
        max_tokens=128,
        key=f"perf-local-{index}",
    )


def run() -> list[Result]:
    missing = local_server.local_model_missing()
    if missing is not None:
        return [Result("local_model", "calls/s", 0.0, "1/s", note="local-model group not installed")]
    call_command("migrate", verbosity=0)
    server = local_server.LocalServerProcess(port=local_server.free_port(), manage_py=MANAGE_PY)
    server.start()
    name = f"bench-local-{uuid.uuid4().hex[:6]}"
    try:
        options = local_server.endpoint_options(url=server.url, context=server.context)
        call_command("llm_endpoint", name, *options, stdout=io.StringIO())
        endpoint = ModelEndpoint.objects.get(name=name)
        llm_complete_many(endpoint=endpoint, requests=[_request(-1)])  # warm: the model's first call loads caches
        started = time.perf_counter()
        completions = llm_complete_many(endpoint=endpoint, requests=[_request(i) for i in range(CALLS)])
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
        ModelEndpoint.objects.filter(name=name).delete()
    valid = sum(c.valid for c in completions) / len(completions)
    note = f"Gemma 3 270M Q4_K_M, {CALLS} judge calls, json_object"
    return [
        Result("local_model", "calls/s", len(completions) / elapsed, "1/s", note=note),
        Result("local_model", "valid share", valid, "ratio", note="what the model achieves, not a target"),
        Result("local_model", "seconds per call", elapsed / len(completions), "s", note=note),
    ]
