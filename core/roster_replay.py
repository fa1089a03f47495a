"""The roster's history: from a member's record and moves to the spans of days on the roster.

The one definition of "where was this member on day D": the member record
holds the state of today (organization, community, management class, on the
roster or transferred out on ``left_date``), and every dated move before it is
undone, newest first:

* a transfer (组织关系转接) dated D takes effect on D -- 转入: not on the city
  roster before D; 转出: off the roster from D, before it in the organization
  left (原组织); 市内转移: the old organization (原组织) through D−1, the new one
  from D;
* a class change (党员类别变更) dated D: its ``old_class`` through D−1;
* the placement (编入, ``placed_date``) of a 流入党员: no organization before it
  (the member is counted in the community that received them);
* joining the Party (入党日期): nobody is on the roster before it.

转正 needs no span: a member is formal at D when 转正日期 ≤ D.  离退休 and 行动不便
are flags of today, without history.

The spans are stored in ``roster_period`` (derived data: the write path calls
:func:`rebuild` for the members whose record, transfers or class changes it
wrote, in the same transaction) so that every query "at a date" is one join
(:mod:`core.roster`).  This module imports nothing of core: the schema upgrade
that made the table uses it too.
"""
from __future__ import annotations

import datetime as dt

ONE_DAY = dt.timedelta(days=1)
# Moves on one day apply in this order (a member may arrive, be placed and change class the same day).
ORDER = {"in": 0, "place": 1, "class": 2, "intra_city": 3, "out": 4}
CHUNK = 500
BIG = 20000  # more members than this: read the tables whole and keep the members asked for


def _date(v):
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def replay(joined, placed, org, community, cls, active, left, moves, org_by_code: dict,
           org_community: dict) -> list[tuple]:
    """The spans ``(start, end, organization id, community id, management class)`` of one
    member, oldest first (``end`` None: open).

    ``org``, ``community``, ``cls``, ``active``, ``left``: the member record (today).
    ``moves``: ``(date, kind, a, b)`` -- kind ``in``/``out``/``intra_city`` with ``a``, ``b`` the
    原组织/新组织 text (an org code inside the city), or ``class`` with ``a`` the old class.
    """
    events = [(d, ORDER[kind], kind, a) for d, kind, a, _b in moves if d is not None]
    if placed is not None:
        events.append((placed, ORDER["place"], "place", None))
    events.sort(key=lambda e: (e[0], e[1]))
    comm = org_community.get(org) or community if org is not None else community
    on = bool(active) or left is not None
    hi = None if active else (left - ONE_DAY if left is not None else None)
    spans: list[list] = []

    def emit(lo):
        if on and (hi is None or hi >= lo):
            spans.append([lo, hi, org, comm, cls])

    def org_from(code):
        nonlocal org, comm
        o = org_by_code.get(code) if code else None
        if o is not None:
            org = o
            comm = org_community.get(o) or comm

    for d, _o, kind, a in reversed(events):
        emit(d)
        if kind == "in":
            on = False
        elif kind == "out":
            on = True
            org_from(a)
        elif kind == "intra_city":
            org_from(a)
        elif kind == "class":
            if a:
                cls = a
        elif kind == "place":
            org = None
        hi = d - ONE_DAY
    emit(dt.date.min)
    out: list[tuple] = []
    for lo, hi_, o, c, k in reversed(spans):
        lo = max(lo, joined)
        if hi_ is not None and hi_ < lo:
            continue
        if out and out[-1][2:] == (o, c, k) and out[-1][1] is not None and out[-1][1] + ONE_DAY == lo:
            out[-1] = (out[-1][0], hi_, o, c, k)
        else:
            out.append((lo, hi_, o, c, k))
    return out


def _joined_span(member_id, joined, org, community, cls, org_community: dict) -> tuple:
    """The one ``roster_period`` row of a member who never moved: from joining on, open."""
    return (member_id, joined.isoformat() if isinstance(joined, dt.date) else str(joined)[:10], None, org,
            org_community.get(org) or community if org is not None else community, cls)


