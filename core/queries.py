"""Read queries for the terminal app (界面查询): plain rows, no textual.

Every SQL statement the app's browsing screens need lives here; screens call
these functions (in worker threads) and render what they return.  Lists
that may be long are keyset-paged on the primary key (``id > ?  ORDER BY id
LIMIT n``), never OFFSET from the start.  Prefix search uses an index range
(``name >= 'x' AND name < 'y'``) on SQLite — ``LIKE 'x%'`` there scans the
table — and ``LIKE`` with ``text_pattern_ops`` semantics on PostgreSQL.

``scope`` arguments are the screen's view: a :class:`core.view.View` (None: the
current user's whole scope; :func:`core.view.as_view`).  What is shown comes back
as the view shows it: ID numbers masked unless the user may see them, an age
instead of a birth date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core import roster
from core.db import database, is_postgres
from core.view import View, as_view

BLOCK = 200


# ====================================================================== helpers

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


def prefix_condition(column: str, prefix: str) -> tuple[str, list]:
    """An index-friendly prefix match on ``column``."""
    if is_postgres():
        esc = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{column} LIKE ?", [esc + "%"]
    return f"({column} >= ? AND {column} < ?)", [prefix, _prefix_upper(prefix)]


def _date(v):
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _today() -> dt.date:
    from core.dates import today

    return today()


# ====================================================================== scope

def scope_choices(principal) -> list[tuple[str, str | None, str | None]]:
    """(label, town, community) the user may narrow the view to."""
    from core.i18n import tr

    view = View.of(principal)
    refs = view.communities()
    out: list[tuple[str, str | None, str | None]] = []
    if view.everything:
        out.append((tr("全市", "whole city"), None, None))
    else:
        out.append((tr("我的范围", "my scope"), None, None))
    towns = []
    for ref in refs:
        if ref.town not in towns:
            towns.append(ref.town)
    if len(towns) > 1 or view.everything:
        for t in towns:
            out.append((tr("区镇 {t}", "town {t}", t=t), t, None))
    for ref in refs:
        out.append((f"  {ref.name} ({ref.code}, {ref.town})", ref.town, ref.code))
    return out


def community_name(code: str) -> str | None:
    return _scalar("SELECT name FROM community WHERE code = ?", [code])


def community_town(code: str) -> str | None:
    return _scalar("SELECT t.name FROM community c JOIN town t ON t.id = c.town_id WHERE c.code = ?", [code])


# ====================================================================== members: search and keyset pages

@dataclass
class MemberFilter:
    """What the members list shows.

    ``text``: digits (and X) → ID-number prefix; ASCII letters → pinyin
    initials prefix; anything else → name prefix.  ``status``: ``active``
    (default: on the roster), ``full``, ``probationary`` (at ``on``),
    ``left`` (transferred out), ``all``.  ``organization``: an org id (its
    whole subtree).  ``scope``: the view (:func:`core.view.as_view`); its
    :attr:`~core.view.View.allows_id_prefix_search` decides the ID search: without
    full personal data an ID prefix longer than the area code shown matches nothing.
    """
    text: str = ""
    member_class: str | None = None
    organization: int | None = None
    status: str = "active"
    scope: object = None
    allow_id_search: bool = True  # False narrows further; the view decides first
    on: dt.date | None = None
    _org_ids: list | None = field(default=None, repr=False, compare=False)
    view: View | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.view = as_view(self.scope)

    def search_kind(self) -> str:
        t = self.text.strip()
        if not t:
            return ""
        if t[0].isdigit() and all(ch.isdigit() or ch in "xX" for ch in t):
            return "id"
        if t.isascii() and t.isalpha():
            return "initials"
        return "name"


def org_subtree(org_id: int) -> list[int]:
    """The org and every org below it."""
    out = [org_id]
    frontier = [org_id]
    while frontier:
        cond, params = _in(frontier)
        frontier = [r[0] for r in _rows(f"SELECT id FROM organization WHERE parent_id IN {cond}", params)]
        out.extend(frontier)
    return out


MEMBER_COLUMNS = ("id", "name", "id_number", "sex", "management_class", "full_date", "active",
                  "org_name", "community_name")


def _member_conds(f: MemberFilter) -> tuple[list[tuple[str, list]], tuple[str, list] | None, str | None]:
    """(filter conditions, the prefix-search condition or None, the active condition's SQL or None)."""
    conds: list[tuple[str, list]] = []
    on = f.on or _today()
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
        conds.append((f"m.organization_id IN {c}", p))
    if f.view.community_ids is not None:
        c, p = _in(f.view.community_ids)
        conds.append((f"m.community_id IN {c}", p))
    kind = f.search_kind()
    t = f.text.strip()
    prefix = None
    if kind == "id":
        t = t.upper()
        if not (f.view.allows_id_prefix_search and f.allow_id_search) and len(t) > 6:
            prefix = ("1 = 0", [])
        else:
            prefix = prefix_condition("m.id_number", t)
    elif kind == "initials":
        prefix = prefix_condition("m.initials", t.lower())
    elif kind == "name":
        prefix = prefix_condition("m.name", t)
    return conds, prefix, active_sql


def _member_where(f: MemberFilter) -> tuple[str, list]:
    conds, prefix, _ = _member_conds(f)
    if prefix is not None:
        conds = conds + [prefix]
    sql = " AND ".join(c for c, _ in conds) or "1 = 1"
    return sql, [p for _, ps in conds for p in ps]


# The list is ordered by the column searched, so the index of that column yields the
# rows in order and a page stops after ``limit`` matches: (name, id), (initials, id),
# (id_number), or id when not searching.  The first element of every row is its key.
_ORDER = {"": (["m.id"], "m.id"), "name": (["m.name", "m.id"], "m.name, m.id"),
          "initials": (["m.initials", "m.id"], "m.initials, m.id"), "id": (["m.id_number"], "m.id_number")}


def _order(f: MemberFilter):
    return _ORDER[f.search_kind()]


def _after(f: MemberFilter, key) -> tuple[str, list]:
    cols, _ = _order(f)
    if key is None:
        return "", []
    if len(cols) == 1:
        return f" AND {cols[0]} > ?", [key]
    # (a, b) > (x, y) written out: portable and index-friendly on both backends
    return f" AND ({cols[0]} > ? OR ({cols[0]} = ? AND {cols[1]} > ?))", [key[0], key[0], key[1]]


def _key_sql(f: MemberFilter) -> str:
    cols, _ = _order(f)
    return ", ".join(cols)


def member_count(f: MemberFilter) -> int:
    """Rows of the filter.  A prefix search on the roster counts the prefix on its index
    alone and takes away the few members who left (both index-only), instead of looking
    up the roster flag of every match."""
    conds, prefix, active_sql = _member_conds(f)
    if prefix is not None and active_sql is not None and len(conds) == 1:
        c, p = prefix
        everyone = _scalar(f"SELECT COUNT(*) FROM member m WHERE {c}", p) or 0
        gone, gone_p = roster.left_sql("m")
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
           "o.name, c.name FROM member m LEFT JOIN organization o ON o.id = m.organization_id "
           f"LEFT JOIN community c ON c.id = m.community_id WHERE {where}{extra} ORDER BY {order} LIMIT ?")
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


