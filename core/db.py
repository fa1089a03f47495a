"""Database connection (数据库连接).

``database`` is a peewee ``DatabaseProxy`` bound by :func:`connect` from a
``playhouse.db_url`` URL: ``--db URL``, then ``DANGJIAN_DB``, then an SQLite
file in the user data directory.  SQLite runs in WAL mode with foreign keys on
and a busy timeout; every write transaction on SQLite begins IMMEDIATE
(:func:`write_tx`), because a deferred transaction that upgrades from read to
write cannot be helped by ``busy_timeout`` (measured: see bench/concurrency.py).
"""
from __future__ import annotations

import itertools
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

from peewee import ColumnBase, DatabaseProxy, Node, PostgresqlDatabase, SqliteDatabase

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
        _refuse_special_file(Path(path).expanduser())
        _create_private(Path(path).expanduser())
        return SqliteDatabase(str(Path(path).expanduser()), pragmas=SQLITE_PRAGMAS,
                              timeout=30, check_same_thread=False)
    if url.startswith(("postgres://", "postgresql://")):
        try:
            import psycopg2  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on extras
            raise DatabaseError("PostgreSQL needs psycopg2: pip install 'dangjian[postgres]'") from exc
        kw = parse_url(url)
        return PostgresqlDatabase(kw.pop("database"), autorollback=False, **kw)
    raise DatabaseError(f"unsupported database URL {redact(url)!r}: use sqlite:///FILE or postgresql://…")


def _create_private(path: Path) -> None:
    """A new database file is made here, before SQLite opens it, with the mode of its folder:
    0660 in a setgid folder (the group shares it), else 0600 -- never world-readable.  SQLite
    gives its -wal and -shm files the database file's mode."""
    from core.fsmodes import create_exclusive, shared_mode

    if path.exists():
        return
    try:
        create_exclusive(path, shared_mode(path.parent))
    except OSError as exc:
        raise DatabaseError(f"cannot create the database {path}: {exc.strerror}") from None


def _refuse_special_file(path: Path) -> None:
    """An SQLite database is a regular file (or not there yet): a device, a folder or a pipe is refused."""
    import stat

    try:
        mode = path.stat().st_mode
    except OSError:
        return  # not there yet (SQLite creates it), or SQLite will say why it cannot open it
    if stat.S_ISDIR(mode):
        raise DatabaseError(f"{path} is a folder, not a database file")
    if not stat.S_ISREG(mode):
        raise DatabaseError(f"{path} is not a regular file (a device or a pipe), so it cannot hold a database")


def parse_url(url: str) -> dict:
    """``playhouse.db_url.parse`` of a PostgreSQL URL; a malformed one (a port that is not a number or
    out of range, a broken IPv6 host …) is a DatabaseError naming the URL with its password hidden."""
    from playhouse.db_url import parse

    try:
        kw = parse(url)
        if kw.get("host"):
            _check_host(str(kw["host"]))
    except (ValueError, TypeError) as exc:
        raise DatabaseError(f"bad database URL {redact(url)}: {scrub(str(exc), url)}") from None
    if not kw.get("database"):
        raise DatabaseError(f"bad database URL {redact(url)}: no database name (postgresql://user@host:5432/NAME)")
    return kw


def _check_host(host: str) -> None:
    """A bracketed or colon-holding host must be an IPv6 address."""
    import ipaddress

    if ":" in host:
        ipaddress.IPv6Address(host.split("%", 1)[0])


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
        reason = " ".join(scrub(str(exc), url).split())  # one line: drivers' messages run over several
        raise DatabaseError(f"cannot open database {redact(url)}: {reason}") from None
    from core import migrations

    migrations.bind(database, write_tx)  # the schema steps are handed the database: they never import this module
    if migrate:
        global last_upgrade
        last_upgrade = migrations.migrate()
    return url


last_upgrade: tuple[int, int] | None = None  # (old, new) schema version of the last automatic migrate


def sqlite_path() -> str | None:
    """The file of the bound SQLite database (None on PostgreSQL or when unbound)."""
    url = _current_url
    if url and url.startswith("sqlite:///"):
        return str(Path(url[len("sqlite:///"):]).expanduser())
    return None


def current_url() -> str | None:
    return _current_url


def _passwords(url: str) -> list[str]:
    """The secrets written in ``url``: the password of its user part and any ``password=`` query value
    (as written and percent-decoded), longest first."""
    from urllib.parse import unquote_plus

    rest = url.split("://", 1)[1] if "://" in url else url
    head, _, query = rest.partition("?")
    out = []
    if "@" in head:
        creds = head.rsplit("@", 1)[0]
        if ":" in creds:
            out.append(creds.split(":", 1)[1])
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if "password" in key.lower():
            out.append(value)
    out += [unquote_plus(p) for p in out]
    return sorted({p for p in out if p}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's error message, say) with every password of ``url`` replaced by ***."""
    for pw in _passwords(url):
        text = text.replace(pw, "***")
    return text


def redact(url: str) -> str:
    """The URL with any password replaced by ***: the one in ``user:password@`` and any
    ``password=`` (or ``sslpassword=`` …) in the query string."""
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    rest, q, query = rest.partition("?")
    if "@" in rest:
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        rest = f"{creds}@{host}"
    if q:
        parts = []
        for part in query.split("&"):
            key, eq, value = part.partition("=")
            parts.append(f"{key}=***" if eq and "password" in key.lower() else part)
        query = "&".join(parts)
    return f"{scheme}://{rest}{q}{query}"


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def refresh_statistics(tables) -> None:
    """After a bulk load (the demo, a large import): PostgreSQL's planner statistics of
    ``tables`` gathered now, not when autovacuum next passes (up to a minute later, and until
    then a table of millions of rows is planned as if nearly empty: sequential scans and hash
    joins where an index would answer).  SQLite keeps no statistics unless asked, and its
    plans do not depend on them: nothing.  A table the role does not own is skipped by the
    server with a warning, never an error."""
    names = sorted({str(t) for t in tables})
    for name in names:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"not a table name: {name!r}")
    if names and is_postgres():
        database.execute_sql("ANALYZE " + ", ".join(f'"{n}"' for n in names))


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
    cursor = database.cursor()
    if is_postgres():
        rows = list(rows) if not isinstance(rows, list) else rows
        if not rows:
            return
        from psycopg2.extras import execute_batch, execute_values

        if " VALUES " not in sql:  # UPDATE … WHERE id = ?: one set-based UPDATE … FROM, else batched statements
            form = _update_form(sql) if len(rows) >= _SET_UPDATE_MIN else None
            if form is None or not _update_from(cursor, form, rows):
                execute_batch(cursor, sql.replace("?", "%s"), rows, page_size=1000)
            return
        form = _copy_form(sql)
        if form is not None:  # a plain INSERT (no ON CONFLICT, RETURNING …): COPY, several times faster
            _copy_rows(cursor, *form, rows)
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


#: Rows from which an ``UPDATE … WHERE "id" = ?`` on PostgreSQL goes through a staged table
#: (:func:`_update_from`); fewer are sent as batched statements.
_SET_UPDATE_MIN = 200

_UPDATE_RE = re.compile(r'UPDATE ("[a-z_]+") SET (.+) WHERE ("[a-z_]+") = \?')
_ASSIGN_RE = re.compile(r'("[a-z_]+") = (.+)')


def _update_form(sql: str):
    """``(table, key column, [(column, None for a ? | its SQL)])`` of ``UPDATE "t" SET "a" = ?,
    "version" = "version" + 1 WHERE "id" = ?``: every ``?`` a whole assigned value but the key's
    last; None for any other statement."""
    m = _UPDATE_RE.fullmatch(sql.strip())
    if m is None:
        return None
    table, sets, key = m.groups()
    out = []
    for part in sets.split(", "):
        a = _ASSIGN_RE.fullmatch(part)
        if a is None:
            return None
        column, value = a.groups()
        if value == "?":
            out.append((column, None))
        elif "?" in value or "(" in value or "'" in value or "," in value:
            return None  # a mark inside an expression, or one whose commas the split above broke
        else:
            out.append((column, value))
    if not any(v is None for _c, v in out):
        return None
    return table, key, out


def _update_from(cursor, form, rows) -> bool:
    """``rows`` of an :func:`_update_form` statement as one ``UPDATE … FROM`` a temporary table
    they are copied into (``COPY``), the same effect as the statements one row at a time; False
    (nothing done) when a key comes twice, where the statements' order would count."""
    table, key, assigns = form
    marks = [c for c, v in assigns if v is None]
    width = len(marks) + 1
    keys = set()
    for row in rows:
        if len(row) != width:
            return False
        keys.add(row[-1])
    if len(keys) != len(rows):
        return False
    # dropped at the end, and by the rollback of a failure (a temporary table is transactional)
    stage = "_dangjian_update"
    staged = [f'"_v{i}"' for i in range(len(marks))]  # the i-th ? of the SET, as the staged table's column
    cols = ", ".join(f"{c} AS {n}" for c, n in zip(marks, staged))
    cursor.execute(f'CREATE TEMP TABLE "{stage}" AS SELECT {cols}, {key} AS "_k" FROM {table} WITH NO DATA')
    _copy_rows(cursor, f'COPY "{stage}" ({", ".join(staged)}, "_k") FROM STDIN', None, rows)
    of = iter(staged)
    sets = ", ".join(f"{c} = s.{next(of)}" if v is None else f"{c} = {v}" for c, v in assigns)
    cursor.execute(f'UPDATE {table} SET {sets} FROM "{stage}" AS s WHERE {table}.{key} = s."_k"')
    cursor.execute(f'DROP TABLE "{stage}"')
    return True


def _copy_text(v) -> str:
    """A value in PostgreSQL's COPY text format."""
    if v is None:
        return "\\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    v = v if v.__class__ is str else str(v)
    if "\\" in v or "\t" in v or "\n" in v or "\r" in v:
        v = v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return v


def _copy_form(sql: str):
    """``(COPY statement, slots)`` for ``INSERT INTO "t" (cols) VALUES (…)`` whose values are
    ``?`` marks and plain literals (integers, ``NULL``, quoted text): each slot is None (the
    next value of a row) or the literal in COPY's text format.  None for anything else."""
    head, sep, tail = sql.partition(" VALUES (")
    if not sep or not head.startswith("INSERT INTO ") or not tail.endswith(")"):
        return None
    slots: list = []
    inner, i, n = tail[:-1], 0, len(tail) - 1
    while i < n:
        while i < n and inner[i] == " ":
            i += 1
        if inner.startswith("'", i):  # quoted text, '' for a quote
            j, text = i + 1, []
            while True:
                k = inner.find("'", j)
                if k < 0:
                    return None
                text.append(inner[j:k])
                if inner.startswith("''", k):
                    text.append("'")
                    j = k + 2
                    continue
                i = k + 1
                break
            slots.append(_copy_text("".join(text)))
        else:
            k = inner.find(",", i)
            token = inner[i:k if k >= 0 else n].strip()
            i = k if k >= 0 else n
            if token == "?":
                slots.append(None)
            elif token.upper() == "NULL":
                slots.append("\\N")
            elif token.lstrip("-").isdigit():
                slots.append(str(int(token)))
            else:  # an expression, a cast, a closing clause …: not for COPY
                return None
        while i < n and inner[i] == " ":
            i += 1
        if i < n:
            if inner[i] != ",":
                return None
            i += 1
    return "COPY " + head[len("INSERT INTO "):] + " FROM STDIN", slots


def _copy_fields(row, text) -> list[str]:
    # the common values inline (ints, strings without anything to escape, NULL): ~2x faster
    return [str(v) if v.__class__ is int
            else (v if v.isprintable() and "\\" not in v else text(v)) if v.__class__ is str
            else "\\N" if v is None else text(v) for v in row]


def _copy_line(row, text) -> str:
    return "\t".join(_copy_fields(row, text))


class _CopyText:
    """A file for ``copy_expert`` that makes COPY's text as the driver reads it: the rows are
    encoded here while the server stores the ones already sent (two processes, each on its own
    core), and never as one text."""

    def __init__(self, chunks):
        self._chunks = chunks
        self._buf = ""
        self.failed: BaseException | None = None  # what the rows raised (the driver reports it as a cancel)

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self._buf) < size:
            try:
                chunk = next(self._chunks, None)
            except BaseException as exc:
                self.failed = exc
                raise
            if chunk is None:
                break
            self._buf += chunk
        if size < 0 or len(self._buf) <= size:
            out, self._buf = self._buf, ""
        else:
            out, self._buf = self._buf[:size], self._buf[size:]
        return out


_COPY_CHUNK = 2000  # rows encoded at a time for the driver to send


def _copy_rows(cursor, sql: str, slots, rows) -> None:
    """``COPY`` ``rows`` through ``cursor``, one statement streamed as it is encoded; ``slots``
    (None: every value from the row) puts :func:`_copy_form`'s literals between a row's values."""
    text = _copy_text
    fixed = None if slots is None or all(s is None for s in slots) else slots
    # the literals written into a line's form once, the row's values put in its %s by one % a row
    form = None if fixed is None else "\t".join("%s" if s is None else s.replace("%", "%%") for s in fixed)

    def chunks():
        buf: list[str] = []
        for row in rows:
            if form is None:
                buf.append(_copy_line(row, text))
            else:
                buf.append(form % tuple(_copy_fields(row, text)))
            if len(buf) >= _COPY_CHUNK:
                yield "\n".join(buf) + "\n"
                buf = []
        if buf:
            yield "\n".join(buf) + "\n"

    source = _CopyText(chunks())
    try:
        cursor.copy_expert(sql, source, size=1 << 16)
    except Exception:
        if source.failed is not None:  # the rows' own error, not the driver's word for it
            raise source.failed from None
        raise


def copy_in(table: str, columns, rows) -> None:
    """Bulk insert of plain tuples into ``table`` (``columns`` in their order): ``COPY … FROM
    STDIN`` on PostgreSQL (several times faster than INSERT batches), ``executemany`` on
    SQLite.  Call inside :func:`write_tx`."""
    columns = list(columns)
    cols = ", ".join(f'"{c}"' for c in columns)
    if not is_postgres():
        marks = ", ".join("?" for _ in columns)
        executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)
        return
    _copy_rows(database.cursor(), f'COPY "{table}" ({cols}) FROM STDIN', None, rows)


_INHERITED: list = []  # a forked worker's copy of its parent's connection: never used, never closed


def reopen_in_child() -> None:
    """In a forked worker (:mod:`core.procs`): bind ``database`` to a read-only connection of its
    own.  The parent's connection is kept, unused and unclosed, until the worker ends with
    ``os._exit``: closing it here would touch the parent's WAL (SQLite) or end the parent's
    session on the server (PostgreSQL)."""
    old = database.obj
    _INHERITED.append(old)
    if isinstance(old, SqliteDatabase):
        pragmas = {k: v for k, v in SQLITE_PRAGMAS.items() if k not in ("journal_mode", "page_size")}
        pragmas["query_only"] = 1
        database.initialize(SqliteDatabase(old.database, pragmas=pragmas, timeout=30, check_same_thread=False))
    else:
        database.initialize(make_database(_current_url))
        database.connect(reuse_if_open=True)
        database.execute_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        _SEQUENCES.append(None)  # next_ids: this session refuses nextval; a connection of its own serves it


_SEQUENCES: list = []  # a forked worker's connection for next_ids (None until first used)


