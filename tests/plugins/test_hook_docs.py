"""Meta-tests (as datasette has): every hookspec is documented in docs/plugins.md,
with its exact name and arguments, and exercised by some test."""
from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")


def _hookspecs():
    out = []
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("dangjian_"):
            out.append((name, list(inspect.signature(fn).parameters)))
    return out


HOOKS = _hookspecs()


def test_there_are_hooks():
    assert len(HOOKS) >= 8


@pytest.mark.parametrize("name,args", HOOKS, ids=[h[0] for h in HOOKS])
def test_hook_is_documented_with_its_signature(name, args):
    heading = f"### {name}({', '.join(args)})"
    assert heading in DOCS, f"docs/plugins.md lacks the heading {heading!r}"
    section = DOCS.split(heading, 1)[1].split("\n### ", 1)[0]
    assert "```python" in section, f"{name}: no example"
    assert f"def {name}(" in section, f"{name}: the example does not implement the hook"
    assert "Return" in section or "return" in section, f"{name}: the return value is not described"


@pytest.mark.parametrize("name,args", HOOKS, ids=[h[0] for h in HOOKS])
def test_hook_is_exercised_by_a_test(name, args):
    me = Path(__file__).resolve()
    for path in (ROOT / "tests").rglob("*.py"):
        if path.resolve() == me:
            continue
        if f"def {name}(" in path.read_text(encoding="utf-8"):
            return
    pytest.fail(f"no test implements {name}")


def test_documented_hooks_all_exist():
    import re

    documented = set(re.findall(r"^### (dangjian_\w+)\(", DOCS, re.M))
    assert documented == {h[0] for h in HOOKS}
