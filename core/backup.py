"""Backup and restore of the database (备份与恢复, admin only); the commands
``dangjian backup FILE`` and ``dangjian restore FILE`` are :mod:`core.cli.backup`.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the whole
database in one step from a read snapshot, so the copy is consistent while
others keep writing (in WAL mode readers do not block writers).  The copy is
written beside the target and renamed into place, so a crash never leaves a
half-written backup under the final name.

Restore on SQLite copies the backup *into* the live database through the same
API (taking SQLite's write lock), so other sessions simply see the restored
data on their next read — no file is swapped under them; the schema is then
upgraded if the backup was older.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists
--single-transaction`` (the client tools of the server's major version, Debian
package ``postgresql-client``).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from core import access, db
from core.errors import UserError
from core.i18n import tr


def _sqlite_path() -> str:
    return db.database.obj.database


def _copy(src: sqlite3.Connection, dst: sqlite3.Connection) -> None:
    src.backup(dst)  # pages=-1: all pages in one step, from one read snapshot


def _remove_part(tmp: str) -> None:
    """Delete a backup's temporary file and whatever SQLite kept beside it."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.unlink(tmp + suffix)
        except OSError:
            pass


@contextmanager
def _sigterm_interrupts():
    """While a backup runs, SIGTERM interrupts it like Ctrl-C (KeyboardInterrupt), so its
    temporary file and journal are removed instead of left behind (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def backup_sqlite(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=str(target.parent))
    os.close(fd)
    try:
        src = sqlite3.connect(_sqlite_path(), timeout=30)
        try:
            src.execute("PRAGMA busy_timeout = 30000")
            dst = sqlite3.connect(tmp)
            try:
                _copy(src, dst)
                dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained single file
                ok = dst.execute("PRAGMA quick_check").fetchone()[0]
                if ok != "ok":
                    raise UserError(tr("备份校验失败：{e}", "backup check failed: {e}", e=ok))
            finally:
                dst.close()
        finally:
            src.close()
        os.replace(tmp, target)
    except BaseException:
        _remove_part(tmp)
        raise


def _pg_env_args(url: str) -> tuple[list[str], dict]:
    """libpq connection options for pg_dump / pg_restore, the password in PGPASSWORD (never on argv)."""
    from playhouse.db_url import parse

    kw = parse(url)
    env = dict(os.environ)
    args = []
    if kw.get("host"):
        args += ["--host", str(kw["host"])]
    if kw.get("port"):
        args += ["--port", str(kw["port"])]
    if kw.get("user"):
        args += ["--username", str(kw["user"])]
    if kw.get("password"):
        env["PGPASSWORD"] = str(kw["password"])
    args += ["--dbname", str(kw["database"])]
    return args, env


def _run_tool(cmd: list[str], env: dict) -> None:
    if shutil.which(cmd[0]) is None:
        raise UserError(tr("找不到 {t}：请安装 PostgreSQL 客户端（Debian：apt-get install postgresql-client）",
                           "{t} not found: install the PostgreSQL client tools (Debian: apt-get install "
                           "postgresql-client)", t=cmd[0]))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise UserError(tr("{t} 失败：{e}", "{t} failed: {e}", t=cmd[0], e=msg[-1] if msg else proc.returncode))


def backup_postgres(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    args, env = _pg_env_args(db.current_url())
    # made here, 0600 and under a name nobody can guess, before pg_dump writes into it (pg_dump
    # itself would create its file with the umask's mode)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=str(target.parent))
    os.close(fd)
    tmp = Path(name)
    try:
        _run_tool(["pg_dump", "--format=custom", "--no-owner", "--file", str(tmp)] + args, env)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def backup(target) -> Path:
    """Write a consistent copy of the current database to ``target``; returns its path."""
    from core.server import check_output_path

    access.current().require_admin(tr("备份数据库", "back up the database"))
    target = Path(target).expanduser().resolve()
    check_output_path(target, backup=True)
    if target.is_dir():
        raise UserError(tr("{f} 是文件夹：请给出备份文件名", "{f} is a folder: name the backup file", f=target))
    if target.exists() and not target.is_file():  # the copy is renamed over it: never over /dev/null or a pipe
        raise UserError(tr("{f} 不是普通文件，不能用作备份文件", "{f} is not a regular file and cannot hold a backup",
                           f=target))
    if not target.parent.is_dir():
        raise UserError(tr("无法写入 {f}：文件夹不存在", "cannot write {f}: no such folder", f=target))
    try:
        with _sigterm_interrupts():
            if db.is_sqlite():
                backup_sqlite(target)
            elif db.is_postgres():
                backup_postgres(target)
            else:  # pragma: no cover
                raise UserError("unsupported database")
    except (OSError, sqlite3.Error) as exc:
        raise UserError(tr("无法写入备份 {f}：{e}", "cannot write the backup {f}: {e}", f=target,
                           e=getattr(exc, "strerror", None) or exc)) from None
    return target


def _check_sqlite_backup(path: Path) -> int:
    """The schema version in a backup file; UserError if it is not a dangjian SQLite database."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise UserError(tr("无法打开备份 {f}：{e}", "cannot open backup {f}: {e}", f=path, e=exc)) from None
    try:
        ok = con.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise UserError(tr("备份文件已损坏：{e}", "the backup file is damaged: {e}", e=ok))
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        return int(row[0] or 0)
    except sqlite3.DatabaseError as exc:
        raise UserError(tr("{f} 不是本系统的 SQLite 备份：{e}", "{f} is not a dangjian SQLite backup: {e}",
                           f=path, e=exc)) from None
    finally:
        con.close()


