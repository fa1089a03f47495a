"""The real ``dangjian`` program in a terminal (tmux) at 80x24, TERM=xterm-256color,
LANG=C.UTF-8: type keys and read Chinese back from the screen."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

TMUX = shutil.which("tmux")


def _dangjian() -> list[str]:
    exe = shutil.which("dangjian")
    if exe:
        return [exe]
    return [sys.executable, "-m", "core.cli"]


class Tmux:
    def __init__(self):
        self.socket = f"dj-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args, check=True):
        return subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=check,
                              timeout=20)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t", check=False).stdout

    def wait_for(self, text: str, timeout: float = 20) -> str:
        end = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < end:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not on screen after {timeout}s:\n{shown}")

    def keys(self, *keys):
        self.run("send-keys", "-t", "t", *keys)

    def alive(self) -> bool:
        return self.run("has-session", "-t", "t", check=False).returncode == 0

    def kill(self):
        self.run("kill-server", check=False)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_real_program_in_a_terminal(tui_db, dangjian_db, tmp_path):
    from core import db

    db.close()  # the app opens the file itself
    env = {
        "TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "DANGJIAN_TODAY": "2026-06-15",
        "HOME": os.environ.get("HOME", str(tmp_path)), "PATH": os.environ.get("PATH", ""),
        "XDG_DATA_HOME": str(tmp_path / "xdg"), "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "ESCDELAY": "25",
    }
    cmd = " ".join(["env", "-i", *[f"{k}={shlex.quote(v)}" for k, v in env.items()],
                    *map(shlex.quote, _dangjian()), "--db", shlex.quote(dangjian_db)])
    t = Tmux()
    try:
        t.run("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", cmd)
        t.run("set-option", "-t", "t", "remain-on-exit", "on", check=False)
        shown = t.wait_for("党员 49 名")
        assert "工作台" in shown and "单用户模式" in shown
        # idle costs nothing: no blinking cursor, no timers (DESIGN: 1.4 % CPU per blinking session)
        pid = int(t.run("display-message", "-p", "-t", "t", "#{pane_pid}").stdout.strip())
        time.sleep(8)  # let the start-up notices time out
        before = _cpu_seconds(pid)
        time.sleep(3)
        assert _cpu_seconds(pid) - before < 0.06  # under 2 % of one core while idle
        t.keys("F3")
        t.wait_for("共 49 名")
        t.keys("z", "w", "m")
        shown = t.wait_for("共 1 名")
        assert "张伟明" in shown and "李娜" not in shown
        # Chinese columns line up: the ID column starts at the same cell on every row
        t.keys("BSpace", "BSpace", "BSpace")
        shown = t.wait_for("共 49 名")
        from rich.cells import cell_len

        starts = {cell_len(line[:line.index("320583")]) for line in shown.splitlines() if "320583" in line}
        assert len(starts) == 1, shown
        t.keys("F1")
        shown = t.wait_for("app.help")
        assert "帮助" in shown
        t.keys("Escape")
        t.wait_for("共 49 名")
        t.keys("Escape")
        t.wait_for("党员 49 名")
        t.keys("C-q")
        end = time.monotonic() + 15
        while time.monotonic() < end:
            dead = t.run("display-message", "-p", "-t", "t", "#{pane_dead}", check=False).stdout.strip()
            if dead == "1" or not t.alive():
                break
            time.sleep(0.2)
        else:
            raise AssertionError("ctrl+q did not quit:\n" + t.screen())
    finally:
        t.kill()


def test_driver_is_ours_whatever_the_environment(monkeypatch):
    """TEXTUAL_DRIVER would import any module a user names: the app never reads it."""
    from textual import constants

    from tui.app import DangjianApp
    from tui.driver import QuietDriver

    monkeypatch.setattr(constants, "DRIVER", "os:path")
    assert DangjianApp.get_driver_class(object.__new__(DangjianApp)) is QuietDriver
