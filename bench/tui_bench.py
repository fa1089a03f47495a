"""Benchmark of the terminal app on the city demo (its targets below).

    python bench/tui_bench.py [--db sqlite:////tmp/dangjian_city.db] [--runs 5]

Prints:
- start-up: time from launching the process to the first paint of the
  dashboard (headless, 80x24), against a bare Textual app measured in the same
  run (target ≤ 1.5×) — for the whole process and for the app's own part
  (from the CLI's hand-over to ``cmd_tui``) — and to the dashboard's data shown;
- member search: time per keystroke over the whole roster (target ≤ 100 ms),
  from the key press until the list shows the new rows (worker, count, first
  block, repaint);
- scrolling: page-down and End over the lazy table;
- peak memory of the process driving the app (target ≤ 300 MB).

Without --db it uses /tmp/dangjian_city.db, or builds one with
``dangjian --db … demo --size city --no-open`` first.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE = r"""
import sys, time
print(f"START {time.time()}", flush=True)
from textual.app import App
from textual.widgets import Footer, Header, Static

class Bare(App):
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()

    def on_mount(self):
        self.call_after_refresh(self.painted)

    def painted(self):
        print(f"PAINT {time.time()}", flush=True)
        self.exit()

Bare().run(headless=True, size=(80, 24))
"""

DANGJIAN = r"""
import sys, time
from core.cli import basic as cli_basic


def cmd_tui(args):
    # what the real cmd_tui does, with the hand-over to the app marked
    from core import access

    access.current()
    print(f"HANDOVER {time.time()}", flush=True)
    from tui import app as tapp

    Base = tapp.DangjianApp

    class Bench(Base):
        def on_mount(self):  # Textual runs the app's own on_mount too (no super() call: it would run twice)
            self.call_after_refresh(self.painted)

        def painted(self):
            print(f"PAINT {time.time()}", flush=True)
            self.set_interval(0.02, self.poll)

        def poll(self):
            if not self.workers:
                print(f"DATA {time.time()}", flush=True)
                self.exit()

    Bench(year=None).run(headless=True, size=(80, 24))
    return 0


