"""Crash safety: ``dangjian import members FILE`` killed with SIGKILL half-way through its write
transaction leaves a database that opens and holds none of that import's rows (or all of them,
had it committed); the next import works.  Also the bare bulk path (``executemany`` inside
``write_tx``) killed mid-transaction.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from core import access, db
from core.access import Principal
from core.ids import make
from core.models import AuditLog, Community, Member, Organization, Town

ROWS = int(os.environ.get("DANGJIAN_CRASH_ROWS", "30000"))


def _members_csv(path, n):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "公民身份号码", "入党日期", "党员状态", "所在党组织编码", "党员类别", "离退休", "行动不便",
                    "报到日期", "编入日期", "流动党员活动证号", "联系人"])
        base = dt.date(1950, 1, 1)
        for i in range(n):
            idn = make("320583", base + dt.timedelta(days=i // 1000), i % 1000)
            w.writerow([f"党员{i}", idn, "2000-01-01", "正式党员", "O1", "社区党员", "否", "否", "", "", "", ""])


def _in_write_tx(url: str, table: str = "member") -> bool:
    """Does another process hold an open write transaction (SQLite) / row locks on ``table`` (PostgreSQL)?"""
    if url.startswith("sqlite"):
        con = sqlite3.connect(url[len("sqlite:///"):], timeout=0, isolation_level=None)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return True
            raise
        finally:
            con.close()
    from core.db import database

    n = database.execute_sql(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON l.relation = c.oid "
        "WHERE c.relname = %s AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()", (table,)).fetchone()[0]
    return n > 0


def _kill_half_way(cmd, url, env, settle=0.3, timeout=120):
    """Start ``cmd``; once it is inside its write transaction, wait ``settle`` s and SIGKILL it.

    Returns True when the process was killed while still inside the transaction.
    """
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and proc.poll() is None:
            if _in_write_tx(url):
                break
            time.sleep(0.005)
        else:
            return False
        time.sleep(settle)
        still_inside = proc.poll() is None and _in_write_tx(url)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return still_inside and proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture
def base(dangjian_db):
    access.set_current(Principal("root", "admin", "city"))
    t = Town.create(name="甲镇")
    c = Community.create(code="C1", name="一社区", town=t)
    Organization.create(code="O1", name="一支部", kind="branch", community=c)
    return dangjian_db


def _check_db(url):
    if url.startswith("sqlite"):
        con = sqlite3.connect(url[len("sqlite:///"):])
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
    db.connect(url)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killed_import_leaves_nothing_and_the_next_import_works(base, tmp_path):
    url = base
    path = tmp_path / "members.csv"
    _members_csv(path, ROWS)
    db.close()
    env = dict(os.environ, DANGJIAN_DB=url)
    cmd = [sys.executable, "-m", "core.cli", "import", "members", str(path)]
    killed_inside = _kill_half_way(cmd, url, env)
    _check_db(url)
    n = Member.select().count()
    audits = AuditLog.select().where(AuditLog.table == "member").count()
    assert (n, audits) in ((0, 0), (ROWS, ROWS)), (n, audits)
    if killed_inside:
        assert n == 0
    else:  # pragma: no cover - the machine was too fast or too slow to hit the transaction
        pytest.skip(f"the import was not caught inside its transaction (rows: {n}); raise DANGJIAN_CRASH_ROWS")
    db.close()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    db.connect(url)
    assert Member.select().count() == ROWS
    assert AuditLog.select().where((AuditLog.table == "member") & (AuditLog.action == "create")).count() == ROWS


BULK = textwrap.dedent("""
    import sys, time
    from core import db
    from core.db import write_tx
    db.connect(sys.argv[1])
    with write_tx():
        for chunk in range(1000):
            db.executemany('INSERT INTO "entry_item" ("name", "department", "meetings_per_year", '
                           '"ledgers_per_year", "reports_per_year", "version") VALUES (?, ?, 0, 0, 0, 1)',
                           [(f"n{chunk}-{i}", "d") for i in range(1000)])
            if chunk == 5:
                print("half", flush=True)
                time.sleep(60)
""")


@pytest.mark.timeout(300)
def test_killed_bulk_transaction_leaves_nothing(base):
    from core.models import EntryItem

    url = base
    db.close()
    proc = subprocess.Popen([sys.executable, "-c", BULK, url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "half"
    assert _in_write_tx(url, "entry_item")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    _check_db(url)
    assert EntryItem.select().count() == 0
    # the database takes writes again at once
    access.set_current(Principal("root", "admin", "city"))
    from core import records

    records.create(EntryItem, {"name": "after", "department": "d"})
    assert EntryItem.select().count() == 1
