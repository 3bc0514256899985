"""The layout's promises, checked from the source: no import cycles, dependencies one way.

Every `import` counts, including those inside functions and under TYPE_CHECKING, because a lazy
import is still a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "storage", "workflows", "sandbox")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _resolve(target: str) -> str | None:
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target or None


def _imports(name: str, path: Path) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for target in targets:
            resolved = _resolve(target)
            if resolved and resolved != name:
                yield resolved


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle_when_there_is_one() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_modules() -> None:
    assert _cycles(GRAPH) == []


def _feature(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "bot" and len(parts) > 2 else None


def test_no_two_features_import_each_other() -> None:
    """Feature packages depend one way (e.g. knowledge -> reviews, never back)."""
    between: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        source = _feature(module)
        for target in targets:
            other = _feature(target)
            if source and other and other != source:
                between.setdefault(source, set()).add(other)
    assert _cycles(between) == []


def test_the_domain_and_storage_know_nothing_of_slack() -> None:
    for module, targets in GRAPH.items():
        layer = module.split(".")[0]
        allowed = {"workflows": {"workflows"}, "storage": {"storage", "workflows"}}.get(layer)
        if allowed is None:
            continue
        bad = {t for t in targets if t.split(".")[0] not in allowed}
        assert not bad, f"{module} imports {sorted(bad)}"


def test_the_bot_never_loads_the_sandbox() -> None:
    """Only the `sandbox` command itself (a lazy import in the CLI) reaches the stand-in."""
    for module, targets in GRAPH.items():
        if module.startswith("bot.") and module != "bot.cli.main":
            assert not {t for t in targets if t.startswith("sandbox")}, module


def test_listeners_are_registered_in_one_place_per_feature() -> None:
    """No `@app.…` decorators: listeners are named functions a test can call directly."""
    for module, path in MODULES.items():
        if not module.startswith("bot."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    call = decorator.func if isinstance(decorator, ast.Call) else decorator
                    owner = call.value if isinstance(call, ast.Attribute) else None
                    assert not (isinstance(owner, ast.Name) and owner.id == "app"), (
                        f"{module}.{node.name} registers itself with @app"
                    )


def test_every_package_says_what_lives_there() -> None:
    for package in {p.parent for p in MODULES.values()}:
        init = package / "__init__.py"
        assert init.exists(), f"{package} has no __init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{init} has no docstring"
