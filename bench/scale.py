"""Scale benchmark: SQLite and PostgreSQL side by side on the same generated data.

    python bench/scale.py [--size city|province] [--scale F] [--sqlite PATH] [--pg URL] [--import-pg URL] [--reuse]
                           [--runs N] [--only sqlite|postgresql] [--no-plans] [--no-import] [--results FILE] [--growth]

For each database it builds the demo (``dangjian demo --size SIZE --scale F``,
seed 20111, DANGJIAN_TODAY=2026-11-28, as ``bench/check_city.py``) unless
``--reuse`` is given and the database already holds members, then measures,
each in a fresh child process running this checkout's code:

- the whole ``check`` (``--format json --output FILE``): wall time and the peak
  RSS of the largest process (the check, or its forked rule worker);
- ``score member-points`` (``--format json --output FILE``): wall time;
- the members list in a real terminal (the app in a pty of 80x24,
  ``bench/pty_bench.py``): from the key that opens it to the frame that shows
  its rows, and the mean time per keystroke of a name / initials / ID-prefix
  search, from the key to the frame that shows its result;
- the compliance screen on the run the check above stored: from opening it
  to its figures shown;
- ``keep_runs`` pruning: the oldest of the whole runs the checks above stored
  deleted as a check's store deletes the runs beyond ``keep_runs`` (committed);
- the members import against its floor (``bench/import_members.py``), on PostgreSQL
  into the scratch database ``--import-pg`` names (the import bench wipes it);
- the five queries of a whole check that take longest (the check run in one
  process, each statement timed with the reading of its rows), with the plan
  the database chose: ``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN (ANALYZE,
  BUFFERS)`` on PostgreSQL.

Each figure is printed with its target; ``--runs`` (default 2) takes the best.
The figures are kept by size in ``--results`` (a JSON file in the temporary
folder by default), and once both sizes have been measured it prints how each
grew from city to province beside how the data grew (members + attendance +
dues); ``--growth`` prints only that, from the figures kept.
PostgreSQL: ``--pg URL`` (or ``DANGJIAN_BENCH_PG``), an empty database the
demo may fill (``--reuse`` keeps what a previous run generated).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-28"
SEED = "20111"

TARGETS = {  # measure: (city SQLite, city PostgreSQL, province PostgreSQL)
    "check_s": (5.0, 5.0, 60.0),
    "check_mb": (400.0, None, 1024.0),
    "score_s": (3.0, 3.0, 30.0),
    "open_ms": (200.0, 200.0, 300.0),
    "key_ms": (50.0, 50.0, 100.0),
    "compliance_ms": (1000.0, 1000.0, 2000.0),
    "import_ratio": (3.0, 3.0, 3.0),
}
LABELS = {
    "check_s": "whole check, s", "check_mb": "whole check, peak MB", "score_s": "score member-points, s",
    "open_ms": "members list first paint, ms", "key_ms": "members search per key, ms",
    "compliance_ms": "compliance screen, ms", "import_ratio": "members import / floor",
}

COMPLIANCE = r"""
import asyncio, sys, time
from core import config, db, plugins
config.load(None); plugins.load(); db.connect(sys.argv[1])
from tui.app import DangjianApp

async def main():
    app = DangjianApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(); await app.workers.wait_for_complete(); await pilot.pause()
        t = time.perf_counter()
        app.open_screen("compliance", reset=True)
        for _ in range(3):
            await pilot.pause(); await app.workers.wait_for_complete()
        await pilot.pause()
        print(f"COMPLIANCE {(time.perf_counter() - t) * 1000:.1f} {type(app.screen).__name__}")

asyncio.run(main())
"""


PLANS = r"""
import os, sys, time
os.environ["DANGJIAN_CHECK_WORKER"] = "0"  # every query in this process
from core import config, db, plugins
config.load(None); plugins.load(); db.connect(sys.argv[1])
from core.rules import run_check

stats = {}  # sql -> [total seconds, calls, slowest seconds, params of the slowest]
perf = time.perf_counter


class Timed:
    "A cursor whose fetches count towards its statement (SQLite runs a query as its rows are read)."

    def __init__(self, cursor, rec):
        self._c, self._r = cursor, rec

    def __getattr__(self, name):
        return getattr(self._c, name)

    def _timed(self, fn, *a):
        t = perf()
        try:
            return fn(*a)
        finally:
            self._r[0] += perf() - t

    def fetchone(self):
        return self._timed(self._c.fetchone)

    def fetchall(self):
        return self._timed(self._c.fetchall)

    def fetchmany(self, *a):
        return self._timed(self._c.fetchmany, *a)

    def __iter__(self):
        return iter(self.fetchall())


