"""A local LLM provider stand-in for tests and benchmarks (see ``server.py``)."""

from __future__ import annotations

from tests.llm_mock.process import spawn_mock_server
from tests.llm_mock.server import MockConfig, MockLLMServer, count_tokens

__all__ = ["MockConfig", "MockLLMServer", "count_tokens", "spawn_mock_server"]
