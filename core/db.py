"""Database connection (数据库连接).

``database`` is a peewee ``DatabaseProxy`` bound by :func:`connect` from a
``playhouse.db_url`` URL: ``--db URL``, then ``DANGJIAN_DB``, then an SQLite
file in the user data directory.  SQLite runs in WAL mode with foreign keys on
and a busy timeout; every write transaction on SQLite begins IMMEDIATE
(:func:`write_tx`), because a deferred transaction that upgrades from read to
write cannot be helped by ``busy_timeout`` (DESIGN.md's measured figures).
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

from peewee import DatabaseProxy, PostgresqlDatabase, SqliteDatabase

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    # 16 KiB pages for new databases (before WAL mode fixes the size): five indexes on the member table and
    # an audit row per change make bulk imports ~10 % faster than with 4 KiB pages (bench/import_members.py)
    "page_size": 16384,
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 30000,
    "cache_size": -64000,
    "synchronous": "normal",
}

_lock = threading.Lock()
_current_url: str | None = None


class DatabaseError(Exception):
    """A database URL or connection problem a user can act on."""


def default_url() -> str:
    """The SQLite file in the user data directory (platformdirs)."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("dangjian", appauthor=False))
    return f"sqlite:///{folder / 'dangjian.db'}"


def resolve_url(url: str | None = None) -> str:
    return url or os.environ.get("DANGJIAN_DB") or default_url()


def make_database(url: str):
    """Build (but do not bind) a peewee database for ``url``."""
    if url.startswith("sqlite:///:memory:") or url == "sqlite://":
        raise DatabaseError("in-memory SQLite is not supported (one database per thread); use a file")
    if url.startswith("sqlite:"):
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else None
        if not path:
            raise DatabaseError(f"bad SQLite URL {url!r}: use sqlite:///path/to/file.db")
        try:
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot create the folder for {path}: {exc.strerror}") from None
        return SqliteDatabase(str(Path(path).expanduser()), pragmas=SQLITE_PRAGMAS,
                              timeout=30, check_same_thread=False)
    if url.startswith(("postgres://", "postgresql://")):
        try:
            import psycopg2  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on extras
            raise DatabaseError("PostgreSQL needs psycopg2: pip install 'dangjian[postgres]'") from exc
        from playhouse.db_url import parse

        kw = parse(url)
        return PostgresqlDatabase(kw.pop("database"), autorollback=False, **kw)
    raise DatabaseError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://…")


def connect(url: str | None = None, *, migrate: bool = True) -> str:
    """Bind ``database`` to ``url`` (resolved as above) and create/upgrade the schema.

    Returns the URL in use.  Calling it again with another URL rebinds.
    """
    global _current_url
    url = resolve_url(url)
    with _lock:
        if _current_url is not None and not database.is_closed():
            database.close()
        db = make_database(url)
        database.initialize(db)
        _current_url = url
    try:
        database.connect(reuse_if_open=True)
    except Exception as exc:
        raise DatabaseError(f"cannot open database {redact(url)}: {exc}") from exc
    if migrate:
        from core.migrations import migrate as run_migrations

        run_migrations()
    return url


def sqlite_path() -> str | None:
    """The file of the bound SQLite database (None on PostgreSQL or when unbound)."""
    url = _current_url
    if url and url.startswith("sqlite:///"):
        return str(Path(url[len("sqlite:///"):]).expanduser())
    return None


def current_url() -> str | None:
    return _current_url


def redact(url: str) -> str:
    """The URL with any password replaced by ***."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        return f"{scheme}://{creds}@{host}"
    return url


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


@contextmanager
def write_tx():
    """A write transaction: ``BEGIN IMMEDIATE`` on SQLite, plain on PostgreSQL.

    Nested use becomes a savepoint.  SQLite writers of all processes take turns
    first come, first served (:mod:`core.writequeue`).
    """
    if is_sqlite() and not database.in_transaction():
        from core.writequeue import queued

        with queued(database.obj.database):
            with database.atomic("IMMEDIATE") as tx:
                yield tx
    else:
        with database.atomic() as tx:
            yield tx


def executemany(sql: str, rows) -> None:
    """Bulk path: the DB-API ``executemany`` (``execute_values`` on PostgreSQL).

    ``sql`` uses ``?`` placeholders; they are rewritten for PostgreSQL.
    Call inside :func:`write_tx`.
    """
    rows = list(rows) if not isinstance(rows, list) else rows
    if not rows:
        return
    cursor = database.cursor()
    if is_postgres():
        from psycopg2.extras import execute_batch, execute_values

        if " VALUES " not in sql:  # UPDATE … WHERE id = ?: batched statements
            execute_batch(cursor, sql.replace("?", "%s"), rows, page_size=1000)
            return
        head, _, tail = sql.partition(" VALUES ")
        tail = tail.strip()
        # "(?, ?, ?) ON CONFLICT ..." -> "%s ON CONFLICT ..."
        close = tail.index(")") + 1
        template = tail[:close].replace("?", "%s")
        rest = tail[close:]
        execute_values(cursor, f"{head} VALUES %s{rest}", rows, template=template, page_size=1000)
    else:
        cursor.executemany(sql, rows)


def close() -> None:
    if _current_url is not None and not database.is_closed():
        database.close()