real = type(db.database.obj).execute_sql


def execute_sql(self, sql, params=None):
    rec = [0.0]
    t = perf()
    cur = real(self, sql, params)
    rec[0] += perf() - t
    out = Timed(cur, rec)
    calls.append((sql, params, rec))
    return out


calls = []
type(db.database.obj).execute_sql = execute_sql
run_check(store=False)
type(db.database.obj).execute_sql = real
for sql, params, rec in calls:
    s = stats.setdefault(sql, [0.0, 0, 0.0, None])
    s[0] += rec[0]
    s[1] += 1
    if rec[0] >= s[2]:
        s[2], s[3] = rec[0], params
top = sorted(stats.items(), key=lambda kv: -kv[1][0])[:5]
pg = db.is_postgres()
for sql, (total, n, slowest, params) in top:
    print(f"--- {total:.3f} s in {n} call(s), slowest {slowest:.3f} s")
    print("    " + " ".join(sql.split())[:400] + (" …" if len(sql) > 400 else ""))
    explain = ("EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN ") + sql
    try:
        rows = db.database.execute_sql(explain, params).fetchall()
    except Exception as exc:
        print(f"    (no plan: {exc})")
        continue
    for r in rows[:25]:
        line = str(r[0] if pg else r[-1])
        print("    | " + (line if len(line) <= 200 else line[:200] + " …"))  # id lists cut
"""


PRUNE = r"""
import sys, time
from core import config, db, findings
config.load(None); db.connect(sys.argv[1])
from core.models import CheckRun, StoredFinding
whole = (CheckRun.town.is_null() & CheckRun.street.is_null() & CheckRun.community.is_null()
         & CheckRun.rules.is_null())
ids = [r.id for r in CheckRun.select(CheckRun.id).where(whole).order_by(CheckRun.id)]
if len(ids) < 2:
    print("PRUNE none")
    raise SystemExit(0)
n = StoredFinding.select().where(StoredFinding.run == ids[0]).count()
config.get().data.setdefault("check", {})["keep_runs"] = len(ids) - 1  # the oldest run goes
t = time.perf_counter()
with db.write_tx():
    gone = findings.prune_runs(findings.RunScope())
print(f"PRUNE {time.perf_counter() - t:.3f} {gone} {n}")
"""


def env() -> dict:
    return dict(os.environ, DANGJIAN_TODAY=TODAY, PYTHONPATH=str(ROOT))


def child(cmd: list[str]) -> tuple[float, float, int, str]:
    """Run ``cmd`` (cwd: this checkout): wall seconds, peak MB of the largest process, exit code, stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env(), stdout=out, stderr=err, text=True, cwd=str(ROOT))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if code not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd[:6])} … exit {code}: {errors.strip()[-800:]}")
    return wall, usage.ru_maxrss / 1024, code, text


def dangjian(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "core.cli", "--db", url, *args]


def member_count(url: str) -> int:
    code = ("import sys\nfrom core import db\nfrom core.models import Member\n"
            "db.connect(sys.argv[1])\nprint(Member.select().count())")
    try:
        return int(child([sys.executable, "-c", code, url])[3].strip() or 0)
    except (RuntimeError, ValueError):
        return 0


def build(url: str, size: str, scale: float, reuse: bool) -> None:
    have = member_count(url) if reuse else 0
    if have:
        print(f"  reusing {url} ({have:,} members)", flush=True)
        return
    wall, _mb, _code, _out = child(dangjian(url, "demo", "--size", size, "--scale", str(scale), "--seed", SEED,
                                            "--reset", "--yes", "--no-open"))
    print(f"  built the demo in {url} in {wall:.0f} s ({member_count(url):,} members)", flush=True)


