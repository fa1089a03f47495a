"""The members list timed in a real terminal: the app runs in a pseudo-terminal (80x24) as a
user runs it (``dangjian --db URL tui``), and this script types into it and reads what it
draws.

    python bench/pty_bench.py --db URL [--runs 2] [--json]

- first paint: from the key press that opens the members list (F3) to the first frame that
  shows its rows (the bytes of the list's count line, ``共 N 名``, drawn with them);
- per keystroke: a name, pinyin-initials and ID-prefix search typed a key at a time and
  taken back with backspace: from each key to the frame that shows its result (the count of
  that search, computed beforehand by the same query the list runs).  A key whose search
  has the count of the one before cannot be told apart on screen and is not timed;
- the peak memory (max RSS) of the app's process.

The terminal's side is this script reading the pty as fast as the app writes; a terminal
emulator's own drawing comes on top.  The database and "today" are those of
``bench/check_city.py`` (DANGJIAN_TODAY=2026-11-28 unless set).
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import statistics
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ("张伟", "zwm", "wf", "320583", "李")
F3, BACKSPACE = b"\x1bOR", b"\x7f"


def expected_counts(url: str) -> dict[str, int]:
    """The list's count for every prefix of every query (and for no search), by the list's own
    query in the app's view (this user's)."""
    sys.path.insert(0, str(ROOT))
    from core import config, db, plugins
    from core.read import members
    from core.view import View

    config.load(None)
    plugins.load()
    db.connect(url)
    view = View.of()
    texts = {""} | {q[:i] for q in QUERIES for i in range(1, len(q) + 1)}
    return {t: members.member_count(members.MemberFilter(view, text=t)) for t in texts}


class Terminal:
    """The app in a pty of 80x24; ``wait_for`` reads until given bytes appear in what it drew
    after the last key sent."""

    def __init__(self, url: str):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="80", LINES="24",
                   DANGJIAN_TODAY=os.environ.get("DANGJIAN_TODAY", "2026-11-28"), PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-m", "core.cli", "--db", url, "--lang", "zh", "tui"],
                                     stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.fd = master
        self.seen = b""

    def _read(self, timeout: float) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return b""
        try:
            return os.read(self.fd, 1 << 16)
        except OSError:  # the app ended
            return b""

    def settle(self, quiet: float = 1.5, limit: float = 120.0) -> None:
        """Read until the app has drawn nothing for ``quiet`` seconds (start-up, data shown)."""
        end = time.monotonic() + limit
        last = time.monotonic()
        while time.monotonic() < end:
            chunk = self._read(0.05)
            if chunk:
                last = time.monotonic()
            elif time.monotonic() - last > quiet:
                return
            if self.proc.poll() is not None:
                raise RuntimeError("the app ended: " + self.seen[-2000:].decode("utf-8", "replace"))
            self.seen = (self.seen + chunk)[-200_000:]
        raise RuntimeError("the app never went quiet")

    def key(self, data: bytes, marker: bytes, limit: float = 30.0) -> float:
        """Send ``data``; milliseconds until ``marker`` is drawn."""
        got = b""
        t0 = time.perf_counter()
        os.write(self.fd, data)
        while marker not in got:
            if time.perf_counter() - t0 > limit:
                raise RuntimeError(f"{marker.decode()!r} not drawn within {limit} s: "
                                   + got[-1500:].decode("utf-8", "replace"))
            got += self._read(0.5)
        return (time.perf_counter() - t0) * 1000

    def close(self) -> int:
        """Quit the app; its peak RSS in MB."""
        try:
            os.write(self.fd, b"\x11")  # ctrl+q
        except OSError:
            pass
        for _ in range(100):
            pid, _status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            self._read(0.05)
        else:
            self.proc.kill()
            _pid, _status, usage = os.wait4(self.proc.pid, 0)
        os.close(self.fd)
        return usage.ru_maxrss // 1024


def marker(n: int) -> bytes:
    from core.numbers import format_count

    return f"共 {format_count(n)} 名".encode()


def run_once(url: str, counts: dict[str, int]) -> dict:
    term = Terminal(url)
    try:
        term.settle()
        open_ms = term.key(F3, marker(counts[""]))
        term.settle(quiet=0.5)
        per_key: list[float] = []
        for query in QUERIES:
            typed = ""
            steps = [(ch.encode(), query[:i + 1]) for i, ch in enumerate(query)]
            steps += [(BACKSPACE, query[:len(query) - i - 1]) for i in range(len(query))]
            for data, text in steps:
                if counts[text] == counts[typed]:  # the same count: no frame to tell it by
                    os.write(term.fd, data)
                    term.settle(quiet=0.3)
                else:
                    per_key.append(term.key(data, marker(counts[text])))
                    time.sleep(0.05)  # a typist's pause
                typed = text
    finally:
        mb = term.close()
    return {"open_ms": open_ms, "per_key": per_key, "key_ms": statistics.mean(per_key),
            "key_p95_ms": sorted(per_key)[int(0.95 * (len(per_key) - 1))], "key_max_ms": max(per_key), "app_mb": mb}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="database URL")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="one JSON line of the best figures")
    args = ap.parse_args()
    counts = expected_counts(args.db)
    runs = [run_once(args.db, counts) for _ in range(args.runs)]
    best = {"open_ms": min(r["open_ms"] for r in runs), "key_ms": min(r["key_ms"] for r in runs),
            "key_p95_ms": min(r["key_p95_ms"] for r in runs), "key_max_ms": min(r["key_max_ms"] for r in runs),
            "keys": len(runs[0]["per_key"]), "app_mb": max(r["app_mb"] for r in runs)}
    if args.json:
        print(json.dumps(best))
        return 0
    print(f"roster {counts['']:,}; {best['keys']} keystrokes timed of {sum(2 * len(q) for q in QUERIES)}")
    print(f"members list, first paint: {best['open_ms']:.0f} ms (best of {args.runs})")
    print(f"per keystroke: mean {best['key_ms']:.1f} ms, p95 {best['key_p95_ms']:.0f} ms, "
          f"max {best['key_max_ms']:.0f} ms")
    for r in runs:
        print("  each (ms): " + ", ".join(f"{x:.0f}" for x in r["per_key"]))
    print(f"app's peak memory: {best['app_mb']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
