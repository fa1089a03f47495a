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

RELATIONSHIP_CLASSES = ("resident", "floating_out")


def in_relationship(management_class: str | None) -> bool:
    """Whether a member of this management class has their relationship in a community."""
    return management_class in RELATIONSHIP_CLASSES


def on_roster(as_of: dt.date):
    """peewee condition: the member was on the city's roster at ``as_of``."""
    from core.models import Member, Transfer

    arrived_later = Transfer.select(Transfer.id).where(
        (Transfer.member == Member.id) & (Transfer.direction == "in") & (Transfer.date > as_of))
    return ((Member.joined_date <= as_of) & ((Member.active == True) | (Member.left_date > as_of))  # noqa: E712
            & ~fn.EXISTS(arrived_later))


def current():
    """peewee condition: the member is on the roster today (not transferred out)."""
    from core.models import Member

    return Member.active == True  # noqa: E712


def formal_at(as_of: dt.date):
    """peewee condition: the member was a formal (正式) member at ``as_of``."""
    from core.models import Member

    return Member.full_date.is_null(False) & (Member.full_date <= as_of)


def relationship_here():
    """peewee condition: the member's relationship is in their community (社区党员 or 流出党员)."""
    from core.models import Member

    return Member.management_class.in_(RELATIONSHIP_CLASSES)


def member_community():
    """peewee expression: the member's community (the organization's; the member's own when
    unplaced).  Needs a LEFT JOIN of Organization on ``Member.organization``."""
    from core.models import Member, Organization

    return fn.COALESCE(Organization.community, Member.community)


def members_at(community_ids, as_of: dt.date, *fields, classes=None, relationship: bool = False,
               formal_only: bool = False, where=None):
    """Query of the members on the roster at ``as_of`` whose community is one of
    ``community_ids``: columns ``Member.id``, ``community_id`` (alias), then ``fields``.

    ``relationship=True``: only members whose relationship is in the community (their
    organization's community; unplaced members never qualify).  ``classes``: only these
    management classes.  ``formal_only``: only members formal at ``as_of``.  ``where``: a
    further peewee condition.  ``community_ids`` may be a list or a subquery.
    """
    from core.models import Member, Organization

    ids = community_ids if hasattr(community_ids, "sql") else list(community_ids)
    if relationship:
        comm = Organization.community
        q = (Member.select(Member.id, comm.alias("community_id"), *fields)
             .join(Organization, on=(Member.organization == Organization.id))
             .where(comm.in_(ids), relationship_here(), on_roster(as_of)))
    else:
        comm = member_community()
        q = (Member.select(Member.id, comm.alias("community_id"), *fields)
             .join(Organization, JOIN.LEFT_OUTER, on=(Member.organization == Organization.id))
             .where(comm.in_(ids), on_roster(as_of)))
    if classes is not None:
        q = q.where(Member.management_class.in_(list(classes)))
    if formal_only:
        q = q.where(formal_at(as_of))
    if where is not None:
        q = q.where(where)
    return q


def member_ids_at(community_ids, as_of: dt.date, **kw):
    """Subquery of the ids of :func:`members_at` (for ``.in_()``: a whole city never sends
    100,000 ids as parameters)."""
    from core.models import Member

    return members_at(community_ids, as_of, **kw).select(Member.id)


def org_members_at(org_ids, as_of: dt.date, *fields, relationship: bool = True, formal_only: bool = False):
    """Query of the members on the roster at ``as_of`` in the organizations ``org_ids``:
    columns ``Member.id``, ``Member.organization``, then ``fields``."""
    from core.models import Member

    ids = org_ids if hasattr(org_ids, "sql") else list(org_ids)
    q = Member.select(Member.id, Member.organization, *fields).where(Member.organization.in_(ids), on_roster(as_of))
    if relationship:
        q = q.where(relationship_here())
    if formal_only:
        q = q.where(formal_at(as_of))
    return q


def org_member_counts(org_ids, as_of: dt.date, *, relationship: bool = True, formal_only: bool = False) -> dict:
    """{organization id: members} of :func:`org_members_at`, by one GROUP BY query."""
    from core.models import Member

    ids = org_ids if hasattr(org_ids, "sql") else list(org_ids)
    q = Member.select(Member.organization, fn.COUNT(Member.id)).where(Member.organization.in_(ids), on_roster(as_of))
    if relationship:
        q = q.where(relationship_here())
    if formal_only:
        q = q.where(formal_at(as_of))
    return dict(q.group_by(Member.organization).tuples())


def relationship_members(community_ids, as_of: dt.date, formal_only: bool = True):
    """Query of (Member.id, Member.organization, ``community_id``) for members whose
    relationship is in one of ``community_ids`` at ``as_of``, formal unless ``formal_only`` is False."""
    from core.models import Member

    return members_at(community_ids, as_of, Member.organization, relationship=True, formal_only=formal_only)


def relationship_member_counts(community_ids, as_of: dt.date, formal_only: bool = True, by: str = "community") -> dict:
    """{community id (or organization id with ``by="organization"``): count} of
    :func:`relationship_members`, by one GROUP BY query."""
    from core.models import Member, Organization

    key = Organization.community if by == "community" else Member.organization
    q = (Member.select(key.alias("k"), fn.COUNT(Member.id).alias("n"))
         .join(Organization, on=(Member.organization == Organization.id))
         .where(Organization.community.in_(list(community_ids)), relationship_here(), on_roster(as_of)))
    if formal_only:
        q = q.where(formal_at(as_of))
    return {r["k"]: r["n"] for r in q.group_by(key).dicts()}


# ---------------------------------------------------------------- raw SQL (the screens' read paths)

def current_sql(alias: str = "m", *, index_hint: bool = False) -> tuple[str, list]:
    """``(sql, params)``: the member ``alias`` is on the roster today (not transferred out).

    ``index_hint``: on SQLite, keep the planner from choosing the roster flag's index over a
    selective one (the flag matches ~99 % of rows; ``+col`` disables an index)."""
    from core.db import is_postgres

    col = f"+{alias}.active" if index_hint and not is_postgres() else f"{alias}.active"
    return f"{col} = ?", [True]


def left_sql(alias: str = "m") -> tuple[str, list]:
    """``(sql, params)``: the member ``alias`` has left the roster (transferred out)."""
    return f"{alias}.active = ?", [False]


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
