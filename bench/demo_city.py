"""Benchmark: build the demo city (``dangjian demo --size city``, or ``--size province``) into an SQLite file.

    python bench/demo_city.py                       # temporary file, removed afterwards
    python bench/demo_city.py --keep /tmp/dangjian_city.db
    python bench/demo_city.py --size small --scale 0.1 --tracemalloc
    python bench/demo_city.py --size province --scale 0.02 --db postgresql://user:pw@host/empty_db

Prints the counts, the moves (transfers, class changes, roster spans), the
wall time, the time spent inside the bulk INSERTs, the peak resident memory
(``ru_maxrss``) and, with ``--tracemalloc``, the peak of Python allocations
(tracemalloc slows the run down by about 2x).
"DANGJIAN_TODAY" is 2026-11-28 unless already set, so the kept database is
the same for everyone.  ``--db URL`` builds into another database (e.g.
PostgreSQL) instead; it must be empty.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _moves() -> dict:
    """Transfers by direction, class changes by old → new class, and the roster's spans."""
    from peewee import fn

    from core import models as m

    T, C = m.Transfer, m.ClassChange
    out = {f"transfer {d}": n for d, n in T.select(T.direction, fn.COUNT(T.id)).group_by(T.direction)
           .order_by(T.direction).tuples()}
    out.update({f"class {a}→{b}": n for a, b, n in C.select(C.old_class, C.new_class, fn.COUNT(C.id))
                .group_by(C.old_class, C.new_class).order_by(C.old_class, C.new_class).tuples()})
    out["roster spans"] = m.RosterPeriod.select().count()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=["small", "city", "province"], default="city")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=20111)
    ap.add_argument("--keep", metavar="FILE", help="write the database to FILE (replaced) and keep it")
    ap.add_argument("--db", metavar="URL", help="an empty database URL instead of an SQLite file")
    ap.add_argument("--tracemalloc", action="store_true", help="also measure the peak of Python allocations")
    args = ap.parse_args(argv)
    os.environ.setdefault("DANGJIAN_TODAY", "2026-11-28")

    from core import db, demo

    tmpdir = None
    if args.db:
        url = args.db
    else:
        if args.keep:
            path = Path(args.keep).resolve()
            build_path = path.with_name(path.name + ".building")
            for suffix in ("", "-wal", "-shm"):
                Path(str(build_path) + suffix).unlink(missing_ok=True)
        else:
            tmpdir = tempfile.mkdtemp(prefix="dangjian-bench-")
            build_path = Path(tmpdir) / "city.db"
        url = f"sqlite:///{build_path}"

    sql_time = 0.0
    rows = 0
    real_copy_in = demo.copy_in  # COPY on PostgreSQL, executemany on SQLite

    def timed_copy_in(table, columns, chunk):
        nonlocal sql_time, rows
        t = time.perf_counter()
        real_copy_in(table, columns, chunk)
        sql_time += time.perf_counter() - t
        rows += len(chunk)

    demo.copy_in = timed_copy_in
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    db.connect(url)
    t1 = time.perf_counter()
    counts = demo.build(args.size, args.seed, progress=sys.stderr.isatty(), scale=args.scale)
    t2 = time.perf_counter()
    moves = _moves()
    db.close()
    t3 = time.perf_counter()
    peak_py = None
    if args.tracemalloc:
        import tracemalloc

        peak_py = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if args.keep and not args.db:
        for suffix in ("-wal", "-shm"):  # a closed database has none; stale ones would not match the new file
            Path(str(path) + suffix).unlink(missing_ok=True)
        os.replace(build_path, path)
    size = Path(path if args.keep else build_path).stat().st_size if not args.db else None
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru.ru_utime - cpu0.ru_utime) + (ru.ru_stime - cpu0.ru_stime)
    maxrss_mb = ru.ru_maxrss / 1024
    print(f"size={args.size} scale={args.scale} seed={args.seed} today={os.environ['DANGJIAN_TODAY']}")
    print("counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"build: {t2 - t1:.1f} s wall (connect+migrate {t1 - t0:.1f} s, close {t3 - t2:.1f} s); "
          f"bulk INSERTs {sql_time:.1f} s for {rows:,} rows ({sql_time / max(rows, 1) * 1e6:.1f} us/row)")
    print("moves: " + ", ".join(f"{k} {v}" for k, v in moves.items()))
    print(f"CPU time of this process {cpu:.1f} s (wall time suffers when other processes share the cores; "
          f"load average now {os.getloadavg()[0]:.1f})")
    print(f"peak RSS {maxrss_mb:.0f} MB" + (f"; tracemalloc peak {peak_py / 2**20:.0f} MB" if peak_py else ""))
    if size is not None:
        print(f"database file {size / 2**20:.0f} MB" + (f": {path}" if args.keep else ""))
    if tmpdir:
        import shutil

        shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
