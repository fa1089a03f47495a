"""Audit log (审计日志): who, when, which record, old → new.

Every create, update and delete writes one :class:`core.models.AuditLog` row:
the login of :func:`core.access.current`, the time, the action
(``create`` / ``update`` / ``delete``), the table (the model's table name,
e.g. ``member``, ``dues_payment``), the key (the row id as text), the old and
the new values as JSON (for an update only the fields that changed), and the
id of the community the record belongs to, so that reading the log is scoped
like every other query.

Writers:

- :func:`record` — one row, inside the caller's write transaction
  (:mod:`core.records` uses it for every UI / CLI edit).
- :func:`record_many` — the bulk path for imports: a list of
  :class:`Entry` written with one ``executemany`` inside the import's own
  write transaction (so a killed import leaves no audit rows either).

Readers: :func:`history` (a record's history, for the UI) and :func:`query`
(filters of ``dangjian audit``, whose handler is :mod:`core.cli.audit`).
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Iterable

from core import access
from core.view import View

ACTIONS = ("create", "update", "delete", "refuse")  # refuse: an import that refused rows


def _default(value):
    conv = _PLAIN.get(value.__class__)  # the common cases (import rows: dates, money) by exact type
    if conv is not None:
        return conv(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if hasattr(value, "id") and hasattr(value, "_meta"):  # a model instance: its id
        return value.id
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def to_json(values: dict | None) -> str | None:
    """Values as JSON text (dates ISO, money as strings, records as ids); None stays None."""
    if values is None:
        return None
    return _encode(values)


_PLAIN = {dt.date: dt.date.isoformat, dt.datetime: dt.datetime.isoformat, decimal.Decimal: decimal.Decimal.__str__}


def _encoder():
    """One encoder for every row (100k rows an import): the C encoder itself when there is one.

    ``JSONEncoder.encode`` builds a new C encoder per call; the text is the same
    either way (``ensure_ascii=False``, sorted keys, ``default`` for the rest).
    """
    enc = json.JSONEncoder(ensure_ascii=False, default=_default, sort_keys=True)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - pure-Python json
        return enc.encode
    try:
        it = make(None, _default, json.encoder.encode_basestring, None, enc.key_separator, enc.item_separator,
                  True, False, True)
        probe = {"b": dt.date(2024, 1, 2), "a": [1, "\u4e2d", None, True, decimal.Decimal("1.50")]}
        if "".join(it(probe, 0)) != enc.encode(probe):
            return enc.encode  # pragma: no cover - another json version
    except TypeError:  # pragma: no cover - another signature
        return enc.encode
    # values that are all of these exact types: str() is what _default gives (date ISO, money as text)
    plain = {str, int, float, bool, type(None), dt.date, decimal.Decimal}
    it_plain = make(None, str, json.encoder.encode_basestring, None, enc.key_separator, enc.item_separator,
                    True, False, True)
    join = "".join

    def encode(values):
        if values.__class__ is not dict:
            return enc.encode(values)
        if set(map(type, values.values())) <= plain:
            return join(it_plain(values, 0))
        return join(it(values, 0))
    return encode


_encode = _encoder()

_quote = json.encoder.encode_basestring  # ensure_ascii=False, as _encode
_BOOL = {True: "true", False: "false"}


def _iso_quoted(v) -> str:
    return '"' + v.isoformat() + '"'


def _text_quoted(v) -> str:
    return '"' + str(v) + '"'


def _any_value(v) -> str:
    return json.dumps(v, ensure_ascii=False, default=_default, sort_keys=True)


def encode_columns(names: list[str], columns: list[list]) -> list[str]:
    """Many records' JSON at once, column by column (a bulk import's "create" rows).

    ``names`` sorted, ``columns[i]`` the values of ``names[i]`` per record.
    Record j's text is ``to_json`` of ``{names[i]: columns[i][j]}`` without
    the None values — the same text, about three times as fast for 100k records:
    a column of few values (a class, a community, 是/否) has each value's text made
    once, and a column without blanks joins its key and its values in the row's join.
    """
    frags = []
    none = type(None)
    n = len(columns[0]) if columns else 0
    for name, col in zip(names, columns):
        kinds = set(map(type, col))
        has_none = none in kinds
        kinds.discard(none)
        if not kinds:
            continue
        if kinds == {str}:
            conv = _quote
        elif kinds == {int}:
            conv = int.__repr__
        elif kinds == {bool}:
            conv = _BOOL.__getitem__
        elif kinds <= {dt.date}:
            conv = _iso_quoted
        elif kinds <= {decimal.Decimal}:
            conv = _text_quoted
        else:
            conv = _any_value
        pre = ", " + _quote(name) + ": "
        if len(kinds) == 1 and kinds <= _MEMO_KINDS:  # equal values, equal text (not so for Decimal: 1.0, 1.00)
            distinct = set(col)
            if len(distinct) * 4 <= n:
                memo = {v: "" if v is None else pre + conv(v) for v in distinct}
                frags.append(list(map(memo.__getitem__, col)))
                continue
        if has_none:
            frags.append(["" if v is None else pre + conv(v) for v in col])
        else:
            frags.append(repeat(pre))
            frags.append(list(map(conv, col)))
    if not frags:
        return ["{}"] * n
    join = "".join
    return ["{" + join(r)[2:] + "}" for r in zip(*frags)]  # [2:]: the first value's ", "


_MEMO_KINDS = frozenset((str, int, bool))


@dataclass
class Entry:
    """One audit row for :func:`record_many` (``old`` / ``new`` dicts or None)."""
    action: str
    table: str
    key: Any
    old: dict | None = None
    new: dict | None = None
    community: int | None = None


def login_of(user: str | None) -> str:
    if user:
        return user
    return access.current().login


def record(action: str, table: str, key, old: dict | None = None, new: dict | None = None,
           community: int | None = None, user: str | None = None, at: dt.datetime | None = None) -> None:
    """Write one audit row.  Call inside the write transaction of the change itself."""
    from core.models import AuditLog

    if action not in ACTIONS:
        raise ValueError(f"audit action must be one of {ACTIONS}, not {action!r}")
    AuditLog.insert(at=at or dt.datetime.now(), user=login_of(user), action=action, table=table,
                    key=str(key), old=to_json(old), new=to_json(new), community=community).execute()


INSERT_SQL = ('INSERT INTO "audit_log" ("at", "user", "action", "table", "key", "old", "new", "community", '
              '"version") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')


def rows_for(entries: Iterable[Entry], user: str | None = None, at: dt.datetime | None = None) -> list[tuple]:
    """The rows :func:`record_many` writes (for :data:`INSERT_SQL`): plain str / int / None values."""
    login = login_of(user)
    when = (at or dt.datetime.now()).isoformat(sep=" ")
    rows = []
    append = rows.append
    encode = _encode
    for e in entries:
        action, old, new = e.action, e.old, e.new
        if action not in ACTIONS:
            raise ValueError(f"audit action must be one of {ACTIONS}, not {action!r}")
        append((when, login, action, e.table, str(e.key), None if old is None else encode(old),
                None if new is None else encode(new), e.community, 1))
    return rows


def record_many(entries: Iterable[Entry], user: str | None = None, at: dt.datetime | None = None) -> int:
    """Bulk audit rows (imports): one ``executemany``; call inside the import's write transaction.

    Returns the number of rows written.
    """
    from core import db

    rows = rows_for(entries, user, at)
    if rows:
        db.executemany(INSERT_SQL, rows)
    return len(rows)


# ---------------------------------------------------------------- reading

def query(user: str | None = None, since: dt.date | dt.datetime | None = None, table: str | None = None,
          key: str | None = None, limit: int | None = 200, view: View | None = None):
    """Audit rows, newest first, within ``view`` (default: the current user's whole scope;
    rows of no community — towns, wages, users — only for whole-city views)."""
    from core.models import AuditLog

    q = AuditLog.select()
    if user:
        q = q.where(AuditLog.user == user)
    if since:
        if not isinstance(since, dt.datetime):
            since = dt.datetime.combine(since, dt.time())
        q = q.where(AuditLog.at >= since)
    if table:
        q = q.where(AuditLog.table == table)
    if key is not None:
        q = q.where(AuditLog.key == str(key))
    q = (view or View.of()).scoped(q, AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if limit:
        q = q.limit(limit)
    return q


def history(table, key, view: View | None = None) -> list[dict]:
    """A record's history, oldest first: ``[{at, user, action, old, new}]`` (old/new as dicts).

    ``table`` is a table name or a model class; ``key`` the row id.  Rows outside ``view``
    (default: the current user's whole scope) are left out; personal data are shown as the
    view shows them (:meth:`core.view.View.mask_values`).
    """
    view = view or View.of()
    if hasattr(table, "_meta"):
        table = table._meta.table_name
    rows = list(query(table=table, key=str(key), limit=None, view=view))
    rows.reverse()
    return [{"at": r.at, "user": r.user, "action": r.action,
             "old": view.mask_values(json.loads(r.old) if r.old else None),
             "new": view.mask_values(json.loads(r.new) if r.new else None)} for r in rows]
