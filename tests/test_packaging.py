"""A plain (non-editable) install ships everything the program reads at run time."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        str(ROOT), "-w", str(out)], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        pytest.fail(f"building the wheel failed: {r.stderr[-2000:]}")
    return next(out.glob("dangjian-*.whl"))


def test_wheel_has_config_and_every_package_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "core/_config/default.toml" in names
    for pkg in ("core", "tui", "plugins"):
        for f in (ROOT / pkg).rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts and not f.name.endswith(".pyc"):
                rel = f.relative_to(ROOT).as_posix()
                assert rel in names, f"{rel} is not in the wheel"


def test_installed_wheel_runs_from_any_folder(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
                   check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / "data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = "import core.config, sys; p = core.config.default_path(); print(p); sys.exit(0 if 'site-packages' in str(p) else 1)"
    r = subprocess.run([str(py), "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([str(venv / "bin" / "dangjian"), "init"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "home" / "data" / "dangjian" / "dangjian.db").exists()
