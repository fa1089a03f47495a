"""A plain (non-editable) install ships everything the program reads at run time."""
import os
import site
import subprocess
import sys
import sysconfig
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


UNSHIPPED = r"\bSPEC\b|\bDESIGN\b|\.\./shared|\b[Ii]ssue #?\d+|§\s*\d"


def test_nothing_shipped_names_a_file_users_do_not_have(wheel):
    """The planning documents are not shipped: no text in the wheel, the README, the security
    notes, the docs or the benches may send a reader to them — they say what they say."""
    import re

    rx = re.compile(UNSHIPPED)
    hits = []
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith((".py", ".toml", ".tcss", ".md", ".txt", ".json")) and ".dist-info/" not in name:
                text = z.read(name).decode("utf-8", "replace")
                hits += [f"{name}: {m.group(0)}" for m in rx.finditer(text)]
    for path in [ROOT / "README.md", ROOT / "SECURITY.md", *(ROOT / "docs").glob("*.md"), *(ROOT / "bench").glob("*.py")]:
        hits += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in rx.finditer(path.read_text(encoding="utf-8"))]
    assert hits == []


def _outer_site_dirs():
    """The directories the running interpreter installs packages into (its site-packages, and the user
    site when it is on): where the runtime dependencies are, in a venv or in the system Python alike."""
    dirs = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    out = []
    for d in dirs:
        if os.path.isdir(d) and d not in out:
            out.append(d)
    return out


def test_installed_wheel_runs_from_any_folder(wheel, tmp_path):
    # A fresh venv with the wheel alone (--no-deps: no network), then a .pth that appends the
    # outer environment's site-packages for the dependencies.  Not --system-site-packages: from inside
    # a venv that is the base interpreter's, which need not hold them.  The .pth lists plain paths, so
    # the .pth files in those folders (an editable install of this checkout among them) are not run,
    # and being appended after the venv's own site-packages, the installed wheel's `core` wins.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)
    inner_site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                check=True, capture_output=True, text=True, timeout=60).stdout.strip()
    (Path(inner_site) / "_outer_site_packages.pth").write_text("".join(d + "\n" for d in _outer_site_dirs()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_") and k != "PYTHONPATH"}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / "data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = "import core, core.config; print(core.__file__); print(core.config.default_path())"
    r = subprocess.run([str(py), "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    inner = Path(inner_site).resolve()
    for line in r.stdout.split("\n")[:2]:  # core itself and the default config both come from the wheel
        assert Path(line).resolve().is_relative_to(inner), f"{line} is not under the venv's {inner}"
    r = subprocess.run([str(venv / "bin" / "dangjian"), "init"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "home" / "data" / "dangjian" / "dangjian.db").exists()
