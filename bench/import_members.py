"""Benchmark: import 100,000 members from CSV against the floor measured in the same run.

    python bench/import_members.py [--rows 100000] [--keep DIR]

1. writes communities (50) and orgs (250) and imports them (``dangjian import``);
2. writes a members CSV with ``--rows`` rows (valid, unique ID numbers);
3. times the real ``dangjian import members FILE`` in-process (``core.cli.main``), twice, each
   into a fresh copy of the database, and takes the better run (the floor is the better of two too):
   parsing, validation, pinyin initials, scope checks, upsert, audit rows;
   peak memory is the peak resident set size (``ru_maxrss``) of this process and of the import's worker;
4. times the floor: parse the same CSV with ``csv``, check each ID's check
   character and ``executemany`` the rows into a file-backed SQLite table
   (WAL, unique index on the ID number) in one transaction;
5. prints both, the ratio (target ≤ 3) and the peak memory (target ≤ 300 MB);
   also the time of re-importing the same file (every row "unchanged").

How the import meets the target (2 cores): a file this big is planned by a
forked worker (parsing, validation, references, pinyin, scope, existing rows,
ids, audit JSON, the new members' roster spans, the certificates' ids and
audit rows) while this process only writes what it sends, in the one write
transaction (core/importing/engine.py, ``_run_forked``); the inserts' audit
rows are encoded column by column, by the worker while this process is still
on an earlier chunk, else here; a column that holds one value in every row of
a chunk (the audit rows' time and user, a member's version, an empty column)
goes into the INSERT as a literal instead of being bound row by row; a first
import into an empty table looks up no stored rows; new databases use 16 KiB
pages; pinyin initials come from pypinyin's character table without
importing all of pypinyin.  ``DANGJIAN_IMPORT_WORKER=0`` turns the worker off.

Measured 2026-11-28 on the shared 2-core build machine (a VM whose speed
varies through the day: the floor itself read 0.85-0.98 s), load < 1:
import 2.2-2.8 s per run (was 4.8-5.4 s without the worker), re-import
2.6-3.3 s, ratio of the best runs 2.57-2.96 (single runs have reached 3.08)
— target met, with little to spare; peak RSS 115 MB for this process and
92 MB for the worker (~207 MB together) — target met.  Both processes are
busy for the whole import (~1.9 s each: the writer's executemany of member
rows with 5 indexes and of audit rows with 4 is ~1.5 s of it), so load from
other processes pushes the ratio up: rerun when the load average is above 1.

Since then the import also writes the roster spans (``roster_period``, one
per new member: ~0.45 s of SQLite work in the writer, with its two indexes)
and the certificates.  Measured 2026-12-07 on the same machine, never quiet
(other builds running), alternating with the code before the changes above:
at load ~1.6 the best of 3 runs 3.80 s against 4.16 s (ratio 3.82 against
4.22; each pair 1-19 % faster); at load 2-3, 11 pairs from 6 % slower to 23 %
faster (median 5.7 s against 6.0 s); at load ~1, CPU time of the writer 2.9 s
against 3.5 s and of the worker 2.9 s for both (it now encodes the audit rows
and is the slower one again).  The
writer's SQLite work alone (members, audit rows, spans, commit), replayed
apart, is ~2.1 s of CPU.  Whether a quiet run meets the target (≤ 3, and
≤ 2.9 s) was not measured: the machine was never quiet.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import ids  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力国志鹏飞宇浩然子轩涵梓琪欣怡佳一诺思彤晨雨泽"
RUNS = 2  # timed imports (each into a fresh copy of the database); the best one counts, as for the floor
HEADERS = ["姓名", "公民身份号码", "入党日期", "党员状态", "所在党组织编码", "党员类别", "离退休", "行动不便",
           "报到日期", "编入日期", "流动党员活动证号", "联系人", "学历", "联系电话", "党费类别", "月收入"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_rss_mb() -> float:
    """Peak RSS of the largest finished child process (the import's forked planner)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def write_admin(folder: Path) -> tuple[Path, Path, list[str]]:
    com = folder / "communities.csv"
    org = folder / "orgs.csv"
    codes = []
    with open(com, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["区镇", "街道", "社区编码", "社区名称"])
        for i in range(50):
            w.writerow([["玉山镇", "巴城镇", "周市镇"][i % 3], "", f"C{i:03d}", f"社区{i}"])
    with open(org, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["组织编码", "组织名称", "组织类别", "上级组织编码", "社区编码", "批准文号"])
        for i in range(50):
            w.writerow([f"P{i:03d}", f"社区{i}党委", "党委", "", f"C{i:03d}", f"昆组〔2020〕{i}号"])
            for j in range(4):
                code = f"B{i:03d}{j}"
                codes.append(code)
                w.writerow([code, f"社区{i}第{j + 1}支部", "党支部", f"P{i:03d}", f"C{i:03d}", ""])
    return com, org, codes


def write_members(path: Path, n: int, orgs: list[str], seed: int = 7) -> None:
    rnd = random.Random(seed)
    classes = ["社区党员"] * 8 + ["在职党员", "流出党员"]
    edus = ["初中及以下", "高中", "中专", "大专", "本科", "研究生"]
    seen = set()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        i = 0
        while i < n:
            birth = dt.date(1940, 1, 1) + dt.timedelta(days=rnd.randrange(0, 365 * 60))
            area = f"3205{rnd.randrange(81, 86):02d}"
            seq = rnd.randrange(0, 1000)
            number = ids.make(area, birth, seq)
            if number in seen:
                continue
            seen.add(number)
            i += 1
            joined = birth + dt.timedelta(days=365 * 20 + rnd.randrange(0, 365 * 15))
            if joined > dt.date(2023, 1, 1):
                joined = dt.date(2022, rnd.randrange(1, 13), 1)
            cls = rnd.choice(classes)
            name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
            w.writerow([
                name, number, joined.isoformat(), "正式党员", rnd.choice(orgs), cls,
                "是" if birth.year < 1964 else "否", "是" if rnd.random() < 0.03 else "否",
                "", "", f"LD{i}" if cls == "流出党员" else "", "王五" if cls == "流出党员" else "",
                rnd.choice(edus), f"13{rnd.randrange(10 ** 8, 10 ** 9)}", "在职", f"{rnd.randrange(2000, 20000)}.00",
            ])


def floor(csv_path: Path, db_path: Path) -> float:
    t0 = time.perf_counter()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=normal")
    cols = ", ".join(f"c{i} TEXT" for i in range(len(HEADERS)))
    conn.execute(f"CREATE TABLE member ({cols})")
    conn.execute("CREATE UNIQUE INDEX member_id ON member (c1)")
    rows = []
    with open(csv_path, encoding="utf-8", newline="") as fh:
        r = csv.reader(fh)
        next(r)
        for row in r:
            n = row[1]
            if ids.check_char(n[:17]) != n[17]:
                raise SystemExit(f"bad check character: {n}")
            rows.append(row)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO member VALUES ({', '.join('?' for _ in HEADERS)})", rows)
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--keep", help="folder to keep the files in (default: a temporary one)")
    a = ap.parse_args()
    folder = Path(a.keep or tempfile.mkdtemp(prefix="dangjian-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["DANGJIAN_TODAY"] = "2024-06-30"
    db_url = f"sqlite:///{folder / 'bench.db'}"
    for p in folder.glob("bench.db*"):
        p.unlink()
    for p in folder.glob("floor.db*"):
        p.unlink()
    from core.cli import main as cli

    com, org, codes = write_admin(folder)
    assert cli(["--db", db_url, "import", "communities", str(com)]) == 0
    assert cli(["--db", db_url, "import", "orgs", str(org)]) == 0
    from core import db

    db.close()
    admin = folder / "admin.db"  # communities and orgs only: each timed import starts from a copy
    shutil.copyfile(folder / "bench.db", admin)
    members = folder / "members.csv"
    t0 = time.perf_counter()
    write_members(members, a.rows, codes)
    print(f"generated {a.rows} members in {time.perf_counter() - t0:.1f} s ({members.stat().st_size / 1e6:.1f} MB)")

    base_rss = rss_mb()
    runs = []
    for _ in range(RUNS):  # the best of RUNS, as the floor below
        db.close()
        for p in folder.glob("bench.db*"):
            p.unlink()
        shutil.copyfile(admin, folder / "bench.db")
        t0 = time.perf_counter()
        rc = cli(["--db", db_url, "import", "members", str(members)])
        runs.append(time.perf_counter() - t0)
        assert rc == 0, rc
        if len(runs) == 1:  # memory of one import (a later worker is forked from a bigger process)
            peak = rss_mb()
            worker = worker_rss_mb()
    t_import = min(runs)
    t0 = time.perf_counter()
    rc = cli(["--db", db_url, "import", "members", str(members)])
    t_again = time.perf_counter() - t0
    assert rc == 0, rc
    t_floor = min(floor(members, folder / "floor.db"), _again_floor(members, folder))
    print(f"dangjian import members: {t_import:.2f} s, the best of {RUNS} ({', '.join(f'{t:.2f}' for t in runs)}); "
          f"re-import, all unchanged: {t_again:.2f} s")
    print(f"floor (csv + check digit + executemany, WAL, unique index, one tx): {t_floor:.2f} s, the best of 2")
    print(f"ratio: {t_import / t_floor:.2f}  (target <= 3)")
    print(f"peak memory: this process {peak:.0f} MB (before the import: {base_rss:.0f} MB), the import's worker "
          f"{worker:.0f} MB; together {peak + worker:.0f} MB (target <= 300; pages shared after the fork count twice)")
    return 0


def _again_floor(members: Path, folder: Path) -> float:
    for p in folder.glob("floor.db*"):
        p.unlink()
    return floor(members, folder / "floor.db")


if __name__ == "__main__":
    raise SystemExit(main())
