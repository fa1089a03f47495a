"""Many sessions on one database: editors and importers at once.

Simulates staff sessions as separate processes on one database:

- **editors** read a record and save a change through :func:`core.records.update`
  (optimistic locking; a stale edit is re-read and tried again, as a user
  would), each change audited;
- **importers** write batches of new records in one write transaction with
  their bulk audit rows (``dangjian import``'s path: ``db.executemany`` +
  :func:`core.audit.record_many`).

Prints write transactions per second, lock errors ("database is locked"
reaching a user — target 0), stale edits (expected under contention, never
lost), and the p50/p99/max write latency (target p99 ≤ 500 ms), then checks
the database: no lost update (the counters add up to the saves reported) and
one audit row per change.  Exit status 1 when a check fails or a lock error
reached a session.

    python bench/concurrency.py                     # 64 processes, 60 s, temp SQLite file
    python bench/concurrency.py -p 8 -s 30 --importers 2 --records 20
    python bench/concurrency.py --db postgresql://user:pw@127.0.0.1/db
    python bench/concurrency.py --json              # machine-readable summary (tests use it)

``tests/core/test_concurrency.py`` runs this with 8 processes.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COMMUNITY = "BENCH01"
BATCH = 50  # rows per import transaction


def setup(url: str, records: int) -> None:
    import datetime as dt

    from core import access, db
    from core.db import write_tx
    from core.models import Community, Organization, Town, Visit

    db.connect(url)
    access.set_current(access.Principal("bench-setup", "admin", "city"))
    with write_tx():
        town = Town.create(name="基准镇")
        c = Community.create(code=COMMUNITY, name="基准社区", town=town)
        Organization.create(code="BENCH-O1", name="基准党支部", kind="branch", community=c)
        for i in range(records):
            Visit.create(community=c, kind="reception", date=dt.date(2024, 1, 1), people=0, demand=f"edit-{i}")
    db.close()


def _busy(exc) -> bool:
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


def _wait_for_start(start: float) -> float:
    """Say "ready" (imports done, connected), then wait for the common start time on stdin."""
    if not start:
        print("ready", flush=True)
        start = float(sys.stdin.readline())
    while time.time() < start:
        time.sleep(0.002)
    return start


def editor(url: str, n: int, start: float, seconds: float, records: int, think: float = 0.0) -> dict:
    from core import access, db, records as rec
    from core.errors import StaleEdit
    from core.models import Visit

    db.connect(url, migrate=False)
    access.set_current(access.Principal(f"editor{n}", "community", COMMUNITY, False, False))
    ids = [v.id for v in Visit.select(Visit.id).where(Visit.demand.startswith("edit-")).order_by(Visit.id)]
    ids = ids[:records]
    rnd = random.Random(n)
    ok = stale = 0
    errors: list[str] = []
    lat: list[float] = []
    start = _wait_for_start(start)
    end = start + seconds
    while time.time() < end:
        vid = rnd.choice(ids)
        v = rec.get(Visit, vid)  # read (a short read transaction of its own)
        t0 = time.perf_counter()
        try:
            rec.update(Visit, vid, {"people": v.people + 1}, version=v.version)
            ok += 1
        except StaleEdit:
            stale += 1
        except Exception as exc:  # noqa: BLE001 - everything else reached "the user"
            errors.append(f"{type(exc).__name__}: {exc}")
        lat.append((time.perf_counter() - t0) * 1000)
        if think:
            time.sleep(rnd.uniform(0, 2 * think) / 1000)
    db.close()
    return {"role": "editor", "ok": ok, "stale": stale, "errors": errors, "lat": [round(x, 2) for x in lat],
            "rows": 0}


def importer(url: str, n: int, start: float, seconds: float, think: float = 0.0) -> dict:
    """Bulk inserts of new visits with their audit rows, as the importer does, one transaction per batch."""
    import datetime as dt

    from core import access, audit, db, records as rec
    from core.db import write_tx
    from core.models import Community, Visit
    from peewee import fn

    db.connect(url, migrate=False)
    access.set_current(access.Principal(f"importer{n}", "community", COMMUNITY, False, False))
    cid = Community.get(Community.code == COMMUNITY).id
    ok = rows = 0
    errors: list[str] = []
    lat: list[float] = []
    batch = 0
    start = _wait_for_start(start)
    end = start + seconds
    while time.time() < end:
        tag = f"imp-{n}-{batch}-"
        data = [(cid, "home_visit", dt.date(2024, 2, 1).isoformat(), 1, f"{tag}{i}", 1) for i in range(BATCH)]
        t0 = time.perf_counter()

        def one():
            with write_tx():
                before = Visit.select(fn.MAX(Visit.id)).scalar() or 0
                db.executemany('INSERT INTO "visit" ("community_id", "kind", "date", "people", "demand", '
                               '"version") VALUES (?, ?, ?, ?, ?, ?)', data)
                new = Visit.select(Visit.id, Visit.demand).where((Visit.id > before) & Visit.demand.startswith(tag))
                audit.record_many([audit.Entry("create", "visit", v.id, None, {"demand": v.demand}, cid)
                                   for v in new])
        try:
            rec.with_retry(one)
            ok += 1
            rows += BATCH
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")
        lat.append((time.perf_counter() - t0) * 1000)
        batch += 1
        if think:
            time.sleep(random.uniform(0, 2 * think) / 1000)
    db.close()
    return {"role": "importer", "ok": ok, "stale": 0, "errors": errors, "lat": [round(x, 2) for x in lat],
            "rows": rows}


def verify(url: str, results: list[dict]) -> dict:
    from core import db
    from core.models import AuditLog, Visit

    db.connect(url, migrate=False)
    saved = sum(r["ok"] for r in results if r["role"] == "editor")
    imported = sum(r["rows"] for r in results if r["role"] == "importer")
    counter_sum = sum(v.people for v in Visit.select(Visit.people).where(Visit.demand.startswith("edit-")))
    audit_updates = AuditLog.select().where((AuditLog.table == "visit") & (AuditLog.action == "update")).count()
    audit_creates = AuditLog.select().where((AuditLog.table == "visit") & (AuditLog.action == "create")
                                            & AuditLog.user.startswith("importer")).count()
    imported_rows = Visit.select().where(Visit.demand.startswith("imp-")).count()
    db.close()
    return {"saved": saved, "counter_sum": counter_sum, "audit_updates": audit_updates,
            "imported_reported": imported, "imported_rows": imported_rows, "audit_creates": audit_creates,
            "no_lost_update": counter_sum == saved, "audit_matches": audit_updates == saved
            and audit_creates == imported_rows == imported}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


def run(url: str, processes: int, seconds: float, importers: int, records: int, think: float = 0.0) -> dict:
    setup(url, records)
    procs = []
    for n in range(processes):
        role = "importer" if n < importers else "editor"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", role, "--n", str(n), "--db", url,
               "-s", str(seconds), "--records", str(records), "--think", str(think)]
        procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=None if os.environ.get("DJ_DEBUG") else subprocess.PIPE, text=True))
    for p in procs:  # every session has started (Python imports can take seconds on a busy machine)
        line = p.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"worker failed to start: {line or p.stderr.read()[-500:]}")
    start = time.time() + 0.5
    for p in procs:
        p.stdin.write(f"{start!r}\n")
        p.stdin.flush()
    results = []
    crashed = []
    for p in procs:
        out, err = p.communicate(timeout=seconds + 600)
        if p.returncode != 0:
            crashed.append(err.strip().splitlines()[-1] if err.strip() else f"exit {p.returncode}")
            continue
        results.append(json.loads(out.strip().splitlines()[-1]))
    lat = [x for r in results for x in r["lat"]]
    errors = [e for r in results for e in r["errors"]] + crashed
    writes = sum(r["ok"] for r in results)
    summary = {
        "processes": processes, "seconds": seconds, "importers": importers, "records": records, "think_ms": think,
        "write_tx": writes, "write_tx_per_s": round(writes / seconds, 1),
        "stale_edits": sum(r["stale"] for r in results),
        "lock_errors": sum(1 for e in errors if _busy(e)),
        "other_errors": [e for e in errors if not _busy(e)][:10],
        "p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1),
        "max_ms": round(max(lat), 1) if lat else 0.0,
    }
    summary.update(verify(url, results))
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", help="database URL (default: a new SQLite file in a temp folder)")
    ap.add_argument("-p", "--processes", type=int, default=int(os.environ.get("BENCH_PROCESSES", 64)))
    ap.add_argument("-s", "--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS", 60)))
    ap.add_argument("--importers", type=int, default=None, help="how many of the processes import (default 1/8)")
    ap.add_argument("--records", type=int, default=1000, help="records the editors share (fewer: more contention)")
    ap.add_argument("--think", type=float, default=0.0,
                    help="mean pause in ms between a session's writes (0: write back to back, the worst case)")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--worker", choices=["editor", "importer"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--start", type=float, default=0.0, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        import faulthandler
        import signal

        faulthandler.register(signal.SIGUSR1)  # kill -USR1 PID: where is this session stuck?
        if a.worker == "editor":
            res = editor(a.db, a.n, a.start, a.seconds, a.records, a.think)
        else:
            res = importer(a.db, a.n, a.start, a.seconds, a.think)
        print(json.dumps(res))
        return 0
    tmp = None
    url = a.db
    if not url:
        tmp = tempfile.mkdtemp(prefix="dj_bench_")
        url = f"sqlite:///{tmp}/bench.db"
    elif url.startswith("postgres"):
        from core import db
        from core.testing import _drop_all_pg

        db.connect(url, migrate=False)
        _drop_all_pg()
        db.close()
    importers = a.importers if a.importers is not None else max(1, a.processes // 8)
    s = run(url, a.processes, a.seconds, importers, a.records, a.think)
    if a.json:
        print(json.dumps(s, ensure_ascii=False))
    else:
        print(f"{s['processes']} processes ({s['importers']} importing) for {s['seconds']:g} s on "
              f"{url.split('://')[0]}, {s['records']} shared records, think time {s['think_ms']:g} ms")
        print(f"write transactions: {s['write_tx']} ({s['write_tx_per_s']}/s); stale edits (re-read, not lost): "
              f"{s['stale_edits']}")
        print(f"lock errors: {s['lock_errors']} (target 0); other errors: {len(s['other_errors'])}")
        print(f"write latency p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms (target <= 500), max {s['max_ms']} ms")
        print(f"no lost update: {s['no_lost_update']} (saved {s['saved']}, counters {s['counter_sum']}); "
              f"audit rows match: {s['audit_matches']} (updates {s['audit_updates']}, imported "
              f"{s['imported_rows']}/{s['imported_reported']}, audit creates {s['audit_creates']})")
        for e in s["other_errors"]:
            print("  error:", e)
    if tmp:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    good = s["lock_errors"] == 0 and not s["other_errors"] and s["no_lost_update"] and s["audit_matches"]
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
