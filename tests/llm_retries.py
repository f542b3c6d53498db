"""Fast provider retries for tests that call the mock LLM server through the real SDKs."""

from __future__ import annotations

import pytest

from core.llm import faults
from core.llm.providers import anthropic as anthropic_provider


def llm_fast_retries(monkeypatch: pytest.MonkeyPatch, *, key_env: str) -> None:
    """Retry backoff and batch polling in hundredths of a second, and a fake API key in `key_env`."""
    monkeypatch.setattr(faults, "RETRY_BASE_SECONDS", 0.01)
    monkeypatch.setattr(anthropic_provider, "BATCH_POLL_SECONDS", 0.05)
    monkeypatch.setenv(key_env, "sk-test-not-a-real-key")
