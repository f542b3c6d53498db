"""The import graph of the apps has no cycle, and imports sit at the top of their module.

A cycle is what makes lazy imports creep in (an import moved into a function so the module loads), so both are
checked from the source with ``ast``: no Django set-up, well under a second. A cycle kept only for type hints
counts too, and no arrow points upward (core → config, the LLM layer → the jobs it serves).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "core", "personas", "benchmarks", "annotation")
# Function-level imports that are not about cycles: Django's AppConfig.ready (models are not loaded before it) and
# the LLM SDK providers, loaded on first use because importing the SDKs costs every process seconds at start-up.
LAZY_ALLOWED = {
    ("core.llm.providers", "core.llm.providers.anthropic"),
    ("core.llm.providers", "core.llm.providers.openai_compatible"),
}


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]


def _imports(tree: ast.Module, type_checking: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, str]]:
    """Every import with whether it runs when the module loads and the function it sits in ("" at top level).
    Imports under ``if TYPE_CHECKING:`` never run, so they are left out, unless ``type_checking`` (then they count
    as run at load: a cycle through type hints is a cycle too)."""

    def walk(body: list[ast.stmt], function: str) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, str]]:
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                yield node, not function, function
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                if type_checking:
                    yield from walk(node.body, function)
            else:
                name = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
                for field in ("body", "orelse", "handlers", "finalbody"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        yield from walk(children, name)

    yield from walk(tree.body, "")


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _graph(type_checking: bool = False) -> tuple[dict[str, set[str]], list[tuple[str, str, str]]]:
    """Module → modules its loading runs (packages' ``__init__`` included); and the imports inside functions.
    With ``type_checking``, the imports under ``if TYPE_CHECKING:`` count as run."""
    known = _modules()
    edges: dict[str, set[str]] = {module: set() for module in known}
    lazy = []
    for module, path in known.items():
        tree = ast.parse(path.read_text())
        for node, at_load, function in _imports(tree, type_checking):
            for name in _imported(node, module, path.name == "__init__.py", known):
                target = _resolve(name, known)
                if target is None or target == module:
                    continue
                if not at_load:
                    lazy.append((module, target, function))
                    continue
                # Importing a.b.c runs a and a.b first, except the packages the importer is already inside.
                parts = target.split(".")
                for depth in range(1, len(parts) + 1):
                    runs = ".".join(parts[:depth])
                    if runs in known and not (module == runs or module.startswith(runs + ".")):
                        edges[module].add(runs)
    return edges, lazy


def _cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as a path, or [] when there is none (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(edges):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(edges[start]))]
        state[start] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(edges[child])))
    return []


def test_the_import_graph_has_no_cycle() -> None:
    edges, _ = _graph()
    assert _cycle(edges) == []


def test_no_cycle_hides_behind_type_checking() -> None:
    """A cycle kept only for type hints is still two modules that know each other: the type goes to the lower one."""
    edges, _ = _graph(type_checking=True)
    assert _cycle(edges) == []


def _arrows() -> set[tuple[str, str]]:
    """Every (importer, imported) pair, whenever the import runs: at load, in a function or for type hints."""
    edges, lazy = _graph(type_checking=True)
    return {(m, t) for m, targets in edges.items() for t in targets} | {(m, t) for m, t, _ in lazy}


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_no_arrow_points_upward() -> None:
    """core never imports config (settings come through ``django.conf``; tasks are sent by name), and the LLM layer
    never imports the jobs it serves (``core.llm.types.JobProgress`` is what it needs of one)."""
    upward = [
        (m, t)
        for m, t in sorted(_arrows())
        if (_under(m, "core") and _under(t, "config"))
        or (_under(m, "core.llm") and (_under(t, "core.jobs") or _under(t, "core.job_registry")))
    ]
    assert upward == []


def _defined(tree: ast.Module) -> set[str]:
    """The names a module defines at its top level (classes, functions, assignments), not the ones it imports."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for target in targets for t in ast.walk(target) if isinstance(t, ast.Name))
    return names


def test_every_model_is_imported_from_where_it_is_defined() -> None:
    """A models module that imports others' models does so only to register them with its app: no module (tests
    and perf included) imports a name from a models module that does not define it."""
    known = _modules()
    models = {m: path for m, path in known.items() if m.rpartition(".")[2] == "models"}
    defined = {m: _defined(ast.parse(path.read_text())) for m, path in models.items()}
    importers = [*known.items(), *((".".join(p.relative_to(ROOT).with_suffix("").parts), p) for p in _extra_files())]
    wrong = []
    for module, path in importers:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module in defined:
                wrong += [
                    f"{module}: {alias.name} from {node.module}"
                    for alias in node.names
                    if alias.name not in defined[node.module] and f"{node.module}.{alias.name}" not in known
                ]
    assert wrong == []


def _extra_files() -> list[Path]:
    return [p for folder in ("tests", "perf") for p in (ROOT / folder).rglob("*.py")]


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_project_imports_sit_at_module_level() -> None:
    _, lazy = _graph()
    left = [(m, t, f) for m, t, f in lazy if f != "ready" and (m, t) not in LAZY_ALLOWED]
    assert left == []
