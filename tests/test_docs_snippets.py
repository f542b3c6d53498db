"""Every fenced ``bash`` and ``python`` block of README.md and docs/*.md, run the way a reader would run it.

The blocks run in document order (README.md, then docs/*.md by name) in one scratch world: a temporary folder that
holds links to the repository's files (so `.venv/bin/python manage.py …` and relative paths work and what a block
writes stays there), its own data folder and database — a file in that folder on SQLite, a scratch database on
PostgreSQL when the suite runs there — with the demo data `bin/demo` writes, and the mock LLM server
(`tests/llm_mock`) standing in for Anthropic, OpenAI and local OpenAI-compatible servers. The broker is the embedded
filesystem one either way: a block that queues a job leaves its message in the scratch folder.

A block is known by its file and first line. A new block is run by default; one that cannot be run here goes in
NOT_RUN with the reason and what covers it instead, and one that names things a reader fills in goes in
SUBSTITUTIONS with the value it is run with.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from tests.llm_mock.server import MockLLMServer

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>bash|python)\n(?P<code>.*?)^(?P=indent)```", re.M | re.S)

# Blocks not run here, by key, each with the reason and what covers it instead.
NOT_RUN = {
    # Serves until Ctrl-C; tests/smoke/test_embedded_default.py starts it on a free port and drives it over HTTP.
    "README.md: bin/demo": "serves forever (the smoke test runs it)",
    # The whole suite, this test included; .ci/run runs it on PostgreSQL + Redis and on SQLite.
    "README.md: bin/test": "is the suite itself (.ci/run runs it)",
    # A release on a running deployment: a git checkout with a remote and a gunicorn master serving from it.
    # tests/config/test_gunicorn.py runs bin/web-upgrade against a real gunicorn under load.
    "README.md: git pull && bin/setup --no-dev && .venv/bin/python manage.py migrate   # in the directory gunicorn "
    "runs from": "needs a deployment to upgrade (test_gunicorn.py runs bin/web-upgrade)",
    # Benchmarks take minutes and measure the machine; tests/perf checks their load generator.
    "README.md: bin/perf            # all benchmarks; bin/perf scale for the paper-scale table; bin/perf llm (or "
    "agreement, personas, annotation, pairs, bench, import, restart) for one": "long-running benchmarks",
    # A production deployment: long-running gunicorn, worker and beat, and a secret key, host names, PostgreSQL and
    # Redis of its own. tests/config/test_settings.py runs `check --deploy` with these settings.
    "README.md: export DJANGO_DEBUG=0 DJANGO_SECRET_KEY=… DJANGO_ALLOWED_HOSTS=lab.example.org \\": (
        "long-running production servers"
    ),
    # Builds llama-cpp-python and serves a model until stopped; .ci/run installs the group and the tests marked
    # local_model (tests/core/llm/test_local_model.py) start the same command on a free port.
    "docs/llm.md: bin/setup --group local-model   # once: llama-cpp-python built from source (~15 min on 2 cores), "
    "then uv's cache": "a long build and a server that runs until stopped (the local_model tests run it)",
    # Part of the suite (bin/test runs tests/core/llm) and a benchmark (bin/perf llm).
    "docs/llm.md: PERSONA_LAB_DATA_DIR=$PWD/var/test-llm .venv/bin/python -m pytest tests/core/llm -q": (
        "is part of the suite, plus a long-running benchmark"
    ),
}

# Placeholders a reader replaces, by key: (text in the block, what it is run with). `{name}` is filled from
# demo_ids() (ids of the demo data, which differ between databases and runs).
SUBSTITUTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    # The study, persona and pairs to judge: the demo study, and one of its personas with two of that persona's pairs.
    "docs/judges.md: .venv/bin/python manage.py judge claude-judge --endpoint claude-sonnet --samples 1 --confidence "
    "--abstain": (
        ("study_judge claude-judge 3", "study_judge claude-judge {study}"),
        ("--persona 12 --pair 40 --pair 41", "--persona {persona} --pair {pair_a} --pair {pair_b}"),
    ),
    # The run the first command starts (it prints its id).
    "README.md: .venv/bin/python manage.py bench run benchmarks/bench/configs/paper_main.json \\": (
        ("bench status 12", "bench status {next_bench_run}"),
    ),
    # The same check with two rounds instead of thirty (a minute): tests/annotation/precision/test_check.py runs twenty.
    "README.md: .venv/bin/python manage.py precision_check --personas 12 --raters 3 --questions 4 --kappa 0.5 "
    "--rounds 30": (("--rounds 30", "--rounds 2"),),
}
# Everywhere: the addresses of a reader's own model servers (vLLM, Ollama) are replaced by the mock server's.
HOSTS = ("http://gpu-box:8000/v1", "http://localhost:11434/v1", "http://localhost:8080/v1")

# The names the "Calling models from code" block takes as given, bound on the demo data (an offline endpoint: the
# block sends a batch, which only the offline providers answer without waiting on a real batch queue).
PYTHON_PRELUDE = {
    "docs/llm.md: from core.llm import ChoiceSchema, LLMRequest, Message": """
from benchmarks.pairs.models import PreferencePair
from core.llm.models import ModelEndpoint
from personas.formats import persona_to_text

