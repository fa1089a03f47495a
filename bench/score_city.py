"""Benchmark of ``dangjian score NAME`` on a whole city, one child process per run.

For each built-in scorer (member-points, community-score, worker-appraisal,
in-service-performance): ``dangjian score NAME --format json --output FILE``
over the whole city, best of ``--runs`` — wall time, CPU time (user + system)
and peak memory (max RSS) of the child.  The database and "today" are those of
``bench/check_city.py`` (the city demo built with DANGJIAN_TODAY=2026-11-28).

community-score reads the last stored check run; when the database holds none,
run ``dangjian check`` on it once first (the script says so and stops).

    python bench/score_city.py [--db PATH] [--today 2026-11-28] [--runs 3] [--scorer NAME ...]

The child runs the code of the checkout the script lies in (its folder is the
child's working directory).  To compare two versions in one session, copy the
script into the other checkout and run each alternately
(``cd <checkout> && PYTHONPATH=<checkout> python bench/score_city.py``); compare
best-of figures: the machine's load moves single runs by 10-20 %.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCORERS = ("member-points", "community-score", "worker-appraisal", "in-service-performance")


def run_once(url: str, today: str, name: str, out: Path) -> dict:
    """One child process: its own wall time, CPU and peak memory (``os.wait4``)."""
    env = dict(os.environ, DANGJIAN_TODAY=today)  # the code: this checkout (python -m runs from cwd)
    cmd = [sys.executable, "-m", "core.cli", "--db", url, "score", name, "--format", "json", "--output", str(out)]
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True, cwd=str(ROOT))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().strip().splitlines()[-1:]
    rows = len(json.loads(out.read_text(encoding="utf-8"))) if out.exists() and proc.returncode in (0, 1) else 0
    return {"seconds": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "exit": proc.returncode, "rows": rows, "stderr": stderr}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/dangjian_city.db")
    ap.add_argument("--today", default="2026-11-28")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scorer", action="append", choices=SCORERS)
    args = ap.parse_args(argv)
    path = Path(args.db)
    if not path.exists():
        print(f"no database at {path}: build the city demo first (see bench/check_city.py)", file=sys.stderr)
        return 2
    url = f"sqlite:///{path}"
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.scorer or SCORERS:
            runs = [run_once(url, args.today, name, Path(tmp) / f"{name}.json") for _ in range(max(1, args.runs))]
            bad = [r for r in runs if r["exit"] not in (0, 1)]
            if bad:
                print(f"score {name}: exit {bad[0]['exit']}: {' '.join(bad[0]['stderr'])}")
                continue
            best = min(runs, key=lambda r: r["seconds"])
            print(f"score {name}: best {best['seconds']:.2f} s wall, {min(r['cpu'] for r in runs):.2f} s CPU, "
                  f"peak {max(r['peak_mb'] for r in runs):.0f} MB, {best['rows']} rows "
                  "(runs: " + ", ".join(f"{r['seconds']:.2f}" for r in runs) + " s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
