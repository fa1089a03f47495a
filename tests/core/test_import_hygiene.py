"""Headless stays headless: core and the CLI never import textual (DESIGN.md)."""
from __future__ import annotations

import subprocess
import sys


def test_core_does_not_import_textual():
    code = ("import sys\n"
            "import core, core.cli, core.rules, core.access, core.config, core.plugins\n"
            "import core.read.dashboard, core.read.dues, core.read.tables  # every module of core.read\n"
            "import importlib\n"
            "for name in ('core.importing', 'core.reports', 'core.scoring', 'core.funding', 'core.demo',\n"
            "             'core.cli.basic', 'core.cli.check', 'core.cli.report', 'core.cli.score',\n"
            "             'core.cli.importing', 'core.cli.users', 'core.cli.audit', 'core.cli.backup',\n"
            "             'core.records', 'core.output'):\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except ModuleNotFoundError as exc:\n"
            "        if exc.name != name:\n"
            "            raise\n"
            "from core import config, plugins\n"
            "config.load(None); plugins.load()\n"
            "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(','.join(bad))\n"
            "sys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"textual imported by core: {r.stdout} {r.stderr[-2000:]}"


def test_cli_check_help_does_not_import_textual():
    code = ("import sys\nfrom core.cli import build_parser\nbuild_parser()\n"
            "sys.exit(1 if 'textual' in sys.modules else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_a_killed_imports_copy_is_removed_a_day_later(tmp_path, monkeypatch):
    """The private copy of a killed import stays in the temp folder (nothing can clean up after
    SIGKILL); the next import removes this account's copies older than a day, and only those."""
    import os
    import tempfile
    import time

    from core.importing import files

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    old = tmp_path / "dangjian-import-old.csv"
    fresh = tmp_path / "dangjian-import-fresh.csv"
    other = tmp_path / "someone-else.csv"
    for p in (old, fresh, other):
        p.write_text("x")
    day_ago = time.time() - files.STALE_AFTER - 60
    os.utime(old, (day_ago, day_ago))
    os.utime(other, (day_ago, day_ago))
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n")
    copy = files.spool_file(src, "in.csv", 1 << 20)
    try:
        assert not old.exists() and fresh.exists() and other.exists()
    finally:
        os.unlink(copy)
