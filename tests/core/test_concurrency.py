"""8 processes editing (optimistic locking) and importing on one database at once.

Duration: ``DANGJIAN_CONCURRENCY_SECONDS`` (default 10 s here; ``.ci/run`` sets 30 s).
Runs ``bench/concurrency.py`` (the same code as the 64-process benchmark) and
asserts: no lost update (the edited counters add up to the saves the sessions
reported), no "database is locked" or any other error reaching a session, and
one audit row per change (updates and imported rows).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "concurrency.py"
SECONDS = float(os.environ.get("DANGJIAN_CONCURRENCY_SECONDS", "10"))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_eight_processes_edit_and_import(dangjian_db):
    from core import db

    db.close()
    url = dangjian_db
    if url.startswith("sqlite"):  # the bench builds its own schema in a fresh file
        url = url.replace("test.db", "concurrency.db")
    proc = subprocess.run([sys.executable, str(BENCH), "--db", url, "-p", "8", "-s", str(SECONDS),
                           "--importers", "2", "--records", "12", "--json"],
                          capture_output=True, text=True, timeout=SECONDS + 500)
    assert proc.stdout.strip(), proc.stderr[-2000:]
    s = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(s, ensure_ascii=False))
    assert s["lock_errors"] == 0
    assert s["other_errors"] == []
    assert s["saved"] > 0 and s["imported_reported"] > 0
    assert s["counter_sum"] == s["saved"], "lost update"
    assert s["audit_updates"] == s["saved"]
    assert s["imported_rows"] == s["imported_reported"] == s["audit_creates"]
    assert proc.returncode == 0, proc.stderr[-2000:]


# ---------------------------------------------------------------- the writer queue (core.writequeue)

HOLDER = """
import sys, time
from core.writequeue import queued
path, name, hold, log = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
with queued(path):
    with open(log, "a") as fh:
        fh.write(f"{name} in {time.time():.3f}\\n")
    print("in", flush=True)
    time.sleep(hold)
    with open(log, "a") as fh:
        fh.write(f"{name} out {time.time():.3f}\\n")
"""


def _holder(tmp_path, name, hold):
    return subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "x.db"), name, str(hold),
                             str(tmp_path / "log")], stdout=subprocess.PIPE, text=True)


def _log(tmp_path):
    p = tmp_path / "log"
    return [line.split() for line in p.read_text().splitlines()] if p.exists() else []


def _wait_ticket(tmp_path, n, timeout=20):
    """Wait until ``n`` tickets have been taken (the counter in the lock file)."""
    import struct
    import time

    f = tmp_path / "x.db.writelock"
    end = time.time() + timeout
    while time.time() < end:
        if f.exists() and f.stat().st_size >= 8 and struct.unpack("<Q", f.read_bytes()[:8])[0] >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"{n} tickets not taken")


def test_queue_is_first_come_first_served(tmp_path):
    a = _holder(tmp_path, "A", 1.5)
    assert a.stdout.readline().strip() == "in"
    waiters = []
    for i, name in enumerate("BCD", start=2):
        waiters.append(_holder(tmp_path, name, 0.05))
        _wait_ticket(tmp_path, i)
    for p in [a, *waiters]:
        assert p.wait(timeout=60) == 0
    entries = [row[0] for row in _log(tmp_path) if row[1] == "in"]
    assert entries == ["A", "B", "C", "D"]
    times = {(row[0], row[1]): float(row[2]) for row in _log(tmp_path)}
    assert times[("B", "in")] >= times[("A", "out")]


def test_a_killed_holder_or_waiter_does_not_block_the_queue(tmp_path):
    import signal
    import time

    a = _holder(tmp_path, "A", 60)
    assert a.stdout.readline().strip() == "in"
    b = _holder(tmp_path, "B", 60)
    _wait_ticket(tmp_path, 2)
    c = _holder(tmp_path, "C", 0.01)
    _wait_ticket(tmp_path, 3)
    b.send_signal(signal.SIGKILL)  # a waiter dies in the queue
    b.wait()
    t0 = time.time()
    a.send_signal(signal.SIGKILL)  # the holder dies inside its turn
    a.wait()
    assert c.wait(timeout=20) == 0
    assert time.time() - t0 < 10
    assert [row[0] for row in _log(tmp_path) if row[1] == "in"] == ["A", "C"]


def test_queue_falls_back_when_unusable(tmp_path, monkeypatch):
    from core import writequeue

    with writequeue.queued(str(tmp_path / "missing-folder" / "x.db")):  # cannot create the lock file
        pass
    monkeypatch.setenv("DANGJIAN_WRITE_QUEUE", "0")
    assert not writequeue.enabled()
    with writequeue.queued(str(tmp_path / "y.db")):
        pass
    assert not (tmp_path / "y.db.writelock").exists()
