"""``python -m tests.llm_mock '{"latency": 0.2}'``: serve until terminated; the first stdout line is the URL."""

from __future__ import annotations

import json
import sys
import threading

from tests.llm_mock.server import MockLLMServer

if __name__ == "__main__":
    server = MockLLMServer(**json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")).start()
    print(server.url, flush=True)
    threading.Event().wait()
