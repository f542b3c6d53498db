"""The local model's launcher without the model: the chat format it registers, and the endpoint it registers through
``manage.py llm_endpoint`` like any user's server (tests/core/llm/test_local_model.py runs the real server)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from core.llm import local_server
from core.llm.models import ModelEndpoint


def test_the_system_message_opens_the_first_user_turn_as_gemma_3s_template_does():
    prompt = local_server.gemma3_prompt(
        [
            {"role": "system", "content": "You are a 70-year-old beekeeper."},
            {"role": "user", "content": "Which answer do you prefer?"},
            {"role": "assistant", "content": "A"},
            {"role": "user", "content": [{"type": "text", "text": "Why?"}]},
        ]
    )
    assert prompt == (
        "<start_of_turn>user\nYou are a 70-year-old beekeeper.\n\nWhich answer do you prefer?<end_of_turn>\n"
        "<start_of_turn>model\nA<end_of_turn>\n"
        "<start_of_turn>user\nWhy?<end_of_turn>\n"
        "<start_of_turn>model\n"
    )


def test_without_a_system_message_the_turns_are_plain_and_a_lone_system_message_is_the_users_turn():
    assert local_server.gemma3_prompt([{"role": "user", "content": "Hi"}]) == (
        "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n"
    )
    assert local_server.gemma3_prompt([{"role": "system", "content": "Say OK."}]) == (
        "<start_of_turn>user\nSay OK.<end_of_turn>\n<start_of_turn>model\n"
    )


@pytest.mark.django_db
def test_the_endpoint_is_registered_through_llm_endpoint_as_an_ordinary_openai_compatible_server():
    url = local_server.base_url(port=8611)
    call_command(
        "llm_endpoint", "local-gemma", *local_server.endpoint_options(url=url, context=8192), stdout=io.StringIO()
    )
    endpoint = ModelEndpoint.objects.get(name="local-gemma")
    assert (endpoint.provider, endpoint.base_url, endpoint.api_key_env) == ("openai_compatible", url, "")
    assert (endpoint.structured_output, endpoint.context_window, endpoint.concurrency) == ("json_object", 8192, 1)
    assert endpoint.retry_budget_seconds == 30  # the default: a local server's restart
    assert endpoint.max_attempts is None


def test_the_launcher_says_whether_the_group_is_installed():
    out = io.StringIO()
    call_command("llm_local_server", "--check", stdout=out)
    missing = local_server.local_model_missing()
    if missing is None:
        assert out.getvalue().strip() == "available"
    else:
        assert "bin/setup --group local-model" in out.getvalue()
