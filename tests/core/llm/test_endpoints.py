from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from core.llm.models import ModelEndpoint, documented_cache_min_tokens
from core.llm.parsing import parse_choice_text
from core.llm.types import ChoiceSchema, Completion, Usage


def test_sampling_params_are_checked_against_the_installed_sdk(make_endpoint):
    with pytest.raises(ValidationError) as caught:
        make_endpoint("anthropic", params={"temperature": 0.2})
    assert "installed anthropic SDK" in str(caught.value)
    assert make_endpoint("openai_compatible", params={"temperature": 0.2, "top_p": 0.9}).params["top_p"] == 0.9
    with pytest.raises(ValidationError):
        make_endpoint("openai_compatible", params={"messages": []})  # ours to set
    with pytest.raises(ValidationError):
        make_endpoint("offline", model="gpt-4")
    with pytest.raises(ValidationError, match="needs a key"):
        make_endpoint("anthropic", api_key_env="")


def test_cost_prices_cache_reads_and_writes_apart():
    endpoint = ModelEndpoint(
        price_input_per_mtok=Decimal(3),
        price_output_per_mtok=Decimal(15),
        price_cache_read_per_mtok=Decimal("0.3"),
        price_cache_write_per_mtok=Decimal("3.75"),
        batch_price_factor=Decimal("0.5"),
    )
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cache_read_tokens=2_000_000, cache_write_tokens=0)
    assert endpoint.cost(usage) == Decimal("5.100000")  # 3 + 1.5 + 0.6
    assert endpoint.cost(usage, batch=True) == Decimal("2.550000")
    assert endpoint.cost(Usage(cache_write_tokens=1_000_000)) == Decimal("3.750000")


@pytest.mark.parametrize(
    ("text", "choice"),
    [
        ("Reasoning: fits.\nAnswer: B", "B"),
        ('Sure: {"reasoning": "x", "choice": "A"}', "A"),
        ("b", "B"),
        ("**Final answer:** A", "A"),
        ("I like both A and B", None),
    ],
)
def test_plain_text_answers(text, choice):
    completion = parse_choice_text(Completion(text=text), ChoiceSchema(options=("A", "B")))
    assert completion.choice == choice
    assert completion.valid is (choice is not None)


def test_endpoint_command_creates_and_updates(db):
    call_command(
        "llm_endpoint",
        "ollama-llama",
        "--provider=openai_compatible",
        "--model=llama3.1:8b",
        "--base-url=http://localhost:11434/v1",
        "--param=temperature=0",
        "--concurrency=2",
        "--price-input=0",
    )
    call_command("llm_endpoint", "ollama-llama", "--rpm=60", "--param=seed=3", "--cache-responses")
    endpoint = ModelEndpoint.objects.get(name="ollama-llama")
    assert endpoint.params == {"temperature": 0, "seed": 3}
    assert (endpoint.concurrency, endpoint.requests_per_minute, endpoint.cache_responses) == (2, 60, True)
    with pytest.raises(CommandError, match="temperature"):
        call_command("llm_endpoint", "claude", "--provider=anthropic", "--model=claude-x", "--param=temperature=0")


def test_llm_check_reports_structured_output_and_caching(anthropic_endpoint, capsys):
    call_command("llm_check", anthropic_endpoint.name)
    out = capsys.readouterr().out
    assert "model:      mock-model" in out
    assert "structured: tools (a forced tool" in out
    assert f"base URL:   {anthropic_endpoint.base_url}" in out
    assert "system msg: kept" in out
    assert "caching:    yes" in out
    assert "cache min:  1,024 tokens (documented for mock-model)" in out
    caching = next(line for line in out.splitlines() if line.startswith("caching:"))
    cached, uncached = (int(n) for n in re.findall(r"(\d+) tokens cached against (\d+) uncached", caching)[0])
    assert cached >= 1024 > uncached > 0


@pytest.mark.parametrize(
    ("provider", "model", "minimum"),
    [
        ("anthropic", "claude-sonnet-4-5-20250929", 1024),
        ("anthropic", "claude-opus-4-1-20250805", 1024),
        ("anthropic", "claude-sonnet-4-6", 2048),
        ("anthropic", "claude-opus-4-5-20251101", 4096),
        ("anthropic", "claude-opus-4.6", 4096),
        ("anthropic", "claude-haiku-4-5", 4096),
        ("anthropic", "claude-3-5-haiku-20241022", 2048),
        ("anthropic", "claude-3-haiku-20240307", 2048),
        ("openai_compatible", "gpt-4o-mini", 1024),
    ],
)
def test_cache_minimum_is_the_documented_value_unless_the_endpoint_sets_one(provider, model, minimum):
    endpoint = ModelEndpoint(provider=provider, model=model)
    assert endpoint.prompt_cache_min_tokens == documented_cache_min_tokens(provider=provider, model=model) == minimum
    endpoint.cache_min_tokens = 512
    assert endpoint.prompt_cache_min_tokens == 512


def test_admin_shows_the_cache_minimum_in_use(anthropic_endpoint, admin_client):
    page = admin_client.get(f"/admin/core/modelendpoint/{anthropic_endpoint.pk}/change/").content.decode()
    assert "1,024 tokens (documented for this model)" in page
    listing = admin_client.get("/admin/core/modelendpoint/").content.decode()
    assert "1,024 tokens (documented for this model)" in listing


def test_llm_check_on_openai_compatible_without_json_schema(openai_endpoint, mock_llm, capsys):
    mock_llm.config.reject_json_schema = True
    call_command("llm_check", openai_endpoint.name, "--no-cache-check")
    assert "structured: text (stored; rejected" in capsys.readouterr().out
    openai_endpoint.refresh_from_db()
    assert openai_endpoint.structured_output == "text"


def test_llm_check_fails_loudly(anthropic_endpoint, mock_llm):
    mock_llm.enqueue("401")
    with pytest.raises(CommandError, match="permanent: HTTP 401"):
        call_command("llm_check", anthropic_endpoint.name)


def test_demo_endpoints_are_created_once(db):
    from core.llm.endpoints import DEMO_ENDPOINTS, llm_demo_endpoints_ensure

    assert "5 offline baseline(s) created" in llm_demo_endpoints_ensure()
    assert "0 offline baseline(s) created" in llm_demo_endpoints_ensure()
    assert set(ModelEndpoint.objects.values_list("name", flat=True)) == set(DEMO_ENDPOINTS)
