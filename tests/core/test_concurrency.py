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
