"""dangjian backup / restore: a consistent copy while another process writes; restore asks first."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from core import access, db
from core.access import Principal
from core.cli import main
from core.models import EntryItem

PG = bool(os.environ.get("DANGJIAN_TEST_DB"))

WRITER = textwrap.dedent("""
    import sys, time
    from core import db
    from core.db import write_tx
    from core.models import EntryItem
    db.connect(sys.argv[1])
    print("ready", flush=True)
    i = 0
    end = time.time() + float(sys.argv[2])
    while time.time() < end:
        with write_tx():  # two rows per transaction: a consistent copy holds an even number
            EntryItem.create(name=f"a{i}", department="x")
            EntryItem.create(name=f"b{i}", department="x")
        i += 1
""")


def _count(path) -> int:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT count(*) FROM entry_item").fetchone()[0]
    finally:
        con.close()


@pytest.mark.skipif(PG, reason="SQLite online backup (PostgreSQL: see test_pg_backup_restore)")
def test_backup_is_consistent_while_another_process_writes(dangjian_db, tmp_path, capsys):
    url = dangjian_db
    writer = subprocess.Popen([sys.executable, "-c", WRITER, url, "4"], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        counts = []
        for n in range(3):
            target = tmp_path / f"b{n}.db"
            assert main(["backup", str(target)]) == 0
            con = sqlite3.connect(target)
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            con.close()
            counts.append(_count(target))
            time.sleep(0.3)
        assert all(c % 2 == 0 for c in counts), counts
        assert counts[-1] > 0 and counts == sorted(counts)
    finally:
        writer.wait(timeout=30)
    assert writer.returncode == 0
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


@pytest.mark.skipif(PG, reason="SQLite restore (PostgreSQL: see test_pg_backup_restore)")
def test_restore_asks_and_replaces(dangjian_db, tmp_path, capsys, monkeypatch):
    access.set_current(Principal("root", "admin", "city"))
    EntryItem.create(name="before", department="x")
    target = tmp_path / "snap.db"
    assert main(["backup", str(target)]) == 0
    access.set_current(Principal("root", "admin", "city"))
    EntryItem.create(name="after", department="x")
    # no terminal, no --yes: refused, nothing changed
    monkeypatch.setattr(sys, "stdin", open(os.devnull))
    assert main(["--lang", "en", "restore", str(target)]) == 2
    assert "confirmation needed" in capsys.readouterr().err
    db.connect(dangjian_db)
    assert sorted(e.name for e in EntryItem.select()) == ["after", "before"]
    # another process holds the database open while we restore: it sees the restored data afterwards
    assert main(["restore", str(target), "--yes"]) == 0
    db.connect(dangjian_db)
    assert [e.name for e in EntryItem.select()] == ["before"]
    code = "from core import db; from core.models import EntryItem; db.connect(); print(EntryItem.select().count())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, DANGJIAN_DB=dangjian_db)).stdout
    assert out.strip() == "1"


@pytest.mark.skipif(PG, reason="SQLite files")
def test_restore_across_page_sizes(dangjian_db, tmp_path, capsys):
    """A backup of a database with 4 KiB pages (made before 16 KiB became the default) restores, and back."""
    access.set_current(Principal("root", "admin", "city"))
    live = dangjian_db[len("sqlite:///"):]
    assert db.database.execute_sql("PRAGMA page_size").fetchone()[0] == 16384  # a new database
    EntryItem.create(name="new", department="x")
    ours = tmp_path / "ours.db"
    assert main(["backup", str(ours)]) == 0
    src = sqlite3.connect(ours)  # the same data in 4 KiB pages
    src.execute("PRAGMA page_size = 4096")
    src.execute("VACUUM")
    src.execute("UPDATE entry_item SET name = 'old'")
    src.commit()
    assert src.execute("PRAGMA page_size").fetchone()[0] == 4096
    src.close()
    db.connect(dangjian_db)
    assert main(["restore", str(ours), "--yes"]) == 0
    db.connect(dangjian_db)
    assert [e.name for e in EntryItem.select()] == ["old"]
    assert db.database.execute_sql("PRAGMA page_size").fetchone()[0] == 16384
    assert db.database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    # and a 16 KiB backup into a 4 KiB live database
    db.close()
    con = sqlite3.connect(live)
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("PRAGMA page_size = 4096")
    con.execute("VACUUM")
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    db.connect(dangjian_db)
    access.set_current(Principal("root", "admin", "city"))
    EntryItem.update(name="changed").execute()
    src = sqlite3.connect(ours)
    src.execute("PRAGMA page_size = 16384")
    src.execute("VACUUM")
    src.close()
    assert main(["restore", str(ours), "--yes"]) == 0
    db.connect(dangjian_db)
    assert [e.name for e in EntryItem.select()] == ["old"]
    assert db.database.execute_sql("PRAGMA page_size").fetchone()[0] == 4096


@pytest.mark.skipif(PG, reason="SQLite files")
def test_restore_refuses_a_file_that_is_not_a_backup(dangjian_db, tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello" * 1000)
    assert main(["--lang", "en", "restore", str(bad), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "not a dangjian SQLite backup" in err and "Traceback" not in err
    assert main(["--lang", "en", "restore", str(tmp_path / "missing.db"), "--yes"]) == 2
    assert "no such backup file" in capsys.readouterr().err
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert main(["--lang", "en", "restore", str(other), "--yes"]) == 2
    assert "not a dangjian SQLite backup" in capsys.readouterr().err
    assert main(["--lang", "en", "backup", dangjian_db[len("sqlite:///"):]]) == 2


@pytest.mark.skipif(not PG, reason="needs a PostgreSQL server: set DANGJIAN_TEST_DB=postgresql://…")
def test_pg_backup_restore(dangjian_db, tmp_path):
    access.set_current(Principal("root", "admin", "city"))
    EntryItem.create(name="before", department="x")
    target = tmp_path / "pg.dump"
    assert main(["backup", str(target)]) == 0
    assert target.stat().st_size > 0
    access.set_current(Principal("root", "admin", "city"))
    db.connect(dangjian_db)
    EntryItem.create(name="after", department="x")
    db.close()
    assert main(["restore", str(target), "--yes"]) == 0
    db.connect(dangjian_db)
    assert [e.name for e in EntryItem.select()] == ["before"]


def test_pg_backup_file_is_private_whatever_the_umask(tmp_path, monkeypatch):
    """pg_dump would create its file with the umask's mode: the file it writes into is made
    0600 first, under a name nobody can guess, and nothing is left behind."""
    import os
    import stat

    from core import backup

    seen = {}

    def fake_tool(argv, env):
        part = argv[argv.index("--file") + 1]
        seen["part"] = part
        seen["mode"] = stat.S_IMODE(os.stat(part).st_mode)
        with open(part, "wb") as fh:  # what pg_dump does: open for writing, truncate
            fh.write(b"PGDMP")

    monkeypatch.setattr(backup, "_run_tool", fake_tool)
    monkeypatch.setattr(backup, "_pg_env_args", lambda url: ([], {}))
    monkeypatch.setattr(backup.db, "current_url", lambda: "postgresql://x@h/db")
    old = os.umask(0)
    try:
        target = tmp_path / "b.dump"
        backup.backup_postgres(target)
    finally:
        os.umask(old)
    assert seen["mode"] == 0o600
    assert os.path.basename(seen["part"]) != ".b.dump.part"  # not a guessable name
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_bytes() == b"PGDMP"
    assert [p.name for p in tmp_path.iterdir()] == ["b.dump"]
