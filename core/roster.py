"""The roster: who is a member of the city's Party organizations, and where, at a date.

The one home of every roster condition.  Rules, scorers, reports, screens and
the dashboard ask here -- no other module writes a condition over a member's
organization, community, management class, roster flag or transfer dates.

Terms:

* **on the roster at D** -- joined the Party by D, not transferred out by D
  (``left_date``), and not transferred in after D (a 转入 dated later means the
  member was elsewhere on D);
* **community of a member** -- the community of the member's organization; an
  unplaced 流入党员 (no organization) is counted in the community that received
  them;
* **relationship in the community** -- 社区党员 or 流出党员 (the management
  classes whose organizational relationship stays in a community organization);
* **formal at D** -- 转正日期 on or before D.

Everything here returns peewee expressions or queries (one query per call,
never one per member), or, for the raw-SQL read paths, ``(sql, params)``.
"""
from __future__ import annotations

import datetime as dt

from peewee import JOIN, fn

from core.db import in_ids
from core.models import LEFT_ROSTER, Member, Organization, RosterPeriod

RELATIONSHIP_CLASSES = ("resident", "floating_out")

P = RosterPeriod
#: Columns of the roster at a date, for the ``fields`` of :func:`members_at` and the like:
#: the member's organization, community and management class on that date.
ORG = RosterPeriod.organization
COMMUNITY = RosterPeriod.community
CLASS = RosterPeriod.management_class
START = RosterPeriod.start  # the first day of the span that holds the date


def in_relationship(management_class: str | None) -> bool:
    """Whether a member of this management class has their relationship in a community."""
    return management_class in RELATIONSHIP_CLASSES


def covers(as_of: dt.date):
    """peewee condition on ``RosterPeriod``: the span holds ``as_of``."""
    return (P.start <= as_of) & (P.end.is_null() | (P.end >= as_of))


def on_roster(as_of: dt.date):
    """peewee condition on a ``Member`` query: the member was on the city's roster at ``as_of``
    (joined by then, not transferred out by then, not transferred in later)."""
    span = P.alias("on_roster")
    return fn.EXISTS(span.select(span.member).where((span.member == Member.id) & (span.start <= as_of)
                                                & (span.end.is_null() | (span.end >= as_of))))


def current():
    """peewee condition: the member is on the roster today (not transferred out)."""
    return Member.active == True  # noqa: E712


def formal_at(as_of: dt.date):
    """peewee condition: the member was a formal (正式) member at ``as_of``."""
    return Member.full_date.is_null(False) & (Member.full_date <= as_of)


def relationship_here():
    """peewee condition on the roster at a date: the member's relationship is in the community
    (社区党员 or 流出党员 belonging to one of its organizations)."""
    return P.management_class.in_(RELATIONSHIP_CLASSES) & P.organization.is_null(False)


def member_community():
    """peewee expression: the member's community today (the organization's; the member's own
    when unplaced).  Needs a LEFT JOIN of Organization on :func:`org_today`."""
    return fn.COALESCE(Organization.community, Member.community)


def org_today():
    """peewee join condition: ``Organization`` is the member's organization today."""
    return Member.organization == Organization.id


def community_today():
    """peewee join condition: ``Community`` is the member's community today."""
    from core.models import Community

    return Member.community == Community.id


def _ids(v):
    return in_ids(v)


def _at(as_of: dt.date, *fields):
    """Members joined to their span at ``as_of`` and to the organization of that span (columns
    Member.id, ``community_id``, ``fields``)."""
    q = (Member.select(Member.id, P.community.alias("community_id"), *fields)
         .join(P, on=((P.member == Member.id) & covers(as_of))))
    return q.join(Organization, JOIN.LEFT_OUTER, on=(P.organization == Organization.id))


def join_at(query, member_field, as_of):
    """``query`` joined to the roster span of ``member_field`` (a member id column) that holds
    ``as_of`` (a date, or a date column such as ``Meeting.date``): then :data:`ORG`,
    :data:`COMMUNITY` and :data:`CLASS` are the member's on that date, and rows of members not
    on the roster then drop out."""
    return query.join(P, on=((P.member == member_field) & covers(as_of)))


