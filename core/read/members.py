"""Members (党员): search and keyset pages of the roster, the command palette, one
member's page and points, member counts by class.

Lists that may be long are keyset-paged on the column searched (``id > ?  ORDER BY id
LIMIT n``), never OFFSET from the start; prefix search uses an index range
(:func:`core.read._sql.prefix_condition`).  Roster conditions come from :mod:`core.roster`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core import ids, roster
from core.dates import today
from core.db import bytewise
from core.numbers import format_score
from core.read._sql import _dicts, _in, _rows, _scalar, _scope_sql, prefix_condition
from core.read.organizations import org_subtree
from core.view import View

BLOCK = 200


# ====================================================================== search and keyset pages

@dataclass
class MemberFilter:
    """What the members list shows, in ``view``.

    ``text``: digits (and X) → ID-number prefix; ASCII letters → pinyin
    initials prefix; anything else → name prefix.  ``status``: ``active``
    (default: on the roster), ``full``, ``probationary`` (at ``on``),
    ``left`` (transferred out), ``all``.  ``organization``: an org id (its
    whole subtree).  The view's :attr:`~core.view.View.allows_id_prefix_search`
    decides the ID search: without full personal data an ID prefix longer than
    the area code shown matches nothing.
    """
    view: View
    text: str = ""
    member_class: str | None = None
    organization: int | None = None
    status: str = "active"
    allow_id_search: bool = True  # False narrows further; the view decides first
    contains: bool = False  # a name search matches anywhere in the name (月凤 finds 杨月凤), not from the start
    on: dt.date | None = None
    _org_ids: list | None = field(default=None, repr=False, compare=False)

    def search_kind(self) -> str:
        return search_kind(self.text)


def search_kind(text: str) -> str:
    """What a typed search text is: ``id`` (digits and X: an ID-number prefix), ``initials``
    (ASCII letters: pinyin initials), ``name`` (anything else), or ``""`` (nothing typed)."""
    t = (text or "").strip()
    if not t:
        return ""
    if t[0].isdigit() and all(ch.isdigit() or ch in "xX" for ch in t):
        return "id"
    if t.isascii() and t.isalpha():
        return "initials"
    return "name"


MEMBER_COLUMNS = ("id", "name", "id_number", "sex", "management_class", "full_date", "active",
                  "org_name", "community_name")


def _member_conds(f: MemberFilter) -> tuple[list[tuple[str, list]], tuple[str, list] | None, str | None]:
    """(filter conditions, the search's condition or None, the active condition's SQL or None)."""
    conds: list[tuple[str, list]] = []
    on = f.on or today()
    current = roster.current_sql("m", index_hint=True)
    active_sql = None
    if f.status == "active":
        active_sql = current[0]
        conds.append(current)
    elif f.status == "left":
        conds.append(roster.left_sql("m"))
    elif f.status == "full":
        c, p = roster.formal_sql("m", on)
        conds.append((f"{current[0]} AND {c}", current[1] + p))
    elif f.status == "probationary":
        c, p = roster.probationary_sql("m", on)
        conds.append((f"{current[0]} AND {c}", current[1] + p))
    if f.member_class:
        conds.append(roster.class_sql("m", f.member_class))
    if f.organization is not None:
        if f._org_ids is None:
            f._org_ids = org_subtree(f.organization)
        c, p = _in(f._org_ids)
        conds.append((roster.in_orgs_sql("m", c), p))
    if f.view.community_ids is not None:
        c, p = _in(f.view.community_ids)
        conds.append((roster.in_communities_sql("m", c), p))
    return conds, _search_condition(f), active_sql


def _search_condition(f: MemberFilter, *, indexed: bool = True) -> tuple[str, list] | None:
    """The condition of the text typed, or None.  ``indexed``: see
    :func:`~core.read._sql.prefix_condition`."""
    kind = f.search_kind()
    t = f.text.strip()
    if kind == "id":
        t = t.upper()
        if not (f.view.allows_id_prefix_search and f.allow_id_search) and len(t) > 6:
            return ("1 = 0", [])
        return prefix_condition("m.id_number", t, indexed=indexed)
    if kind == "initials":
        return prefix_condition("m.initials", t.lower(), indexed=indexed)
    if kind == "name" and f.contains:
        esc = t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return ("m.name LIKE ? ESCAPE '\\'", ["%" + esc + "%"])
    if kind == "name":
        return prefix_condition("m.name", t, indexed=indexed)
    return None


def _member_where(f: MemberFilter) -> tuple[str, list]:
    conds, prefix, _ = _member_conds(f)
    if prefix is not None:
        conds = conds + [prefix]
    sql = " AND ".join(c for c, _ in conds) or "1 = 1"
    return sql, [p for _, ps in conds for p in ps]


# The list is ordered by the column searched, so the index of that column yields the
# rows in order and a page stops after ``limit`` matches: (name, id), (initials, id),
# (id_number), or id when not searching, the text in code-point order (that of the prefix
# indexes, :func:`core.db.bytewise`).  The first element of every row is its key.
_ORDER = {"": ("m.id",), "name": ("m.name", "m.id"), "initials": ("m.initials", "m.id"), "id": ("m.id_number",)}


def _order(f: MemberFilter) -> tuple[list[str], str]:
    cols = [c if c == "m.id" else bytewise(c) for c in _ORDER[f.search_kind()]]
    return cols, ", ".join(cols)


def _after(f: MemberFilter, key) -> tuple[str, list]:
    cols, _ = _order(f)
    if key is None:
        return "", []
    if len(cols) == 1:
        return f" AND {cols[0]} > ?", [key]
    # (a, b) > (x, y) written out: portable and index-friendly on both backends
    return f" AND ({cols[0]} > ? OR ({cols[0]} = ? AND {cols[1]} > ?))", [key[0], key[0], key[1]]


def _key_sql(f: MemberFilter) -> str:
    return ", ".join(_ORDER[f.search_kind()])


def member_count(f: MemberFilter) -> int:
    """Rows of the filter.  A prefix search on the roster counts the prefix on its index
    alone and takes away the few members who left, counted on their own partial index
    (both index-only), instead of looking up the roster flag of every match."""
    conds, prefix, active_sql = _member_conds(f)
    if prefix is not None and active_sql is not None and len(conds) == 1:
        c, p = prefix
        everyone = _scalar(f"SELECT COUNT(*) FROM member m WHERE {c}", p) or 0
        gone, gone_p = roster.left_sql("m")
        c, p = _search_condition(f, indexed=False)
        left = _scalar(f"SELECT COUNT(*) FROM member m WHERE {gone} AND {c}", gone_p + p) or 0
        return int(everyone) - int(left)
    where, params = _member_where(f)
    return int(_scalar(f"SELECT COUNT(*) FROM member m WHERE {where}", params) or 0)


def member_page(f: MemberFilter, after_key=None, limit: int = BLOCK) -> list[tuple]:
    """Up to ``limit`` rows after ``after_key`` (keyset in the filter's order).

    Each row is ``(key, *MEMBER_COLUMNS)``: the key first (what ``after_key``
    and :func:`member_seek` take), then id, name, id_number (as the view shows it),
    sex, management_class, full_date, active, org_name, community_name."""
    where, params = _member_where(f)
    extra, p2 = _after(f, after_key)
    _cols, order = _order(f)
    sql = (f"SELECT {_key_sql(f)}, m.id, m.name, m.id_number, m.sex, m.management_class, m.full_date, m.active, "
           f"o.name, c.name FROM member m LEFT JOIN organization o ON {roster.org_join_sql('m', 'o')} "
           f"LEFT JOIN community c ON {roster.community_join_sql('m', 'c')} WHERE {where}{extra} "
           f"ORDER BY {order} LIMIT ?")
    n = len(_order(f)[0])
    out = []
    mask = f.view.mask_id
    for r in _rows(sql, params + p2 + [limit]):
        key = r[0] if n == 1 else tuple(r[:n])
        row = r[n:]
        out.append((key, row[0], row[1], mask(row[2])) + tuple(row[3:]))
    return out


def member_seek(f: MemberFilter, after_key, n: int):
    """The key of the ``n``-th row (1-based) after ``after_key``: lets a block far away be
    reached from the nearest known key without paging through everything."""
    where, params = _member_where(f)
    extra, p2 = _after(f, after_key)
    _cols, order = _order(f)
    rows = _rows(f"SELECT {_key_sql(f)} FROM member m WHERE {where}{extra} ORDER BY {order} LIMIT 1 OFFSET ?",
                 params + p2 + [n - 1])
    if not rows:
        return None
    return rows[0][0] if len(rows[0]) == 1 else tuple(rows[0])


def member_position(f: MemberFilter, key) -> int:
    """How many rows of the filter come before the row with ``key``."""
    where, params = _member_where(f)
    cols, _ = _order(f)
    if len(cols) == 1:
        cond, p = f"{cols[0]} < ?", [key]
    else:
        cond, p = f"({cols[0]} < ? OR ({cols[0]} = ? AND {cols[1]} < ?))", [key[0], key[0], key[1]]
    return int(_scalar(f"SELECT COUNT(*) FROM member m WHERE {where} AND {cond}", params + p) or 0)


def palette_lookup(view: View, text: str, limit: int = 8) -> tuple[list[tuple], list[dict]]:
    """Communities and members in the view matching ``text`` for the command palette.

    Communities by name or code prefix; members by name, pinyin initials or
    ID-number prefix (as :class:`MemberFilter`).
    """
    text = text.strip()
    if not text:
        return [], []
    c1, p1 = prefix_condition("c.name", text)
    c2, p2 = prefix_condition("c.code", text)
    sql = (f"SELECT c.id, c.code, c.name, t.name FROM community c JOIN town t ON t.id = c.town_id "
           f"WHERE ({c1} OR {c2})")
    params = p1 + p2
    if view.community_ids is not None:
        c, p = _in(view.community_ids)
        sql += f" AND c.id IN {c}"
        params += p
    communities = _rows(sql + " ORDER BY c.code LIMIT ?", params + [limit])
    f = MemberFilter(view, text=text)
    members = [dict(zip(MEMBER_COLUMNS, r[1:])) for r in member_page(f, None, limit)]
    return communities, members


# ====================================================================== lookups by ID number

def member_id_by_number(view: View, id_number: str) -> int | None:
    """The member with this (full) ID number inside the view, for drill-down."""
    where, params = _scope_sql("community_id", view)
    return _scalar(f"SELECT id FROM member WHERE id_number = ? AND {where}", [id_number] + params)


def member_by_id_number(view: View, number: str):
    """{id, name, id_number} of the member with this ID number (normalized) in the view, or None."""
    from core.models import Member

    n = ids.normalize(number)
    mb = view.select(Member).where(Member.id_number == n).first()
    return None if mb is None else {"id": mb.id, "name": mb.name, "id_number": mb.id_number}


# ====================================================================== one member's page

def member_detail(view: View, member_id: int, year: int | None = None) -> dict:
    """A member's page: the record (in the view, else NotFound), org and community,
    transfers, recent attendance, dues of the year, evaluations.

    The record comes as the view shows it (never saved): ``id_number`` and ``phone``
    masked unless the user may see them; ``born`` is the birth date, or for a user
    without full personal data the age reached in ``year`` (an int), and then the
    record's ``birth_date`` is None."""
    from core import records
    from core.models import Member

    m = records.get(Member, member_id, view)  # in the view
    year = year or today().year
    birth = m.birth_date
    if birth is None and m.id_number:
        try:
            birth = ids.birth_date(m.id_number)
        except ValueError:
            birth = None
    born = view.born(birth, year)
    if not view.full_personal_data:
        m.id_number, m.phone, m.birth_date = view.mask_id(m.id_number), view.mask_phone(m.phone), None
    org = _dicts("SELECT o.code, o.name, o.kind FROM organization o WHERE o.id = ?", [m.organization_id]) \
        if m.organization_id else []
    comm = _dicts("SELECT c.code, c.name, t.name AS town FROM community c JOIN town t ON t.id = c.town_id "
                  "WHERE c.id = ?", [m.community_id]) if m.community_id else []
    moves = roster.moves_of(member_id)
    attendance = _dicts(
        "SELECT mt.date, mt.type, mt.topic, o.name AS org, a.status, a.leave_reason FROM attendance a "
        "JOIN meeting mt ON mt.id = a.meeting_id JOIN organization o ON o.id = mt.organization_id "
        "WHERE a.member_id = ? ORDER BY mt.date DESC, mt.id DESC LIMIT 24", [member_id])
    att_counts = dict(_rows(
        "SELECT a.status, COUNT(*) FROM attendance a JOIN meeting mt ON mt.id = a.meeting_id "
        "WHERE a.member_id = ? AND mt.date >= ? AND mt.date <= ? GROUP BY a.status",
        [member_id, f"{year}-01-01", f"{year}-12-31"]))
    dues = _dicts("SELECT month, due, paid, paid_date FROM dues_payment WHERE member_id = ? AND month >= ? "
                  "AND month <= ? ORDER BY month", [member_id, f"{year}-01", f"{year}-12"])
    evaluations = _dicts("SELECT year, result FROM evaluation WHERE member_id = ? ORDER BY year DESC",
                         [member_id])
    certificates = _dicts("SELECT number, destination, issue_date, valid_until, returned_date "
                          "FROM floating_certificate WHERE member_id = ? ORDER BY issue_date", [member_id])
    volunteer = _scalar("SELECT SUM(hours) FROM volunteer_hours WHERE member_id = ? AND date >= ? AND date <= ?",
                        [member_id, f"{year}-01-01", f"{year}-12-31"])
    return {
        "member": m, "born": born, "org": org[0] if org else None, "community": comm[0] if comm else None,
        "transfers": moves, "attendance": attendance, "attendance_counts": att_counts, "dues": dues,
        "evaluations": evaluations, "certificates": certificates, "volunteer_hours": volunteer, "year": year,
    }


def member_points(view: View, member_id: int, year: int) -> tuple[str, list] | None:
    """(points, items) of the member under the ``member-points`` scorer for the
    member's community (run as the view's user), or None when no scorer is registered."""
    from core import plugins, scoring
    from core.models import Community, Member

    reg = plugins.get().registry
    if "member-points" not in reg.scorer_names():
        return None
    m = Member.get_by_id(member_id)
    if m.community_id is None:
        return None
    code = Community.get_by_id(m.community_id).code
    results = scoring.run_scorer("member-points", year=year, community=code, principal=view.principal)
    for r in results:
        if r.subject == m.id_number:
            return format_score(r.points), list(r.items)
    return None


# ====================================================================== counts

def members_by_class(view: View, on: dt.date | None = None) -> dict:
    """{"classes": {class: n}, "full": n, "probationary": n} of active members in the view."""
    on = on or today()
    where, params = _scope_sql(roster.community_sql("m"), view)
    cur, cur_p = roster.current_sql("m")
    fm, fm_p = roster.formal_sql("m", on)
    classes = dict(_rows(f"SELECT m.management_class, COUNT(*) FROM member m WHERE {cur} AND {where} "
                         "GROUP BY m.management_class", cur_p + params))
    full = _scalar(f"SELECT COUNT(*) FROM member m WHERE {cur} AND {where} AND {fm}", cur_p + params + fm_p) or 0
    total = sum(classes.values())
    return {"classes": classes, "full": int(full), "probationary": total - int(full), "total": total}
