"""The import graph of the project's own modules (core, tui, plugins): no cycles, no upward edges.

Every ``.py`` file under ``core/``, ``tui/`` and ``plugins/`` is parsed with :mod:`ast`; every
static ``import`` / ``from … import`` statement counts, function-local ones included (a lazy
import is still a dependency).  Imports by name at run time (``importlib.import_module(name)``,
the way the plugin manager loads ``DEFAULT_PLUGINS``) are not edges.

The layers, lowest first: ``core`` (imports neither ``tui`` nor ``plugins``), ``tui`` (imports
``core``, never ``plugins``), ``plugins`` (imports ``core``; ``tui.api`` only inside a function,
the factory of ``dangjian_register_screens``, so a headless command never loads textual).

The command handlers are the package ``core.cli``: they import the domain modules, never the
reverse — no module outside ``core.cli`` imports it but ``core.testing`` (the test kit runs
``dangjian`` as a user would).

Run ``python tests/test_import_graph.py`` for the figures and every cycle and offending edge.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "tui", "plugins")
LAYER = {"core": 0, "tui": 1, "plugins": 2}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    local: bool     # inside a function (or method)
    file: str
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            out[module_name(path)] = path
    return out


def _resolve(name: str, modules) -> str | None:
    """The longest project module that ``name`` names or lies inside (``core.models.Member`` → core.models)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules, file: str):
        self.module, self.is_package, self.modules, self.file = module, is_package, modules, file
        self.depth = 0
        self.edges: list[Edge] = []

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _add(self, target: str | None, node) -> None:
        if target is not None and target != self.module:
            self.edges.append(Edge(self.module, target, self.depth > 0, self.file, node.lineno))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(_resolve(alias.name, self.modules), node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
            base = package[:len(package) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        for alias in node.names:
            # ``from core import models`` names the module core.models; ``from core import hookimpl`` core
            target = _resolve(f"{prefix}.{alias.name}", self.modules) if alias.name != "*" else None
            self._add(target or _resolve(prefix, self.modules), node)


def import_graph() -> tuple[dict[str, Path], list[Edge]]:
    modules = project_modules()
    edges: list[Edge] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        visitor = _Imports(name, path.name == "__init__.py", modules, str(path.relative_to(ROOT)))
        visitor.visit(tree)
        edges.extend(dict.fromkeys(visitor.edges))  # ``from a import b, c`` of one module: one edge
    return modules, edges


def cycles(modules, edges) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    succ: dict[str, set[str]] = {m: set() for m in modules}
    for e in edges:
        succ[e.source].add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return sorted(out)


def a_cycle(component: list[str], edges) -> list[str]:
    """One shortest cycle through the component's first module, for the message."""
    members = set(component)
    succ: dict[str, list[str]] = {}
    for e in edges:
        if e.source in members and e.target in members:
            succ.setdefault(e.source, []).append(e.target)
    start = component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(set(succ.get(v, ()))):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return component  # pragma: no cover - a component always has a cycle through each member


def upward(edges) -> list[Edge]:
    """Edges from a lower layer to a higher one, but for plugins → tui.api inside a function."""
    bad = []
    for e in edges:
        src, dst = e.source.split(".")[0], e.target.split(".")[0]
        if LAYER[dst] <= LAYER[src]:
            if src == "plugins" and dst == "tui" and not (e.target == "tui.api" and e.local):
                bad.append(e)  # a plugin reaches the app's internals, or imports textual at top level
            continue
        bad.append(e)
    return bad


#: the package of the command handlers, and the one module outside it that may run them
CLI = "core.cli"
CLI_CALLERS = {"core.testing"}


def in_cli(module: str) -> bool:
    return module == CLI or module.startswith(CLI + ".")


def into_cli(edges) -> list[Edge]:
    """Edges into ``core.cli`` from outside it (a domain module, the app or a plugin reaching a handler)."""
    return [e for e in edges if in_cli(e.target) and not in_cli(e.source) and e.source not in CLI_CALLERS]


def report() -> tuple[str, list, list]:
    modules, edges = import_graph()
    found = cycles(modules, edges)
    up = upward(edges) + into_cli(edges)
    pairs = {(e.source, e.target) for e in edges}
    lines = [f"modules {len(modules)}, edges {len(pairs)} (import statements {len(edges)}, "
             f"{sum(e.local for e in edges)} of them function-local), "
             f"cycles {len(found)} (modules in them {sum(len(c) for c in found)}), "
             f"upward edges and edges into {CLI} {len(up)}"]
    for comp in found:
        lines.append(f"  cycle of {len(comp)}: {' -> '.join(a_cycle(comp, edges))}   [{', '.join(comp)}]")
        for e in sorted(edges, key=lambda e: (e.file, e.line)):
            if e.source in comp and e.target in comp:
                lines.append(f"      {e.file}:{e.line} {e.source} -> {e.target}{' (in a function)' if e.local else ''}")
    for e in up:
        what = f"into {CLI}" if in_cli(e.target) else "upward"
        lines.append(f"  {what}: {e.file}:{e.line} {e.source} -> {e.target}{' (in a function)' if e.local else ''}")
    return "\n".join(lines), found, up


def test_no_cycles_and_no_upward_imports():
    text, found, up = report()
    print(text)
    assert not found and not up, text


def test_the_graph_sees_function_local_and_relative_imports(tmp_path):
    """The parser itself: a lazy import inside a method and a relative import are edges."""
    src = "from . import b\n\nclass K:\n    def f(self):\n        from core.x import y\n"
    modules = {"core": None, "core.a": None, "core.b": None, "core.x": None}
    v = _Imports("core.a", False, modules, "core/a.py")
    v.visit(ast.parse(src))
    assert [(e.target, e.local) for e in v.edges] == [("core.b", False), ("core.x", True)]


def test_the_plugin_exception_is_only_tui_api_inside_a_function():
    e = lambda target, local: Edge("plugins.town", target, local, "plugins/town.py", 1)  # noqa: E731
    assert upward([e("tui.api", True)]) == []
    assert upward([e("tui.api", False), e("tui.app", True)]) == [e("tui.api", False), e("tui.app", True)]
    assert upward([Edge("core.x", "plugins", True, "core/x.py", 1)])


def test_only_the_test_kit_imports_the_cli_from_outside():
    e = lambda source, target: Edge(source, target, True, "x.py", 1)  # noqa: E731
    assert into_cli([e("core.cli.backup", "core.cli.basic"), e("core.cli", "core.plugins"),
                     e("core.testing", "core.cli")]) == []
    assert into_cli([e("core.backup", "core.cli.basic"), e("tui.app", "core.cli")]) == [
        e("core.backup", "core.cli.basic"), e("tui.app", "core.cli")]
    assert into_cli([e("core.x", "core.client")]) == []  # a name that merely starts with core.cli


if __name__ == "__main__":
    print(report()[0])