def members_at(community_ids, as_of: dt.date, *fields, classes=None, relationship: bool = False,
               formal_only: bool = False, where=None):
    """Query of the members on the roster at ``as_of`` whose community on that date is one of
    ``community_ids``: columns ``Member.id``, ``community_id`` (alias), then ``fields`` (use
    :data:`ORG`, :data:`CLASS`, :data:`COMMUNITY` for the organization, class and community
    on that date).

    ``relationship=True``: only members whose relationship was in the community then.
    ``classes``: only these management classes (on that date).  ``formal_only``: only members
    formal at ``as_of``.  ``where``: a further peewee condition.  ``community_ids`` may be a list
    or a subquery.
    """
    q = _at(as_of, *fields).where(P.community.in_(_ids(community_ids)))
    if relationship:
        q = q.where(relationship_here())
    if classes is not None:
        q = q.where(P.management_class.in_(list(classes)))
    if formal_only:
        q = q.where(formal_at(as_of))
    if where is not None:
        q = q.where(where)
    return q


def member_ids_at(community_ids, as_of: dt.date, **kw):
    """Subquery of the ids of :func:`members_at` (for ``.in_()``: a whole city never sends
    100,000 ids as parameters)."""
    return members_at(community_ids, as_of, **kw).select(Member.id)


def org_members_at(org_ids, as_of: dt.date, *fields, relationship: bool = True, formal_only: bool = False):
    """Query of the members on the roster at ``as_of`` in the organizations ``org_ids`` on that
    date: columns ``Member.id``, the organization (``organization_id``), then ``fields``."""
    q = (Member.select(Member.id, P.organization.alias("organization_id"), *fields)
         .join(P, on=((P.member == Member.id) & covers(as_of))).where(P.organization.in_(_ids(org_ids))))
    if relationship:
        q = q.where(relationship_here())
    if formal_only:
        q = q.where(formal_at(as_of))
    return q


def org_member_counts(org_ids, as_of: dt.date, *, relationship: bool = True, formal_only: bool = False) -> dict:
    """{organization id: members in it at ``as_of``} of :func:`org_members_at`, by one GROUP BY query."""
    q = (P.select(P.organization, fn.COUNT(P.member))
         .where(P.organization.in_(_ids(org_ids)), covers(as_of)))
    if relationship:
        q = q.where(relationship_here())
    if formal_only:
        q = q.join(Member, on=(P.member == Member.id)).where(formal_at(as_of))
    return dict(q.group_by(P.organization).tuples())


def org_member_counts_by_month(org_ids, month_ends, *, relationship: bool = True,
                               formal_only: bool = False) -> dict:
    """{(organization id, month end): members in it on that day} for each date of ``month_ends``
    (one GROUP BY query per date)."""
    out = {}
    for end in month_ends:
        for oid, n in org_member_counts(org_ids, end, relationship=relationship, formal_only=formal_only).items():
            out[(oid, end)] = n
    return out


def org_counts_on_days(org_ids, days, *, relationship: bool = True, formal_only: bool = False) -> dict:
    """{organization id: [members in it on each of ``days``]} (``days`` ascending), from one
    query over the spans that overlap them -- not one query per day."""
    import bisect

    days = list(days)
    if not days:
        return {}
    first, last = days[0], days[-1]
    ids = _ids(org_ids)
    n = len(days)
    # spans holding every one of the days (formal from the first): counted in SQL, the same every day
    whole = (P.start <= first) & (P.end.is_null() | (P.end >= last))
    if formal_only:
        whole &= formal_at(first)
    q = (P.select(P.organization, fn.COUNT(P.member)).join(Member, on=(P.member == Member.id))
         .where(P.organization.in_(ids) & whole))
    if relationship:
        q = q.where(relationship_here())
    diff: dict[int, list] = {}
    for oid, k in q.group_by(P.organization).tuples():
        d = diff[oid] = [0] * (n + 1)
        d[0] += k
        d[n] -= k
    # the others (members who moved, joined or became formal in between), day by day
    q = (P.select(P.organization, P.start, P.end, Member.full_date).join(Member, on=(P.member == Member.id))
         .where(P.organization.in_(ids) & (P.start <= last) & (P.end.is_null() | (P.end >= first)) & ~whole))
    if relationship:
        q = q.where(relationship_here())
    for oid, lo, hi, full in q.tuples():
        lo, hi, full = _d(lo), _d(hi), _d(full)
        if formal_only:
            if full is None:
                continue
            lo = max(lo, full)
        i = bisect.bisect_left(days, lo)
        j = n if hi is None else bisect.bisect_right(days, hi)
        if i >= j:
            continue
        d = diff.get(oid)
        if d is None:
            d = diff[oid] = [0] * (n + 1)
        d[i] += 1
        d[j] -= 1
    out = {}
    for oid, d in diff.items():
        run, counts = 0, []
        for k in range(n):
            run += d[k]
            counts.append(run)
        out[oid] = counts
    return out


