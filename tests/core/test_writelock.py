"""The write lock beside an SQLite database: private modes, no symlinks, a bounded wait."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from core import writequeue
from core.errors import UserError

pytestmark = pytest.mark.skipif(writequeue.fcntl is None, reason="no fcntl on this platform")


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "d.db"
    path.write_bytes(b"")
    writequeue._files.clear()
    yield path
    for fd in writequeue._files.values():
        if fd >= 0:
            os.close(fd)
    writequeue._files.clear()


def test_lock_file_is_private(db_file):
    with writequeue.queued(str(db_file)):
        pass
    mode = stat.S_IMODE(os.stat(f"{db_file}.writelock").st_mode)
    assert mode == 0o600


def test_lock_file_is_group_shared_in_a_setgid_folder(db_file):
    os.chmod(db_file.parent, 0o2770)
    with writequeue.queued(str(db_file)):
        pass
    assert stat.S_IMODE(os.stat(f"{db_file}.writelock").st_mode) == 0o660


def test_a_planted_symlink_is_refused_and_its_target_untouched(db_file, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    os.symlink(victim, f"{db_file}.writelock")
    with pytest.raises(UserError, match="symbolic link"):
        with writequeue.queued(str(db_file)):
            pass
    assert victim.read_bytes() == b"precious"


def test_a_held_lock_ends_in_a_clear_error_after_the_limit(db_file):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({str(db_file) + '.writelock'!r}, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(UserError, match="held by another process|被其他进程占用"):
            with writequeue.queued(str(db_file), limit=0.5):
                pass
        assert time.monotonic() - t0 < 5
    finally:
        holder.kill()
        holder.wait()


def test_an_old_world_readable_lock_file_is_narrowed(db_file):
    path = f"{db_file}.writelock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    os.fchmod(fd, 0o644)
    os.close(fd)
    with writequeue.queued(str(db_file)):
        pass
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o007 == 0


def test_a_new_database_and_every_output_are_private(dangjian_env, tmp_path, monkeypatch):
    """Database 0600 (0660 in a setgid folder), exports, reports and templates 0600 -- whatever
    the umask -- and an old world-readable export is narrowed when written again."""
    import os
    import stat

    from core import db
    from core.importing import write_export, write_template
    from core.output import write_text

    old = os.umask(0o022)
    try:
        db.connect(f"sqlite:///{tmp_path / 'private.db'}")
        assert stat.S_IMODE((tmp_path / "private.db").stat().st_mode) == 0o600
        wal = tmp_path / "private.db-wal"
        if wal.exists():
            assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0
        shared = tmp_path / "shared"
        shared.mkdir()
        os.chmod(shared, 0o2770)
        db.connect(f"sqlite:///{shared / 'city.db'}")
        assert stat.S_IMODE((shared / "city.db").stat().st_mode) == 0o660
        stale = tmp_path / "old.csv"
        stale.write_text("x")
        os.chmod(stale, 0o644)
        for path, write in [(tmp_path / "m.xlsx", lambda p: write_export("members", p, fmt="xlsx")),
                            (tmp_path / "m.csv", lambda p: write_export("members", p, fmt="csv")),
                            (tmp_path / "t.xlsx", lambda p: write_template("members", p)),
                            (tmp_path / "r.html", lambda p: write_text("<p>报告</p>", str(p))),
                            (stale, lambda p: write_export("members", p, fmt="csv"))]:
            write(path)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        os.umask(old)
        db.close()
