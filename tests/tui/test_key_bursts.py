"""Keys that arrive in one read from the terminal reach an ``Input`` in the order typed.

The issue: type ``zw``, then Backspace Backspace ``zfy`` in one packet (fast typing over
SSH, an input method committing after Backspace) and the box showed ``zwz``.  The cause is
Textual's, not the terminal parser's (it yields the five keys in order): an ``Input``
inserts printable keys in its own queue but its *bound* keys (backspace, arrows, ctrl+u…)
bubble up to the App before their action runs, so characters that follow in the same
burst are inserted first — Textualize/textual#6605 (fix proposed in PR #6631, not merged).
Textual 8.2.8, the pin, is the newest release, so no upgrade fixes it: the app keeps 8.2.8
and runs an Input's own bindings inline (``tui/widgets/burst.py``, installed by
``DangjianApp``).

Two terminals, each written with a single ``write`` per burst:
- a bare pseudo-terminal (``os.openpty``) driving a one-``Input`` Textual app, which
  reports its value on every change — the workaround itself, and (xfail) the same app
  without it, which shows whether the Textual in use still has the fault;
- tmux at 80x24 driving the real ``dangjian`` program, members screen search box
  (``send-keys -H``, one write) — the workaround as the app installs it.
"""
from __future__ import annotations

import ast
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]
TMUX = shutil.which("tmux")
HAS_PTY = hasattr(os, "openpty") and sys.platform != "win32"

BS = b"\x7f"          # what a terminal sends for Backspace
LEFT = b"\x1b[D"
END = b"\x1b[F"
CTRL_U = b"\x15"      # Input: delete everything left of the cursor

# ------------------------------------------------------------------ bare pseudo-terminal

BARE_APP = r"""
import os, sys
from textual.app import App
from textual.widgets import Input

if os.environ.get("BURST_FIX") == "1":
    from tui.widgets import burst
    burst.install()

out = open(sys.argv[1], "w", buffering=1, encoding="utf-8")


class Bare(App):
    def compose(self):
        yield Input(id="box")

    def on_mount(self):
        self.query_one(Input).focus()
        self.call_after_refresh(lambda: out.write("READY\n"))

    def on_input_changed(self, event):
        out.write(f"VALUE {event.value!r}\n")


Bare().run()
"""