def measure(url: str, runs: int, sqlite: bool, plans: bool = True, import_pg: str | None = None,
            rows: int = 100_000) -> dict:
    """The figures of one database; ``import_pg``: measure the members import too (SQLite: any
    value; PostgreSQL: the URL of a scratch database the import bench may wipe) of ``rows`` members."""
    res: dict = {}
    with tempfile.TemporaryDirectory(prefix="dangjian-scale-") as tmp:
        out = Path(tmp) / "out.json"
        checks = [child(dangjian(url, "check", "--format", "json", "--output", str(out))) for _ in range(runs)]
        res["check_s"] = min(c[0] for c in checks)
        res["check_mb"] = max(c[1] for c in checks)
        res["findings"] = len(json.loads(out.read_text(encoding="utf-8")))
        res["score_s"] = min(child(dangjian(url, "score", "member-points", "--format", "json", "--output",
                                            str(out)))[0] for _ in range(runs))
    lists = json.loads(child([sys.executable, "bench/pty_bench.py", "--db", url, "--runs", str(runs), "--json"])[3])
    res["open_ms"], res["key_ms"], res["key_max_ms"] = lists["open_ms"], lists["key_ms"], lists["key_max_ms"]
    comp = []
    for _ in range(runs):
        m = re.search(r"COMPLIANCE ([\d.]+) (\w+)", child([sys.executable, "-c", COMPLIANCE, url])[3])
        if m.group(2) != "ComplianceScreen":
            raise RuntimeError(f"the compliance screen did not open ({m.group(2)})")
        comp.append(float(m.group(1)))
    res["compliance_ms"] = min(comp)
    m = re.search(r"PRUNE ([\d.]+) (\d+) (\d+)", child([sys.executable, "-c", PRUNE, url])[3])
    if m:  # the checks above stored two runs or more: the oldest pruned as keep_runs would (committed)
        res["prune_s"], res["pruned_findings"] = float(m.group(1)), int(m.group(3))
    res["rows"] = int(child([sys.executable, "-c", ROWS, url])[3].strip())
    if plans:
        res["plans"] = child([sys.executable, "-c", PLANS, url])[3]
    if import_pg is not None:
        cmd = [sys.executable, "bench/import_members.py", "--rows", str(rows)] + (["--only", "sqlite"] if sqlite else
                                                              ["--only", "postgresql", "--pg", import_pg])
        text = child(cmd)[3]
        res["import_ratio"] = float(re.search(r"\] ratio: ([\d.]+)", text).group(1))
        res["import_lines"] = [line for line in text.splitlines() if line.startswith("[")]
    return res


def fmt(key: str, value) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if key in ("check_s", "score_s", "import_ratio") else f"{value:.0f}"


ROWS = ("import sys\nfrom core import db\nfrom core.models import Attendance, DuesPayment, Member\n"
        "db.connect(sys.argv[1])\n"
        "print(sum(m.select().count() for m in (Member, Attendance, DuesPayment)))")
GROWN = ("check_s", "check_mb", "score_s", "open_ms", "key_ms", "compliance_ms")