pair = PreferencePair.objects.select_related("persona", "prompt").order_by("pk").first()
persona = pair.persona
persona_text = persona_to_text(persona.attributes)
prompt, answer_a, answer_b = pair.prompt.text, pair.chosen, pair.rejected
endpoint = ModelEndpoint.objects.get(name="offline-random")
run = None
""",
}
DJANGO = """
import os, sys
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
"""


@dataclass(frozen=True)
class Snippet:
    document: str
    lang: str
    code: str

    @property
    def key(self) -> str:
        first = next(line for line in self.code.splitlines() if line.strip())
        return f"{self.document}: {first.strip()}"


def snippets() -> list[Snippet]:
    found = []
    for path in DOCUMENTS:
        for match in FENCE.finditer(path.read_text(encoding="utf-8")):
            indent = len(match["indent"])
            code = "".join(line[indent:] for line in match["code"].splitlines(keepends=True))
            found.append(Snippet(str(path.relative_to(ROOT)), match["lang"], code))
    return found


SNIPPETS = snippets()


def test_every_block_has_one_key_and_every_listed_block_exists():
    keys = [snippet.key for snippet in SNIPPETS]
    assert len(keys) == len(set(keys)), "two blocks share a first line: make one of them say something else"
    stale = (set(NOT_RUN) | set(SUBSTITUTIONS) | set(PYTHON_PRELUDE)) - set(keys)
    assert not stale, f"listed blocks that the documents no longer have: {stale}"


@dataclass
class World:
    folder: Path
    env: dict[str, str]
    ids: dict[str, str]
    mock_url: str


@contextmanager
def scratch_postgres() -> Iterator[str | None]:
    """A scratch PostgreSQL database when the suite runs on PostgreSQL (its URL), else None."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    import psycopg

    server = settings.DATABASES["default"]
    name = f"docs_{uuid.uuid4().hex[:10]}"
    admin = {
        "host": server["HOST"] or None,
        "port": server["PORT"] or None,
        "user": server["USER"],
        "password": server["PASSWORD"],
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(url, name)
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_db(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


def run(world: World, args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=world.folder, env=world.env, capture_output=True, text=True, timeout=600, check=False, **kwargs
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("docs")
    for entry in ROOT.iterdir():
        if entry.name not in ("var", ".git"):
            (folder / entry.name).symlink_to(entry)
    with MockLLMServer() as mock, scratch_postgres() as url:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
        env.update(
            PERSONA_LAB_DATA_DIR=str(folder / "var"),
            DJANGO_DEBUG="1",
            # Provider SDKs called with no base URL (Claude, OpenAI) read these; the mock takes any key.
            ANTHROPIC_BASE_URL=mock.url,
            OPENAI_BASE_URL=f"{mock.url}/v1",
            ANTHROPIC_API_KEY="mock-key",
            OPENAI_API_KEY="mock-key",
            # `datasets` never reaches the Hub and keeps its cache here.
            HF_HOME=str(folder / "hf"),
            HF_DATASETS_OFFLINE="1",
            HF_HUB_OFFLINE="1",
        )
        if url:
            env["DATABASE_URL"] = url
        world = World(folder=folder, env=env, ids={}, mock_url=mock.url)
        for command in (["migrate", "--noinput"], ["demo_setup"]):
            done = run(world, [".venv/bin/python", "manage.py", *command])
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
        world.ids = demo_ids(world)
        yield world


def demo_ids(world: World) -> dict[str, str]:
    """Ids of the demo data that SUBSTITUTIONS refer to."""
    query = """
from annotation.models import Study
from benchmarks.bench.models import BenchRun
from benchmarks.pairs.models import PreferencePair

study = Study.objects.order_by("pk").first()
pair = PreferencePair.objects.order_by("pk").first()
pairs = PreferencePair.objects.filter(persona=pair.persona).order_by("pk").values_list("pk", flat=True)[:2]
last = BenchRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
print(study.pk, pair.persona_id, *pairs, last + 1)
"""
    done = run(world, [".venv/bin/python", "-c", DJANGO + query])
    assert done.returncode == 0, done.stderr[-3000:]
    values = done.stdout.split()
    return dict(zip(("study", "persona", "pair_a", "pair_b", "next_bench_run"), values, strict=True))


def runnable(snippet: Snippet, world: World) -> str:
    code = snippet.code
    for text, replacement in SUBSTITUTIONS.get(snippet.key, ()):
        assert text in code, f"{snippet.key}: the substitution for {text!r} no longer matches"
        code = code.replace(text, replacement.format(**world.ids))
    for host in HOSTS:
        code = code.replace(host, f"{world.mock_url}/v1")
    return code


# The first block also waits for migrate + demo_setup (tens of seconds; minutes on a loaded machine).
@pytest.mark.timeout(900)
@pytest.mark.parametrize("snippet", SNIPPETS, ids=[f"{s.document}:{i}" for i, s in enumerate(SNIPPETS)])
def test_snippet_runs(snippet: Snippet, world: World) -> None:
    if snippet.key in NOT_RUN:
        pytest.skip(f"not run: {NOT_RUN[snippet.key]}")
    code = runnable(snippet, world)
    if snippet.lang == "bash":
        done = run(world, ["bash", "-euo", "pipefail", "-c", code])
    else:
        done = run(world, [".venv/bin/python", "-c", DJANGO + PYTHON_PRELUDE.get(snippet.key, "") + code])
    assert done.returncode == 0, f"{snippet.key}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
