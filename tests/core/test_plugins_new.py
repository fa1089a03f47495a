"""``dangjian plugins new``: a plugin with one example of each hook, a test that passes as
written, and the config lines that load and bind it; never overwrites a file."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parents[2]
HOOKS = {"dangjian_register_rules", "dangjian_register_scorers", "dangjian_town_params",
         "dangjian_funding_split", "dangjian_validate_record", "dangjian_register_screens"}


def _new(capsys, *argv):
    code = main(["plugins", "new", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_writes_plugin_test_and_config_lines_and_the_test_passes(dangjian_env, tmp_path, capsys):
    folder = tmp_path / "town plugins"
    code, out, err = _new(capsys, "zhoushi_demo", "--town", "周市镇", "--dir", str(folder))
    assert code == 0, err
    plugin, test = folder / "zhoushi_demo.py", folder / "tests" / "test_zhoushi_demo.py"
    assert plugin.is_file() and test.is_file()
    # one example of each hook, written against core's public names only
    tree = ast.parse(plugin.read_text(encoding="utf-8"))
    assert {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} >= HOOKS
    assert {n.module for n in tree.body if isinstance(n, ast.ImportFrom)} <= {"core", "decimal"}
    # the printed config lines load the folder and bind the plugin to the town
    config = "\n".join(line for line in out.splitlines()
                       if line.startswith(("plugin_dirs", "[plugins", "towns")))
    data = tomllib.loads(config)
    assert data["plugin_dirs"] == [str(folder.resolve())]
    assert data["plugins"]["zhoushi_demo"] == {"towns": ["周市镇"]}
    # the generated test passes as written, with the kit as a pytest plugin and no conftest
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DANGJIAN_", "PYTEST_"))}
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "core.testing", "-p", "no:cacheprovider",
                        "--rootdir", str(folder), str(folder / "tests")],
                       cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "6 passed" in r.stdout


def test_refuses_to_overwrite(dangjian_env, tmp_path, capsys):
    assert _new(capsys, "mine", "--town", "巴城镇", "--dir", str(tmp_path))[0] == 0
    (tmp_path / "mine.py").write_text("# edited by hand\n", encoding="utf-8")
    code, out, err = _new(capsys, "mine", "--town", "巴城镇", "--dir", str(tmp_path))
    assert code == 2 and "mine.py" in err and out == ""
    assert (tmp_path / "mine.py").read_text(encoding="utf-8") == "# edited by hand\n"
    # the test file alone existing is refused too, and nothing is written
    (tmp_path / "tests" / "test_other.py").write_text("x = 1\n", encoding="utf-8")
    code, _, err = _new(capsys, "other", "--town", "巴城镇", "--dir", str(tmp_path))
    assert code == 2 and "test_other.py" in err and not (tmp_path / "other.py").exists()


@pytest.mark.parametrize("name", ["1town", "my-town", "class", "_hidden", "周 市"])
def test_name_must_be_an_identifier(dangjian_env, tmp_path, capsys, name):
    code, out, err = _new(capsys, name, "--town", "周市镇", "--dir", str(tmp_path))
    assert code == 2 and ("identifier" in err or "标识符" in err)
    assert list(tmp_path.iterdir()) == []


def test_needs_no_database(dangjian_env, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DANGJIAN_DB", f"sqlite:///{tmp_path / 'missing' / 'nowhere.db'}")
    code, _, err = _new(capsys, "offline", "--town", "周市镇", "--dir", str(tmp_path / "p"))
    assert code == 0, err
    assert not (tmp_path / "missing").exists()