def save(path: Path, size: str, results: dict) -> dict:
    """Keep this run's figures in ``path`` (by size and database, beside those of earlier runs); all of them."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    for name, r in results.items():
        kept.setdefault(size, {})[name] = {k: v for k, v in r.items() if isinstance(v, (int, float))}
    path.write_text(json.dumps(kept, indent=1), encoding="utf-8")
    return kept


def growth(kept: dict) -> None:
    """How each figure grew from city to province, beside how the data grew (members + attendance + dues)."""
    for name in ("sqlite", "postgresql"):
        city, prov = kept.get("city", {}).get(name), kept.get("province", {}).get(name)
        if not city or not prov or not city.get("rows") or not prov.get("rows"):
            continue
        data = prov["rows"] / city["rows"]
        print(f"\n{name}: city -> province; the data (members + attendance + dues) grew {data:.1f}x "
              f"({city['rows']:,} -> {prov['rows']:,} rows)")
        print(f"{'measure':<32}{'city':>10}{'province':>10}{'grew':>8}")
        for key in GROWN:
            a, b = city.get(key), prov.get(key)
            if a and b:
                print(f"{LABELS[key]:<32}{fmt(key, a):>10}{fmt(key, b):>10}{b / a:>7.1f}x")


def report(size: str, results: dict) -> None:
    col = 0 if size == "city" else 2
    print(f"\n{'measure':<32}{'target':>10}{'SQLite':>12}{'PostgreSQL':>12}")
    for key, label in LABELS.items():
        targets = TARGETS[key]
        target = targets[col]
        cells = []
        for db in ("sqlite", "postgresql"):
            v = results.get(db, {}).get(key)
            t = targets[0 if db == "sqlite" else 1] if size == "city" else target
            mark = "" if v is None or t is None else (" ok" if v <= t else " OVER")
            cells.append(f"{fmt(key, v)}{mark}")
        print(f"{label:<32}{fmt(key, target) if target else '—':>10}{cells[0]:>12}{cells[1]:>12}")
    for db, r in results.items():
        if "findings" in r:
            print(f"{db}: {r['findings']:,} findings")
        if "prune_s" in r:
            print(f"{db}: keep_runs pruning of the oldest whole run ({r['pruned_findings']:,} findings): "
                  f"{r['prune_s']:.2f} s, inside the check's store (which runs beside the writing of the output)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=["city", "province"], default="city")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--sqlite", default=None, help="SQLite file (default: /tmp/dangjian-scale-SIZE.db)")
    ap.add_argument("--pg", default=os.environ.get("DANGJIAN_BENCH_PG"), help="PostgreSQL URL (an empty database)")
    ap.add_argument("--reuse", action="store_true", help="keep the generated databases of an earlier run")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    ap.add_argument("--no-plans", action="store_true", help="skip the slowest queries' plans")
    ap.add_argument("--no-import", action="store_true", help="skip the members import bench")
    ap.add_argument("--import-pg", default=os.environ.get("DANGJIAN_BENCH_IMPORT_PG"),
                    help="PostgreSQL URL of a scratch database for the members import bench (wiped each run; "
                         "not the --pg database)")
    ap.add_argument("--results", type=Path, default=Path(tempfile.gettempdir()) / "dangjian-scale-results.json",
                    help="file that keeps each size's figures, for the growth from city to province")
    ap.add_argument("--growth", action="store_true", help="only print the growth from the figures kept")
    args = ap.parse_args(argv)
    if args.growth:
        growth(save(args.results, args.size, {}))
        return 0
    if args.import_pg and args.pg and args.import_pg == args.pg:
        ap.error("--import-pg must name another database than --pg: the import bench wipes it")
    urls = {}
    if args.only != "postgresql":
        urls["sqlite"] = f"sqlite:///{args.sqlite or f'/tmp/dangjian-scale-{args.size}.db'}"
    if args.only != "sqlite":
        if args.pg:
            urls["postgresql"] = args.pg
        else:
            print("PostgreSQL: no --pg URL (or DANGJIAN_BENCH_PG) given: SQLite only")
    print(f"size {args.size} x{args.scale:g}, seed {SEED}, DANGJIAN_TODAY={TODAY}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}; best of {args.runs}")
    results = {}
    for name, url in urls.items():
        print(f"{name}:", flush=True)
        build(url, args.size, args.scale, args.reuse)
        imp = None if args.no_import else "" if name == "sqlite" else args.import_pg
        rows = round((1_000_000 if args.size == "province" else 100_000) * args.scale)
        results[name] = measure(url, args.runs, sqlite=name == "sqlite", plans=not args.no_plans, import_pg=imp,
                                rows=rows)
        shown = {k: round(v, 3) for k, v in results[name].items() if k not in ("plans", "import_lines")}
        print(f"  {json.dumps(shown)}", flush=True)
        for line in results[name].get("import_lines", []):
            print(f"  {line}", flush=True)
    report(args.size, results)
    growth(save(args.results, args.size, results))
    for name, r in results.items():
        if r.get("plans"):
            print(f"\n{name}: the five queries of a whole check that took longest (in one process), with their plans")
            print(r["plans"].rstrip())
    if "postgresql" in results:
        settings = pg_settings(urls["postgresql"])
        print("PostgreSQL settings not at their built-in defaults: " + settings)
        if "fsync=off" in settings:
            print("fsync is OFF on this server (a test cluster): the targets are for fsync on; these figures "
                  "flatter PostgreSQL's writes")
    return 0


def pg_settings(url: str) -> str:
    code = ("import sys\nfrom core import db\ndb.connect(sys.argv[1])\n"
            "rows = db.database.execute_sql(\"SELECT name, setting FROM pg_settings WHERE source NOT IN "
            "('default', 'override', 'client', 'session') ORDER BY name\").fetchall()\n"
            "print(', '.join(f'{n}={s}' for n, s in rows))")
    try:
        return child([sys.executable, "-c", code, url])[3].strip() or "none"
    except RuntimeError as exc:
        return f"(could not read: {exc})"


if __name__ == "__main__":
    raise SystemExit(main())