class BarePty:
    """The bare app on the slave side of a pty; ``write`` sends bytes in one ``os.write``."""

    def __init__(self, tmp_path: Path, fix: bool):
        import fcntl
        import struct
        import termios

        self.report = tmp_path / f"values-{uuid.uuid4().hex[:6]}.txt"
        self.report.write_text("")
        script = tmp_path / "bare_input_app.py"
        script.write_text(BARE_APP)
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "PYTHONPATH": str(ROOT), "BURST_FIX": "1" if fix else "0", "ESCDELAY": "25"}
        env.pop("TEXTUAL", None)
        self.proc = subprocess.Popen([sys.executable, str(script), str(self.report)], stdin=slave,
                                     stdout=slave, stderr=slave, env=env, start_new_session=True,
                                     close_fds=True)
        os.close(slave)
        self._stop = False
        # drain what the app paints, or it blocks once the pty buffer is full
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        while not self._stop:
            try:
                if not os.read(self.master, 65536):
                    return
            except OSError:
                return

    def lines(self) -> list[str]:
        return self.report.read_text(encoding="utf-8").splitlines()

    def value(self) -> str | None:
        values = [line[6:] for line in self.lines() if line.startswith("VALUE ")]
        return ast.literal_eval(values[-1]) if values else None  # the repr the app wrote

    def wait_ready(self, timeout: float = 30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if "READY" in self.lines():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"the bare app exited with {self.proc.returncode}")
            time.sleep(0.05)
        raise AssertionError("the bare app did not start")

    def write(self, data: bytes):
        assert os.write(self.master, data) == len(data)

    def settle(self, expected: str, timeout: float = 10) -> str | None:
        """Wait until the value is ``expected`` (or ``timeout``), then a little more for late keys."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.value() != expected:
            time.sleep(0.05)
        time.sleep(0.4)
        return self.value()

    def close(self):
        try:
            self.write(b"\x11")  # ctrl+q
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            self._stop = True
            os.close(self.master)


# (keys typed one by one first, one burst, the box afterwards)
BURSTS = [
    pytest.param("zw", BS + BS + b"zfy", "zfy", id="issue: zw, BS BS zfy -> zfy"),
    pytest.param("abc", BS + b"d" + BS + BS + b"xy", "axy", id="backspaces between characters"),
    pytest.param("zfy", CTRL_U + b"zwm", "zwm", id="ctrl+u then characters"),
    pytest.param("zwm", LEFT + LEFT + b"a" + END + BS + b"q", "zawq", id="arrows, end, BS among characters"),
    pytest.param("", "张伟".encode() + BS + "明".encode(), "张明", id="Chinese commit after BS"),
]


def _run_bare(tmp_path, fix: bool, typed: str, burst: bytes, expected: str) -> str | None:
    app = BarePty(tmp_path, fix=fix)
    try:
        app.wait_ready()
        for ch in typed:
            app.write(ch.encode())
            wanted = app.value() or ""
            app.settle(wanted + ch, timeout=10)
        assert (app.value() or "") == typed, app.lines()
        app.write(burst)
        return app.settle(expected)
    finally:
        app.close()


@pytest.mark.skipif(not HAS_PTY, reason="needs a POSIX pseudo-terminal (os.openpty)")
@pytest.mark.parametrize("typed, burst, expected", BURSTS)
def test_burst_in_a_bare_pty(tmp_path, typed, burst, expected):
    assert _run_bare(tmp_path, True, typed, burst, expected) == expected


@pytest.mark.skipif(not HAS_PTY, reason="needs a POSIX pseudo-terminal (os.openpty)")
@pytest.mark.xfail(reason="textual#6605 in the pinned Textual: without tui/widgets/burst.py a bound key "
                          "in a burst runs after the characters that follow it (zw + BS BS zfy -> zwz). "
                          "When this passes, Textual has fixed it and the workaround can go.")
def test_textual_without_the_workaround(tmp_path):
    assert _run_bare(tmp_path, False, "zw", BS + BS + b"zfy", "zfy") == "zfy"


# ------------------------------------------------------------------ the real program in tmux


def _dangjian() -> list[str]:
    exe = shutil.which("dangjian")
    return [exe] if exe else [sys.executable, "-m", "core.cli"]


class Tmux:
    def __init__(self):
        self.socket = f"dj-burst-{uuid.uuid4().hex[:8]}"

    def run(self, *args, check=True):
        return subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, check=check,
                              timeout=20)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "t", check=False).stdout

    def wait_for(self, predicate, what: str, timeout: float = 20) -> str:
        end = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < end:
            shown = self.screen()
            if predicate(shown):
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{what} not on screen after {timeout}s:\n{shown}")

    def keys(self, *keys):
        self.run("send-keys", "-t", "t", *keys)

    def burst(self, data: bytes):
        """``data`` into the pane in one write (tmux ``send-keys -H``)."""
        self.run("send-keys", "-t", "t", "-H", *[f"{b:02x}" for b in data])

    def kill(self):
        self.run("kill-server", check=False)


def _search_box(screen: str) -> str:
    """The text in the members search box: the line above the ``共 N 名`` status line, first field."""
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        if "共 " in line and " 名" in line and i > 0:
            return lines[i - 1].split("  ")[0].strip()
    return ""


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_bursts_in_the_members_search(tui_db, dangjian_db, tmp_path):
    from core import db

    db.close()  # the app opens the file itself
    env = {
        "TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "DANGJIAN_TODAY": "2026-06-15",
        "HOME": os.environ.get("HOME", str(tmp_path)), "PATH": os.environ.get("PATH", ""),
        "XDG_DATA_HOME": str(tmp_path / "xdg"), "PYTHONPATH": str(ROOT), "ESCDELAY": "25",
    }
    cmd = " ".join(["env", "-i", *[f"{k}={shlex.quote(v)}" for k, v in env.items()],
                    *map(shlex.quote, _dangjian()), "--db", shlex.quote(dangjian_db)])
    t = Tmux()
    try:
        t.run("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", cmd)
        t.wait_for(lambda s: "党员 49 名" in s, "the dashboard")
        t.keys("F3")
        t.wait_for(lambda s: "共 49 名" in s, "the members list")
        # the issue, exactly: zw typed, then Backspace Backspace zfy in one packet
        for key in "zw":
            t.keys(key)
            t.wait_for(lambda s, k=key: _search_box(s).endswith(k), f"{key!r} in the search box")
        t.wait_for(lambda s: "共 2 名" in s, "two matches for zw")
        t.burst(BS + BS + b"zfy")
        shown = t.wait_for(lambda s: _search_box(s) == "zfy" and "没有符合条件的党员" in s, "zfy, no match")
        time.sleep(0.5)
        assert _search_box(t.screen()) == "zfy", shown
        # clear the line and type a name's initials in one packet: the search runs on the result
        t.burst(CTRL_U + b"zwm")
        shown = t.wait_for(lambda s: _search_box(s) == "zwm" and "共 1 名" in s, "zwm, one match")
        assert "张伟明" in shown and "李娜" not in shown
        # arrows, End and Backspace among characters
        t.burst(LEFT + LEFT + BS + b"w" + END + BS + BS)
        shown = t.wait_for(lambda s: _search_box(s) == "w" and "共 " in s, "w")
        t.burst(BS + b"zw")
        t.wait_for(lambda s: _search_box(s) == "zw" and "共 2 名" in s and "张伟明" in s, "zw, two matches")
    finally:
        t.kill()