def relationship_members(community_ids, as_of: dt.date, formal_only: bool = True):
    """Query of (Member.id, ``community_id``, organization) for members whose relationship is in
    one of ``community_ids`` at ``as_of``, formal unless ``formal_only`` is False."""
    return members_at(community_ids, as_of, ORG, relationship=True, formal_only=formal_only)


def relationship_member_counts(community_ids, as_of: dt.date, formal_only: bool = True, by: str = "community") -> dict:
    """{community id (or organization id with ``by="organization"``): count} of
    :func:`relationship_members`, by one GROUP BY query."""
    key = P.community if by == "community" else P.organization
    q = (P.select(key.alias("k"), fn.COUNT(P.member).alias("n"))
         .where(P.community.in_(_ids(community_ids)), relationship_here(), covers(as_of)))
    if formal_only:
        q = q.join(Member, on=(P.member == Member.id)).where(formal_at(as_of))
    return {r["k"]: r["n"] for r in q.group_by(key).dicts()}


def spans(member_ids, start: dt.date, end: dt.date) -> dict:
    """{member id: [(start, end, organization id, community id, management class), …]} of the
    spans that overlap ``start``–``end``, oldest first (``end`` None: open), by one query per
    thousand members (or one for a subquery of ids).  Dates come back as dates."""
    from core.db import database

    out: dict[int, list] = {}
    parts = [member_ids] if hasattr(member_ids, "sql") else [
        ids[i:i + 1000] for ids in [list(member_ids)] for i in range(0, len(ids), 1000)]
    for part in parts:
        q = (P.select(P.member, P.start, P.end, P.organization, P.community, P.management_class)
             .where(P.member.in_(in_ids(part)) & (P.start <= end) & (P.end.is_null() | (P.end >= start)))
             .order_by(P.member, P.start))
        for mid, lo, hi, o, c, k in database.execute(q).fetchall():
            out.setdefault(mid, []).append((_d(lo), _d(hi), o, c, k))
    return out


def movers(community_ids, start: dt.date, end: dt.date, joiners: bool = True):
    """Subquery of the ids of members (of spans in ``community_ids``) with more than one span
    overlapping ``start``–``end``, one ending inside it, or (``joiners``) one beginning inside
    it: those whose organization, class or roster presence changed in the window."""
    span = P.alias("mv")
    changed = (fn.COUNT(span.member) > 1) | (fn.MIN(fn.COALESCE(span.end, end)) < end)
    if joiners:
        changed = changed | (fn.MAX(span.start) > start)
    return (span.select(span.member)
            .where(span.community.in_(_ids(community_ids)) & (span.start <= end)
                   & (span.end.is_null() | (span.end >= start)))
            .group_by(span.member)
            .having(changed))


def movers_among(member_ids, start: dt.date, end: dt.date):
    """Subquery of those of ``member_ids`` (a list or a subquery) with more than one span
    overlapping ``start``–``end`` (wherever the spans lie) or one ending inside it: the members
    whose organization, community, class or roster presence changed in the window."""
    span = P.alias("mva")
    return (span.select(span.member)
            .where(span.member.in_(_ids(member_ids)) & (span.start <= end) & (span.end.is_null() | (span.end >= start)))
            .group_by(span.member)
            .having((fn.COUNT(span.member) > 1) | (fn.MIN(fn.COALESCE(span.end, end)) < end)))


def moved_members(community_ids, start: dt.date, end: dt.date, joiners: bool = True) -> set:
    """Ids of the members of :func:`movers`."""
    ids = _ids(community_ids)
    return {m for (m,) in movers(ids, start, end, joiners).tuples()}


def state_on(member_spans, day: dt.date):
    """``(organization id, community id, management class)`` of a member on ``day`` from the
    member's :func:`spans`; None when the member was not on the roster that day."""
    for lo, hi, o, c, k in member_spans:
        if lo <= day and (hi is None or hi >= day):
            return o, c, k
    return None


def in_class_on(member_spans, day: dt.date, classes, placed: bool = False) -> bool:
    """Whether the member was on the roster on ``day`` in one of ``classes`` (and, with
    ``placed``, in an organization)."""
    st = state_on(member_spans, day)
    return st is not None and st[2] in classes and (not placed or st[0] is not None)


def _d(v):
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def rebuild(member_ids=None) -> int:
    """Recompute the stored spans of ``member_ids`` (None: everyone) after their record,
    transfers or class changes were written (inside the write transaction)."""
    from core.db import database
    from core import roster_replay

    return roster_replay.rebuild(database, member_ids)