def palette_lookup(text: str, scope, limit: int = 8) -> tuple[list[tuple], list[dict]]:
    """Communities and members matching ``text`` for the command palette.

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
    view = as_view(scope)
    if view.community_ids is not None:
        c, p = _in(view.community_ids)
        sql += f" AND c.id IN {c}"
        params += p
    communities = _rows(sql + " ORDER BY c.code LIMIT ?", params + [limit])
    f = MemberFilter(text=text, scope=view)
    members = [dict(zip(MEMBER_COLUMNS, r[1:])) for r in member_page(f, None, limit)]
    return communities, members


# ====================================================================== one member's page

def member_detail(member_id: int, year: int | None = None, scope=None) -> dict:
    """A member's page: the record (in the view, else NotFound), org and community,
    transfers, recent attendance, dues of the year, evaluations.

    The record comes as the view shows it (never saved): ``id_number`` and ``phone``
    masked unless the user may see them; ``born`` is the birth date, or for a user
    without full personal data the age reached in ``year`` (an int), and then the
    record's ``birth_date`` is None."""
    from core import ids, records
    from core.models import Member

    view = as_view(scope)
    m = records.get(Member, member_id, view)  # in the view
    year = year or _today().year
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
    transfers = _dicts("SELECT date, direction, from_org, to_org, letter_no FROM transfer WHERE member_id = ? "
                       "ORDER BY date, id", [member_id])
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
        "transfers": transfers, "attendance": attendance, "attendance_counts": att_counts, "dues": dues,
        "evaluations": evaluations, "certificates": certificates, "volunteer_hours": volunteer, "year": year,
    }


def member_points(member_id: int, year: int, principal=None) -> tuple[str, list] | None:
    """(points, items) of the member under the ``member-points`` scorer for the
    member's community, or None when no scorer is registered."""
    from core import plugins, scoring
    from core.models import Community, Member

    reg = plugins.get().registry
    if "member-points" not in reg.scorer_names():
        return None
    m = Member.get_by_id(member_id)
    if m.community_id is None:
        return None
    code = Community.get_by_id(m.community_id).code
    results = scoring.run_scorer("member-points", year=year, community=code, principal=principal)
    for r in results:
        if r.subject == m.id_number:
            return scoring.fmt_points(r.points), list(r.items)
    return None


# ====================================================================== dashboard

def _view(scope, principal=None, town: str | None = None, community: str | None = None) -> View:
    """``scope`` when it is a :class:`View`; None: the view of ``principal`` narrowed to
    ``town`` / ``community``; community ids (what the app passes until it hands over its
    view): the view of ``principal`` narrowed to them."""
    if isinstance(scope, View):
        return scope
    view = View.of(principal, town, community)
    if scope is None:
        return view
    ids_ = frozenset(scope)
    return View(view.principal, ids_ if view.community_ids is None else ids_ & view.community_ids, town, community)


def _scope_sql(column: str, scope) -> tuple[str, list]:
    ids_ = as_view(scope).community_ids
    if ids_ is None:
        return "1 = 1", []
    c, p = _in(ids_)
    return f"{column} IN {c}", p


def members_by_class(scope, on: dt.date | None = None) -> dict:
    """{"classes": {class: n}, "full": n, "probationary": n} of active members in scope."""
    on = on or _today()
    where, params = _scope_sql("m.community_id", scope)
    cur, cur_p = roster.current_sql("m")
    fm, fm_p = roster.formal_sql("m", on)
    classes = dict(_rows(f"SELECT m.management_class, COUNT(*) FROM member m WHERE {cur} AND {where} "
                         "GROUP BY m.management_class", cur_p + params))
    full = _scalar(f"SELECT COUNT(*) FROM member m WHERE {cur} AND {where} AND {fm}", cur_p + params + fm_p) or 0
    total = sum(classes.values())
    return {"classes": classes, "full": int(full), "probationary": total - int(full), "total": total}


def _params_by_town(rule_id: str, towns) -> dict:
    """{town: the rule's parameters there} (:func:`core.rules.params_for`)."""
    from core.rules import params_for

    return {t: params_for(rule_id, t) for t in set(towns)}


