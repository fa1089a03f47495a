"""The plugin kit is a pytest plugin: with the entry point declared in pyproject.toml (or
``-p core.testing``) a town's test uses ``plugin_kit`` without any conftest, and importing
the kit costs nothing until a fixture runs."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TOWN_TEST = '''
import datetime as dt


def test_tiny_city(dangjian_city):
    assert sorted(dangjian_city.towns) == ["巴城镇", "玉山镇"]


def test_kit(plugin_kit):
    kit = plugin_kit.write("tiny_town", """
from core import hookimpl


@hookimpl
def dangjian_town_params(town):
    return {"train.staff": {"min_days": 6}} if town == "周市镇" else None
""", towns=["周市镇"])
    kit.add_town_like("周市镇", "巴城镇")
    assert kit.errors() == []
    assert kit.town_params("周市镇")["train.staff"] == {"min_days": 6}
    assert "周市张伟" in kit.points("member-points")
'''


def _env(extra_path: str = "") -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DANGJIAN_", "PYTEST_")) and k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), extra_path) if p)
    return env


def _pytest(folder: Path, *args: str, extra_path: str = ""):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(folder), *args, str(folder)],
                          cwd=folder, env=_env(extra_path), capture_output=True, text=True, timeout=300)


def _entry_point() -> tuple[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    eps = data["project"]["entry-points"]["pytest11"]
    assert list(eps.values()) == ["core.testing"]
    return next(iter(eps.items()))


def test_pyproject_declares_the_pytest_entry_point():
    name, target = _entry_point()
    assert target == "core.testing"
    # named like the module: a conftest naming "core.testing" beside the entry point is no clash
    assert name == "core.testing"
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(d.startswith("pytest") for d in extras["project"]["optional-dependencies"]["test"])


def test_fixtures_without_conftest_with_p_option(tmp_path):
    (tmp_path / "test_town.py").write_text(TOWN_TEST, encoding="utf-8")
    assert not list(tmp_path.glob("conftest.py"))
    r = _pytest(tmp_path, "-p", "core.testing")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed" in r.stdout


def _fake_install(site: Path) -> None:
    """A distribution on the path declaring the entry point exactly as pyproject.toml does
    (what ``pip install 'dangjian[test]'`` leaves in site-packages)."""
    name, target = _entry_point()
    info = site / "dangjian_kit_probe-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dangjian-kit-probe\nVersion: 0\n")
    (info / "entry_points.txt").write_text(f"[pytest11]\n{name} = {target}\n")


def test_fixtures_without_conftest_through_the_entry_point(tmp_path):
    site, tests = tmp_path / "site", tmp_path / "town"
    _fake_install(site)
    tests.mkdir()
    (tests / "test_town.py").write_text(TOWN_TEST, encoding="utf-8")
    r = _pytest(tests, extra_path=str(site))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed" in r.stdout
    # a conftest that still names the kit works beside the entry point
    (tests / "conftest.py").write_text('pytest_plugins = ["core.testing"]\n', encoding="utf-8")
    r = _pytest(tests, extra_path=str(site))
    assert r.returncode == 0, r.stdout + r.stderr


def test_importing_the_kit_is_cheap():
    code = ("import sys, core.testing; "
            "print(sorted(m for m in ('core.db', 'core.models', 'peewee', 'textual', 'core.plugins') "
            "if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], env=_env(), capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def _doc_example(name: str) -> str:
    import re

    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- example:" + re.escape(name) + r" -->\s*```python\n(.*?)```", text, re.S)
    assert m, f"docs/plugins.md has no example {name}"
    return m.group(1)


def test_the_guides_ten_line_test_runs_as_written(tmp_path):
    """The plugin guide's plugin and its ten-line test, in a folder with no conftest."""
    (tmp_path / "my_town.py").write_text(_doc_example("my_town.py"), encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_my_town.py").write_text(_doc_example("test_my_town.py"), encoding="utf-8")
    r = _pytest(tmp_path, "-p", "core.testing")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout
