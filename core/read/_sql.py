"""Shared raw-SQL helpers of the read queries (private to :mod:`core.read`).

Statements are written with ``?`` placeholders (turned into ``%s`` on PostgreSQL).
Prefix search is an index range (``name >= 'x' AND name < 'y'``) in code-point order on
both databases (:func:`prefix_condition`): SQLite's own order, and ``COLLATE "C"`` on
PostgreSQL, which its prefix indexes are built with (:func:`core.db.bytewise`), so one index serves
the range and the order of the list; :func:`_prefix` is the portable peewee form.
"""
from __future__ import annotations

import datetime as dt

from peewee import fn

from core.db import bytewise, database, is_postgres


def _rows(sql: str, params=()) -> list[tuple]:
    if is_postgres():
        sql = sql.replace("?", "%s")
    return list(database.execute_sql(sql, tuple(params)).fetchall())


def _dicts(sql: str, params=()) -> list[dict]:
    if is_postgres():
        sql = sql.replace("?", "%s")
    cur = database.execute_sql(sql, tuple(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _scalar(sql: str, params=()):
    rows = _rows(sql, params)
    return rows[0][0] if rows else None


def _in(ids) -> tuple[str, list]:
    """``(?, ?, …)`` and the params for an IN list (never empty)."""
    ids = sorted(ids)
    if not ids:
        return "(NULL)", []
    return "(" + ", ".join("?" for _ in ids) + ")", list(ids)


def _prefix_upper(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (code-point order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def prefix_condition(column: str, prefix: str, *, indexed: bool = True) -> tuple[str, list]:
    """``column`` starts with ``prefix``, as an index range in code-point order.
    ``indexed=False`` keeps SQLite's planner (which has no statistics) off the column's
    index, for a query that another index serves better."""
    col = bytewise(column) if is_postgres() or indexed else "+" + column
    return f"({col} >= ? AND {col} < ?)", [prefix, _prefix_upper(prefix)]


def _scope_sql(column: str, view) -> tuple[str, list]:
    """``column`` (community ids) limited to the view's communities."""
    ids_ = view.community_ids
    if ids_ is None:
        return "1 = 1", []
    c, p = _in(ids_)
    return f"{column} IN {c}", p


def _date(v):
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _prefix(field, text):
    """Exact prefix match for peewee, portable (no LIKE/GLOB differences between backends)."""
    return fn.SUBSTR(field, 1, len(text)) == text