cli_basic.cmd_tui = cmd_tui
from core.cli import run  # what the dangjian console script runs
sys.argv = ["dangjian", "--db", sys.argv[1], "tui"]
run()
"""

def launch(code: str, *args) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.time()
    p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=300)
    out = {}
    for line in p.stdout.splitlines():
        if line.startswith(("PAINT ", "DATA ", "START ", "HANDOVER ")):
            k, v = line.split()
            out[k] = float(v) - t0
    if "PAINT" not in out:
        raise RuntimeError(f"no paint: {p.stdout[-500:]} {p.stderr[-2000:]}")
    return out


def startup(url: str, runs: int) -> dict:
    bare, dj, data, bare_own, dj_own = [], [], [], [], []
    launch(BARE)  # warm the file cache
    launch(DANGJIAN, url)
    for _ in range(runs):
        b = launch(BARE)
        bare.append(b["PAINT"])
        bare_own.append(b["PAINT"] - b["START"])
        r = launch(DANGJIAN, url)
        dj.append(r["PAINT"])
        dj_own.append(r["PAINT"] - r["HANDOVER"])
        data.append(r.get("DATA", float("nan")))
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    m = statistics.median
    return {"bare": m(bare), "dangjian": m(dj), "data": m(data), "bare_own": m(bare_own), "dangjian_own": m(dj_own),
            "child_peak_mb": child}


async def drive(url: str) -> dict:
    os.environ["DANGJIAN_DB"] = url
    sys.path.insert(0, str(ROOT))
    from core import config, db, plugins

    config.load(None)
    plugins.load()
    db.connect(url)
    from tui.app import DangjianApp

    app = DangjianApp()
    out: dict = {}

    async def settle(pilot):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        t = time.perf_counter()
        await pilot.press("f3")
        await settle(pilot)
        out["open_members_ms"] = (time.perf_counter() - t) * 1000
        table = app.screen.query_one("#members-table")
        out["roster"] = table.total
        per_key = []
        db_ms = []
        totals = {}
        screen = app.screen
        shown = asyncio.Event()
        original = screen._show

        def hooked(result):
            original(result)
            app.call_after_refresh(shown.set)  # the new rows are on screen

        screen._show = hooked

        async def key(k):
            shown.clear()
            t = time.perf_counter()
            app.simulate_key(k)
            await asyncio.wait_for(shown.wait(), 30)
            per_key.append((time.perf_counter() - t) * 1000)
            db_ms.append(screen.search_ms or 0.0)
            await asyncio.sleep(0.05)  # a typist's pause: let the worker pool settle

        for query in ("张伟", "zwm", "wf", "320583198", "李"):
            for ch in query:
                await key(ch)
            totals[query] = table.total
            for _ in query:
                await key("backspace")
        out["keystrokes"] = len(per_key)
        out["per_key"] = [round(x) for x in per_key]
        out["db_mean_ms"] = statistics.mean(db_ms)
        out["db_max_ms"] = max(db_ms)
        out["key_mean_ms"] = statistics.mean(per_key)
        out["key_p95_ms"] = sorted(per_key)[int(0.95 * (len(per_key) - 1))]
        out["key_max_ms"] = max(per_key)
        out["matches"] = totals
        table.focus()
        t = time.perf_counter()
        for _ in range(50):
            app.simulate_key("pagedown")
            await asyncio.sleep(0)
        await pilot.pause()
        out["pagedown_ms"] = (time.perf_counter() - t) * 1000 / 50
        t = time.perf_counter()
        app.simulate_key("end")
        await pilot.pause()
        out["end_ms"] = (time.perf_counter() - t) * 1000
        out["end_row_ok"] = table.cursor == table.total - 1 and table.cursor_row is not None
        out["blocks_cached"] = len(table._blocks)
        last_member = table.cursor_row[1]
        t = time.perf_counter()
        await pilot.press("f4")
        await settle(pilot)
        out["org_tree_ms"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        app.open_member(last_member)
        await settle(pilot)
        out["member_page_ms"] = (time.perf_counter() - t) * 1000
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="database URL (default: the city demo in /tmp/dangjian_city.db)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip-startup", action="store_true", help="only the in-process measurements")
    args = ap.parse_args()
    url = args.db
    if not url:
        path = Path("/tmp/dangjian_city.db")
        if not path.exists():
            print("building the city demo …", file=sys.stderr)
            subprocess.run(["dangjian", "--db", f"sqlite:///{path}", "demo", "--size", "city", "--no-open"],
                           check=True)
        url = f"sqlite:///{path}"
    s = startup(url, args.runs) if not args.skip_startup else None
    d = asyncio.run(drive(url))
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other processes skew timings)")
    print(f"database: {url}  roster: {d['roster']:,} members on the roster")
    if s is not None:
        _print_startup(s)
    _print_drive(d, s)
    return 0


def _print_startup(s: dict) -> None:
    ratio = s["dangjian"] / s["bare"]
    print(f"start-up to first paint: bare Textual {s['bare']:.2f} s, dangjian {s['dangjian']:.2f} s "
          f"= {ratio:.2f}x (target <= 1.5x) {'OK' if ratio <= 1.5 else 'OVER'}")
    own = s["dangjian_own"] / s["bare_own"]
    print(f"  the app's own part (from the CLI's hand-over: textual import, screens, first paint): "
          f"bare {s['bare_own']:.2f} s, dangjian {s['dangjian_own']:.2f} s = {own:.2f}x "
          f"{'OK' if own <= 1.5 else 'OVER'}; before it the CLI loads config, plugins and the database "
          f"and checks the user ({s['dangjian'] - s['dangjian_own']:.2f} s incl. interpreter)")
    print(f"start-up to dashboard data shown: {s['data']:.2f} s")


def _print_drive(d: dict, s: dict | None) -> None:
    print(f"member search: {d['keystrokes']} keystrokes, mean {d['key_mean_ms']:.1f} ms, p95 {d['key_p95_ms']:.1f} ms, "
          f"max {d['key_max_ms']:.1f} ms (target <= 100 ms) {'OK' if d['key_max_ms'] <= 100 else 'OVER'}")
    print(f"  of which SQL (count + first 200 rows, in the worker): mean {d['db_mean_ms']:.1f} ms, "
          f"max {d['db_max_ms']:.1f} ms")
    print(f"  matches: " + ", ".join(f"{k}: {v:,}" for k, v in d["matches"].items()))
    print(f"  each keystroke (ms): {d['per_key']}")
    print(f"open members screen: {d['open_members_ms']:.0f} ms; page-down {d['pagedown_ms']:.1f} ms/key; "
          f"End (last of {d['roster']:,}) {d['end_ms']:.0f} ms, ok={d['end_row_ok']}; blocks cached {d['blocks_cached']}")
    print(f"organization tree: {d['org_tree_ms']:.0f} ms; member page: {d['member_page_ms']:.0f} ms")
    child = s["child_peak_mb"] if s else 0
    peak = max(d["peak_mb"], child)
    print(f"peak memory: driver {d['peak_mb']:.0f} MB, app processes {child:.0f} MB "
          f"(target <= 300 MB) {'OK' if peak <= 300 else 'OVER'}")


if __name__ == "__main__":
    raise SystemExit(main())