def new_members_rows(members, org_community: dict) -> list[tuple]:
    """The ``roster_period`` rows of members just created (no moves yet, on the roster): what
    :func:`rebuild` would store, without reading them back (an import plans a block at once).

    ``members``: ``(member id, joined, placed, organization id, community id, class)`` each."""
    out = []
    append = out.append
    for mid, joined, placed, org, community, cls in members:
        if placed is None:  # one span from joining on
            append(_joined_span(mid, joined, org, community, cls, org_community))
            continue
        out.extend((mid, lo.isoformat(), hi.isoformat() if hi else None, o, c, k) for lo, hi, o, c, k in
                   replay(_date(joined), _date(placed), org, community, cls, True, None, (), {}, org_community))
    return out


def insert_joined_spans(database, member_ids) -> None:
    """Store the one open span from joining on of each member in ``member_ids`` (just created,
    never moved, not placed), copied in SQL from their own rows: what :func:`new_members_rows`
    makes for them, with no row passing through Python (an import of 100,000 members)."""
    ids = sorted(member_ids)
    runs = []  # (first, last) of consecutive ids: an import's new ids are one run, less its placed members
    for i in ids:
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    sql = ('INSERT INTO "roster_period" ("member_id", "start", "end", "organization", "community", '
           '"management_class") SELECT m."id", m."joined_date", NULL, m."organization_id", '
           'CASE WHEN m."organization_id" IS NULL THEN m."community_id" '
           'ELSE COALESCE(o."community_id", m."community_id") END, COALESCE(m."management_class", \'resident\') '
           'FROM "member" m LEFT JOIN "organization" o ON o."id" = m."organization_id" WHERE ')
    if len(runs) <= 64:
        for lo, hi in runs:
            database.execute_sql(sql + f'm."id" BETWEEN {int(lo)} AND {int(hi)}')
        return
    for i in range(0, len(ids), 20000):
        database.execute_sql(sql + f'm."id" IN ({",".join(str(int(x)) for x in ids[i:i + 20000])})')


def insert_rows(database, rows: list) -> None:
    """Store span rows made by :func:`new_members_rows` (inside the caller's transaction)."""
    p = _param(database)
    sql = ('INSERT INTO "roster_period" ("member_id", "start", "end", "organization", "community", '
           f'"management_class") VALUES ({", ".join(p for _ in range(6))})')
    cursor = database.cursor()
    if p == "%s":  # PostgreSQL: many rows a statement (the driver's executemany sends one a row)
        from psycopg2.extras import execute_values

        execute_values(cursor, sql.rpartition(" VALUES ")[0] + " VALUES %s", rows, page_size=5000)
        return
    for i in range(0, len(rows), 5000):
        cursor.executemany(sql, rows[i:i + 5000])


def _param(database) -> str:
    return getattr(database, "obj", database).param


def _rows(database, sql: str, col: str, ids) -> list:
    """Rows of ``sql`` for the rows whose ``col`` is one of ``ids`` (None: every row)."""
    if ids is None:
        return list(database.execute_sql(sql).fetchall())
    if len(ids) > BIG:  # one scan instead of thousands of look-ups
        pos = [c.strip(' "') for c in sql.split("SELECT", 1)[1].split("FROM", 1)[0].split(",")].index(col)
        want = set(ids)
        return [r for r in database.execute_sql(sql).fetchall() if r[pos] in want]
    out = []
    p = _param(database)
    for i in range(0, len(ids), CHUNK):
        part = ids[i:i + CHUNK]
        out.extend(database.execute_sql(f'{sql} WHERE "{col}" IN ({", ".join(p for _ in part)})', part).fetchall())
    return out