def restore(source) -> None:
    """Replace the current database's contents with the backup ``source`` (no confirmation here)."""
    from core import migrations

    access.current().require_admin(tr("恢复数据库", "restore the database"))
    source = Path(source).expanduser().resolve()
    if not source.is_file():
        raise UserError(tr("备份文件不存在：{f}", "no such backup file: {f}", f=source))
    if db.is_sqlite():
        version = _check_sqlite_backup(source)
        if version > len(migrations.STEPS):
            raise UserError(tr("备份来自更新的版本（结构版本 {v}），请先升级本程序",
                               "the backup comes from a newer version (schema {v}); upgrade dangjian first",
                               v=version))
        live = db.database.connection()
        size = live.execute("PRAGMA page_size").fetchone()[0]
        with tempfile.TemporaryDirectory(prefix="dangjian-restore-") as tmpdir:
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            try:
                if src.execute("PRAGMA page_size").fetchone()[0] != size:
                    # a WAL database only takes pages of its own size: rewrite a copy at that size first
                    # (a backup of a database created before 16 KiB pages, or the other way round)
                    src.close()
                    copy = Path(tmpdir) / "restore.db"
                    shutil.copyfile(source, copy)
                    src = sqlite3.connect(copy)
                    src.execute("PRAGMA journal_mode = DELETE")
                    src.execute(f"PRAGMA page_size = {int(size)}")
                    src.execute("VACUUM")
                src.backup(live)
            finally:
                src.close()
    elif db.is_postgres():
        args, env = _pg_env_args(db.current_url())
        _run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction"] + args
                  + [str(source)], env)
    db.close()
    db.connect(db.current_url())  # reconnect and upgrade the schema if the backup was older
    access.set_current(None)


BACKUP_PREFIX = "dangjian-"


def dated_name(now=None) -> str:
    """The name of an automatic backup: ``dangjian-YYYYMMDD-HHMMSS.db`` (``.dump`` on PostgreSQL)."""
    import datetime as dt

    now = now or dt.datetime.now()
    return f"{BACKUP_PREFIX}{now:%Y%m%d-%H%M%S}" + (".db" if db.is_sqlite() else ".dump")


def prune(folder: Path, days: int, keep: Path | None = None) -> list[Path]:
    """Delete dated backups older than ``days`` days in ``folder``, and leftover ``.part`` files of
    killed backups older than an hour; never ``keep`` (the backup just written)."""
    import time

    if days < 1:
        raise UserError(tr("--prune 的天数至少为 1", "--prune takes at least 1 day"))
    now = time.time()
    removed = []
    for p in sorted(folder.iterdir()):
        name = p.name
        dated = name.startswith(BACKUP_PREFIX) and name.endswith((".db", ".dump"))
        part = name.startswith(f".{BACKUP_PREFIX}") and ".part" in name
        if not (dated or part) or not p.is_file() or p.is_symlink() or (keep and p == keep):
            continue
        age = now - p.stat().st_mtime
        if (dated and age > days * 86400) or (part and age > 3600):
            p.unlink()
            removed.append(p)
    return removed


def service_backup_dir() -> Path | None:
    """Under the service account (:mod:`core.server`): the configured backup folder; else None."""
    from core import server

    d = server.deployment()
    if not d.service:
        return None
    if not d.backup_dir:
        raise UserError(tr("系统配置 {p} 没有 backup_dir（备份目录）", "the system config {p} names no backup_dir",
                           p=d.path))
    return d.backup_dir