def meetings_due(scope, on: dt.date | None = None) -> dict:
    """Org-life meetings still due in the current month/quarter (三会一课) for orgs in scope:
    {"committee_meeting": n branches (with at least the town's ``committee_meeting_min_members``
     formal members) without a 支委会 this month,
     "group_meeting": n groups without a 党小组会 this month,
     "assembly": n branches without a 党员大会 this quarter, "lecture": … without a 党课 this quarter,
     "branches": n, "groups": n, "committee_min": {town: the threshold there}}."""
    on = on or _today()
    month_start = on.replace(day=1)
    q_start = on.replace(month=3 * ((on.month - 1) // 3) + 1, day=1)
    where, params = _scope_sql("o.community_id", scope)
    orgs = _rows(f"SELECT o.id, o.kind, t.name FROM organization o LEFT JOIN community c ON c.id = o.community_id "
                 f"LEFT JOIN town t ON t.id = c.town_id WHERE o.kind IN ('branch', 'group') AND {where}", params)
    branches = [i for i, k, _t in orgs if k == "branch"]
    groups = [i for i, k, _t in orgs if k == "group"]
    town_of = {i: t for i, _k, t in orgs}
    committee_min = {t: int(p["committee_meeting_min_members"])
                     for t, p in _params_by_town("orglife.three_meetings_one_lesson", town_of.values()).items()}
    held: dict = {}
    rows = _rows(f"SELECT mt.organization_id, mt.type, MAX(mt.date) FROM meeting mt JOIN organization o "
                 f"ON o.id = mt.organization_id WHERE mt.date >= ? AND mt.date <= ? AND {where} "
                 "AND mt.type IN ('assembly', 'committee_meeting', 'group_meeting', 'lecture') "
                 "GROUP BY mt.organization_id, mt.type", [q_start.isoformat(), on.isoformat()] + params)
    for oid, typ, last in rows:
        held[(oid, typ)] = _date(last)
    cur, cur_p = roster.current_sql("m")
    fm, fm_p = roster.formal_sql("m", on)
    rel, rel_p = roster.relationship_sql("m")
    formal = dict(_rows(
        f"SELECT m.organization_id, COUNT(*) FROM member m JOIN organization o ON o.id = m.organization_id "
        f"WHERE o.kind = 'branch' AND {where} AND {cur} AND {fm} AND {rel} GROUP BY m.organization_id",
        params + cur_p + fm_p + rel_p))

    def missing(ids, typ, since):
        return sum(1 for i in ids if not (held.get((i, typ)) and held[(i, typ)] >= since))

    return {
        "committee_meeting": missing([b for b in branches if formal.get(b, 0) >= committee_min[town_of[b]]],
                                     "committee_meeting", month_start),
        "group_meeting": missing(groups, "group_meeting", month_start),
        "assembly": missing(branches, "assembly", q_start),
        "lecture": missing(branches, "lecture", q_start),
        "branches": len(branches), "groups": len(groups), "committee_min": committee_min,
    }


def overdue_demands(scope, on: dt.date | None = None, limit: int = 5) -> dict:
    """Demands neither answered nor closed nor refused after their town's ``max_days``
    (``service.demand_response``): count, the oldest few and {town: max_days}."""
    on = on or _today()
    where, params = _scope_sql("c.id", scope)
    towns = [t for (t,) in _rows(f"SELECT DISTINCT t.name FROM community c JOIN town t ON t.id = c.town_id "
                                 f"WHERE {where}", params)]
    max_days = {t: int(p["max_days"]) for t, p in _params_by_town("service.demand_response", towns).items()}
    if not max_days:
        return {"count": 0, "oldest": [], "max_days": {}}
    late = " OR ".join("(t.name = ? AND v.date < ?)" for _ in max_days)
    late_params = [x for t, d in sorted(max_days.items()) for x in (t, (on - dt.timedelta(days=d)).isoformat())]
    base = (f"FROM visit v JOIN community c ON c.id = v.community_id JOIN town t ON t.id = c.town_id "
            f"WHERE v.demand <> '' AND v.answered_date IS NULL AND v.closed_date IS NULL "
            f"AND v.refused_reason IS NULL AND ({late}) AND {where}")
    n = _scalar(f"SELECT COUNT(*) {base}", late_params + params) or 0
    oldest = _dicts(f"SELECT v.id, v.date, v.demand, c.name AS community {base} ORDER BY v.date, v.id LIMIT ?",
                    late_params + params + [limit])
    return {"count": int(n), "oldest": oldest, "max_days": max_days}


def funding_gaps(principal, town, community, year: int, as_of: dt.date, scope=None) -> dict:
    """Communities of the view whose activity funding for ``year`` is below the clause-19 floor."""
    from core.funding import community_funding

    lines = community_funding(_view(scope, principal, town, community).communities(), year, as_of)
    short = sorted([x for x in lines if x.gap > 0], key=lambda x: -x.gap)
    return {"communities": len(lines), "short": len(short), "gap": sum((x.gap for x in short), 0),
            "top": [(x.name, x.code, x.floor, x.allocated, x.gap) for x in short[:5]]}


def findings_summary(findings) -> dict:
    """Counts of fail/warn/error by clause and by rule from a list of findings."""
    by_clause: dict = {}
    by_rule: dict = {}
    totals: dict = {}
    for f in findings:
        totals[f.status] = totals.get(f.status, 0) + 1
        if f.status not in ("fail", "warn", "error"):
            continue
        c = by_clause.setdefault(f.clause, {"fail": 0, "warn": 0, "error": 0})
        c[f.status] += 1
        r = by_rule.setdefault(f.rule, {"fail": 0, "warn": 0, "error": 0, "clause": f.clause})
        r[f.status] += 1
    return {"by_clause": by_clause, "by_rule": by_rule, "totals": totals}


def last_check(principal, town, community, year: int, scope) -> dict | None:
    """The latest stored check run covering the view (:func:`core.findings.find_run`), summarised
    by SQL; None when there is none."""
    from core.findings import find_run

    view = _view(scope, principal, town, community)
    ids_ = view.community_ids
    run = find_run(ids_, year)
    if run is None:
        return None
    where, params = "f.run_id = ?", [run.id]
    if community:
        where += " AND f.community = ?"
        params.append(community)
    elif town:
        where += " AND f.town = ?"
        params.append(town)
    if scope is not None and ids_ is not None:  # the screen's view: its communities' findings only
        c, p = _in(ids_)
        where += f" AND f.community IN (SELECT code FROM community WHERE id IN {c})"
        params += p
    rows = _rows(f"SELECT f.clause, f.rule, f.status, COUNT(*) FROM stored_finding f WHERE {where} "
                 "GROUP BY f.clause, f.rule, f.status", params)
    by_clause: dict = {}
    by_rule: dict = {}
    totals: dict = {}
    for clause, rule, status, n in rows:
        totals[status] = totals.get(status, 0) + n
        if status not in ("fail", "warn", "error"):
            continue
        c = by_clause.setdefault(clause, {"fail": 0, "warn": 0, "error": 0})
        c[status] += n
        r = by_rule.setdefault(rule, {"fail": 0, "warn": 0, "error": 0, "clause": clause})
        r[status] += n
    return {"by_clause": by_clause, "by_rule": by_rule, "totals": totals, "run_id": run.id,
            "at": run.finished_at or run.started_at, "as_of": run.as_of, "stored": True}


def run_check_summary(principal, town, community, year: int) -> dict:
    """Run the rules over the view now (stored), and summarise the findings."""
    from core.rules import run_check

    result = run_check(year=year, town=town, community=community, principal=principal, store=True)
    out = findings_summary(result.findings)
    out.update({"run_id": result.run_id, "at": dt.datetime.now(), "as_of": result.as_of, "stored": False})
    return out


def dashboard(principal, town, community, year: int, scope) -> dict:
    """Everything the dashboard shows, in one call (run it in a worker)."""
    from core.errors import UserError
    from core.rules import resolve_dates

    year, as_of = resolve_dates(year, None)
    on = min(as_of, _today())
    view = _view(scope, principal, town, community)
    out = {"year": year, "as_of": as_of,
           "members": members_by_class(view, on),
           "meetings": meetings_due(view, on),
           "demands": overdue_demands(view, on),
           "check": last_check(principal, town, community, year, view)}
    try:
        out["funding"] = funding_gaps(principal, town, community, year, as_of, view)
    except UserError as exc:  # something the user can act on: shown in the funding panel
        out["funding"] = {"error": str(exc)}
    return out


# ====================================================================== organization tree

def org_tree(principal, town, community, scope, year: int | None = None) -> dict:
    """Organizations in scope with direct and subtree member counts and the
    ``org.kind_size`` verdict (the rule itself, run unstored over the view).

    Returns {"communities": [(id, code, name, town)], "orgs": [dict], "verdicts": {code: (status, message)},
    "verdict_error": str|None}.
    """
    scope = _view(scope, principal, town, community)
    where, params = _scope_sql("c.id", scope)
    communities = _rows(f"SELECT c.id, c.code, c.name, t.name FROM community c JOIN town t ON t.id = c.town_id "
                        f"WHERE {where} ORDER BY t.name, c.code", params)
    where_o, params_o = _scope_sql("o.community_id", scope)
    orgs = _dicts(f"SELECT o.id, o.code, o.name, o.kind, o.parent_id, o.community_id, o.approval_no "
                  f"FROM organization o WHERE {where_o} ORDER BY o.code", params_o)
    cur, cur_p = roster.current_sql("m")
    counts = dict(_rows(f"SELECT m.organization_id, COUNT(*) FROM member m JOIN organization o "
                        f"ON o.id = m.organization_id WHERE {cur} AND {where_o} "
                        "GROUP BY m.organization_id", cur_p + params_o))
    by_id = {o["id"]: o for o in orgs}
    for o in orgs:
        o["members"] = int(counts.get(o["id"], 0))
        o["children"] = []
    for o in orgs:
        p = by_id.get(o["parent_id"])
        if p is not None:
            p["children"].append(o["id"])

    def subtotal(o):
        if "subtree" not in o:
            o["subtree"] = o["members"] + sum(subtotal(by_id[c]) for c in o["children"])
        return o["subtree"]

    for o in orgs:
        subtotal(o)
    verdicts: dict = {}
    error = None
    try:
        from core.rules import run_check

        result = run_check(year=year, town=town, community=community, rule_ids=["org.kind_size"],
                           principal=principal, store=False)
        for f in result.findings:
            if f.rule == "org.kind_size":
                verdicts[f.subject] = (f.status, f.message)
    except Exception as exc:  # no such rule, or it raised: the tree still shows
        error = str(exc)
    return {"communities": communities, "orgs": orgs, "verdicts": verdicts, "verdict_error": error}


# ====================================================================== generic scorer / report tables

def scorer_table(name: str, principal, town, community, year: int) -> dict:
    """Run scorer ``name`` over the view: {"title", "headers", "rows", "records", "errors", "kind"}."""
    from core import plugins, scoring
    from core.i18n import get_lang

    run = scoring.run_scorer_full(name, year=year, town=town, community=community, principal=principal)
    headers, rows, records = scoring.table(run, with_items=True)
    reg = plugins.get().registry
    s = reg.scorer_for(name, town) or reg.scorers.get(name)
    title = s.title(get_lang()) if s else name
    kind = run.scorers[0].subjects if run.scorers else "member"
    # unmasked subjects let the screen open the member's page
    raw = [r.subject for r in run.results]
    return {"title": title, "headers": headers, "rows": rows, "records": records, "errors": list(run.errors),
            "kind": kind, "subjects": raw, "year": run.year, "as_of": run.as_of}


def report_table(name: str, principal, town, community, year: int) -> dict:
    """Run report ``name`` over the view: same shape as :func:`scorer_table` (``html`` for HTML-only)."""
    from core import reports

    result = reports.run_report(name, year=year, town=town, community=community, principal=principal)
    if isinstance(result, str):
        return {"title": name, "html": result, "headers": [], "rows": [], "records": None, "errors": [],
                "kind": None, "subjects": None}
    return {"title": result.title or name, "headers": list(result.headers), "rows": [list(r) for r in result.rows],
            "records": result.records, "errors": [], "kind": None, "subjects": None,
            "status_col": result.status_col, "notes": list(result.notes or [])}


def member_id_by_number(id_number: str, scope) -> int | None:
    """The member with this (full) ID number inside ``scope``, for drill-down."""
    where, params = _scope_sql("community_id", scope)
    return _scalar(f"SELECT id FROM member WHERE id_number = ? AND {where}", [id_number] + params)


def org_search(text: str, scope, limit: int = 50) -> list[tuple]:
    """Organizations in scope whose name or code starts with ``text`` (all when empty):
    (id, code, name, kind, community name)."""
    where, params = _scope_sql("o.community_id", scope)
    text = text.strip()
    if text:
        c1, p1 = prefix_condition("o.name", text)
        c2, p2 = prefix_condition("o.code", text)
        where += f" AND ({c1} OR {c2})"
        params += p1 + p2
    return _rows(f"SELECT o.id, o.code, o.name, o.kind, c.name FROM organization o LEFT JOIN community c "
                 f"ON c.id = o.community_id WHERE {where} ORDER BY o.code LIMIT ?", params + [limit])