def _org_maps(database) -> tuple[dict, dict]:
    """Organization code -> id, and organization id -> its community id."""
    org_by_code, org_community = {}, {}
    for oid, code, comm in database.execute_sql('SELECT "id", "code", "community_id" FROM "organization"'):
        org_by_code[code] = oid
        org_community[oid] = comm
    return org_by_code, org_community


_MOVES = (('SELECT "member_id", "date", "direction", "from_org" FROM "transfer"', False),
          ('SELECT "member_id", "date", "old_class" FROM "class_change"', True))
_MEMBER_COLUMNS = ("id", "joined_date", "placed_date", "organization_id", "community_id", "management_class",
                   "active", "left_date")
_MEMBERS = "SELECT " + ", ".join(f'"{c}"' for c in _MEMBER_COLUMNS) + ' FROM "member"'
#: The member's fields a replay reads (model field names, from the columns above): a change to
#: none of them leaves the member's spans as they are (an import's updates replay only the
#: members they change so).
MEMBER_FIELDS = frozenset(c.removesuffix("_id") for c in _MEMBER_COLUMNS if c != "id")


def _add_move(moves: dict, row, is_class: bool) -> None:
    if is_class:
        mid, d, old = row
        moves.setdefault(mid, []).append((_date(d), "class", old, None))
    else:
        mid, d, direction, from_org = row
        moves.setdefault(mid, []).append((_date(d), direction, from_org, None))


def _span_rows(members, moves: dict, org_by_code: dict, org_community: dict) -> list[tuple]:
    """The ``roster_period`` rows ``(member, start, end, organization, community, class)`` of
    ``members`` (rows of ``_MEMBERS``), in their order."""
    rows = []
    for mid, joined, placed, org, comm, cls, active, left in members:
        mv = moves.get(mid)
        if mv is None and placed is None and active:  # never moved: one span from joining on
            rows.append(_joined_span(mid, joined, org, comm, cls, org_community))
            continue
        for lo, hi, o, c, k in replay(_date(joined), _date(placed), org, comm, cls, active, _date(left),
                                      mv or (), org_by_code, org_community):
            rows.append((mid, lo.isoformat(), hi.isoformat() if hi else None, o, c, k))
    return rows


def range_rows(database, first: int, last: int) -> list[tuple]:
    """The span rows of the members whose id is ``first`` to ``last``, in id order: what
    :func:`rebuild` would store for them (nothing is written; a bulk writer such as the demo
    stores them itself)."""
    p = _param(database)
    org_by_code, org_community = _org_maps(database)
    moves: dict[int, list] = {}
    for sql, is_class in _MOVES:
        for row in database.execute_sql(f'{sql} WHERE "member_id" BETWEEN {p} AND {p}', (first, last)):
            _add_move(moves, row, is_class)
    members = database.execute_sql(f'{_MEMBERS} WHERE "id" BETWEEN {p} AND {p} ORDER BY "id"', (first, last))
    return _span_rows(members, moves, org_by_code, org_community)


def rebuild(database, member_ids=None) -> int:
    """Replace the stored spans of ``member_ids`` (None: every member) by a fresh replay;
    returns how many spans were written.  Runs inside the caller's write transaction."""
    ids = None if member_ids is None else sorted({int(i) for i in member_ids})
    if ids == []:
        return 0
    org_by_code, org_community = _org_maps(database)
    moves: dict[int, list] = {}
    for sql, is_class in _MOVES:
        for row in _rows(database, sql, "member_id", ids):
            _add_move(moves, row, is_class)
    members = _rows(database, _MEMBERS, "id", ids)
    rows = _span_rows(members, moves, org_by_code, org_community)
    p = _param(database)
    if ids is None:
        database.execute_sql('DELETE FROM "roster_period"')
    else:
        step = CHUNK * 10
        for i in range(0, len(ids), step):
            part = ids[i:i + step]
            database.execute_sql(f'DELETE FROM "roster_period" WHERE "member_id" IN ({", ".join(p for _ in part)})',
                                 part)
    insert_rows(database, rows)
    return len(rows)