def org_member_counts_today(org_ids) -> dict:
    """{organization id: members on the roster today in it}, by one GROUP BY over the member
    table (its index on organization and roster flag serves it)."""
    q = (Member.select(Member.organization, fn.COUNT(Member.id))
         .where(Member.organization.in_(_ids(org_ids)) & current()).group_by(Member.organization))
    return dict(q.tuples())


def in_orgs_today(org_ids):
    """peewee condition: the member is on the roster today in one of the organizations ``org_ids``."""
    return Member.organization.in_(_ids(org_ids)) & current()


def moves_of(member_id: int) -> list[dict]:
    """The member's history (date, kind, …) oldest first: transfers (``kind`` in / out /
    intra_city, ``from_org``, ``to_org``, ``letter_no``) and class changes (``kind`` class,
    ``old_class``, ``new_class``, ``note``)."""
    from core.models import ClassChange, Transfer

    out = [{"date": _d(t.date), "kind": t.direction, "direction": t.direction, "from_org": t.from_org,
            "to_org": t.to_org, "letter_no": t.letter_no, "id": t.id}
           for t in Transfer.select().where(Transfer.member == member_id)]
    out += [{"date": _d(c.date), "kind": "class", "old_class": c.old_class, "new_class": c.new_class,
             "note": c.note, "id": c.id} for c in ClassChange.select().where(ClassChange.member == member_id)]
    return sorted(out, key=lambda r: (r["date"], r["kind"] == "class", r["id"]))


# ---------------------------------------------------------------- raw SQL (the screens' read paths)

def org_join_sql(m: str = "m", o: str = "o") -> str:
    """SQL join condition: ``o`` is the organization of member ``m`` today."""
    return f"{o}.id = {m}.organization_id"


def community_join_sql(m: str = "m", c: str = "c") -> str:
    """SQL join condition: ``c`` is the community of member ``m`` today (the organization's, or
    the receiving community of an unplaced 流入党员)."""
    return f"{c}.id = {m}.community_id"


def community_sql(m: str = "m") -> str:
    """SQL column: the community of member ``m`` today (for a scope condition on it)."""
    return f"{m}.community_id"


def in_orgs_sql(m: str, marks: str) -> str:
    """SQL condition: member ``m`` is in one of the organizations ``marks`` (``(?, ?, …)``) today."""
    return f"{m}.organization_id IN {marks}"


def in_communities_sql(m: str, marks: str) -> str:
    """SQL condition: member ``m`` is in one of the communities ``marks`` today."""
    return f"{m}.community_id IN {marks}"


def current_sql(alias: str = "m", *, index_hint: bool = False) -> tuple[str, list]:
    """``(sql, params)``: the member ``alias`` is on the roster today (not transferred out).

    ``index_hint``: on SQLite, keep the planner from choosing the roster flag's index over a
    selective one (the flag matches ~99 % of rows; ``+col`` disables an index)."""
    from core.db import is_postgres

    col = f"+{alias}.active" if index_hint and not is_postgres() else f"{alias}.active"
    return f"{col} = ?", [True]


def left_sql(alias: str = "m") -> tuple[str, list]:
    """``(sql, params)``: the member ``alias`` has left the roster (transferred out).  Written
    as the condition of the partial index ``member_left`` (no parameter: a planner matches the
    index's condition against the query's text), which holds only those who left."""
    return f"{alias}.{LEFT_ROSTER}", []


def formal_sql(alias: str, as_of: dt.date) -> tuple[str, list]:
    """``(sql, params)``: the member ``alias`` was formal at ``as_of``."""
    return f"{alias}.full_date IS NOT NULL AND {alias}.full_date <= ?", [as_of.isoformat()]


def probationary_sql(alias: str, as_of: dt.date) -> tuple[str, list]:
    """``(sql, params)``: the member ``alias`` was still probationary (预备) at ``as_of``."""
    return f"({alias}.full_date IS NULL OR {alias}.full_date > ?)", [as_of.isoformat()]


def relationship_sql(alias: str = "m") -> tuple[str, list]:
    """``(sql, params)``: the member ``alias``'s relationship is in their community."""
    marks = ", ".join("?" for _ in RELATIONSHIP_CLASSES)
    return f"{alias}.management_class IN ({marks})", list(RELATIONSHIP_CLASSES)


def class_sql(alias: str, management_class: str) -> tuple[str, list]:
    """``(sql, params)``: the member ``alias`` is of this management class."""
    return f"{alias}.management_class = ?", [management_class]