def next_ids(table: str, n: int) -> list[int]:
    """``n`` new ids of ``table`` from its sequence (PostgreSQL).  A forked worker's session is
    read-only (:func:`reopen_in_child`) and PostgreSQL counts ``nextval`` as a write, so there
    they come through a second connection of the worker's own, in autocommit: a sequence
    stands outside every transaction anyway (an import rolled back leaves a gap in the ids,
    as any rolled-back insert does)."""
    if not n:
        return []
    sql = "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"
    if _SEQUENCES:
        if _SEQUENCES[0] is None:
            conn = make_database(_current_url)
            conn.connect()
            conn.connection().autocommit = True
            _SEQUENCES[0] = conn
        cur = _SEQUENCES[0].cursor()
        cur.execute(sql, (table, n))
    else:
        cur = database.execute_sql(sql, (table, n))
    return [r[0] for r in cur.fetchall()]


def id_list(ids):
    """Record ids for ``field.in_(id_list(ids))``: written into the SQL as integer literals,
    not one parameter each (peewee builds an object per parameter, ~10 µs an id; a city's
    rules send over 100,000 ids).  Only integers pass: anything else raises TypeError."""
    out = []
    for i in ids:
        if i.__class__ is not int:
            if not isinstance(i, int) or isinstance(i, bool):
                raise TypeError(f"id_list takes integer ids, not {type(i).__name__}")
            i = int(i)
        out.append(i)
    return _IdList(out)


class _IdList(ColumnBase):
    """The SQL ``(1,2,3)`` of integer ids checked by :func:`id_list`."""

    def __init__(self, ids: list[int]):
        super().__init__()
        self.ids = ids

    def __sql__(self, ctx):
        return ctx.literal("(" + ",".join(map(str, self.ids)) + ")" if self.ids else "(NULL)")


def agg_text(field):
    """SQL aggregate: the values of a group as one comma-separated text (group_concat / string_agg)."""
    from peewee import Cast, fn

    if is_sqlite():
        return fn.group_concat(field)
    return fn.string_agg(Cast(field, "text"), ",")


def month_of(field):
    """SQL expression: the ``'YYYY-MM'`` of a date column."""
    from peewee import fn

    if is_sqlite():
        return fn.substr(field, 1, 7)
    return fn.to_char(field, "YYYY-MM")


def bytewise(column: str) -> str:
    """``column`` (SQL text) compared in code-point order: as it is on SQLite, ``COLLATE "C"`` on
    PostgreSQL (the collation of its prefix indexes; the database's own may be any)."""
    return f'{column} COLLATE "C"' if is_postgres() else column


def bytewise_field(field):
    """:func:`bytewise` for a peewee field or expression: what ``order_by`` takes to sort in
    code-point order (the order of Python's ``sorted`` on strings) on both databases."""
    from peewee import SQL, NodeList

    return NodeList((field, SQL('COLLATE "C"'))) if is_postgres() else field


_STREAMS = itertools.count(1)  # names of this process's server-side cursors


def stream_rows(query, block: int = 5000):
    """The rows (tuples) of a peewee ``query``, read ``block`` at a time and never all at once:
    through a server-side cursor on PostgreSQL (its driver otherwise reads a whole result into
    memory before the first row; ``WITH HOLD``, as the connection commits each statement of
    its own), from the cursor as it steps on SQLite.  Other statements may run on the
    connection between the rows."""
    sql, params = query.sql()
    if not is_postgres():
        cur = database.execute_sql(sql, params)
        while rows := cur.fetchmany(block):
            yield from rows
        return
    cur = database.connection().cursor(name=f"dangjian_rows_{next(_STREAMS)}", withhold=True)
    cur.itersize = block
    try:
        cur.execute(sql, params)
        while rows := cur.fetchmany(block):
            yield from rows
    finally:
        cur.close()


def in_ids(ids):
    """What ``field.in_()`` takes for ``ids``: a subquery (or an :func:`id_list`) as it is, a list
    of ids as :func:`id_list`."""
    return ids if isinstance(ids, Node) else id_list(ids)


def close() -> None:
    if _current_url is not None and not database.is_closed():
        database.close()
