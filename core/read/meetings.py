"""Meetings and attendance (组织生活): the meeting list, one meeting and its attendance
roster, and the 三会一课 meetings still due this month or quarter."""
from __future__ import annotations

import datetime as dt

from peewee import fn

from core import enums, roster
from core import models as m
from core.dates import today
from core.read._sql import _date, _prefix, _rows, _scope_sql
from core.read.labels import lab
from core.read.organizations import org_members
from core.read.paging import PAGE, newest_first
from core.view import View


def meeting_rows(view: View, *, year: int | None = None, org_id: int | None = None, after: tuple | None = None,
                 limit: int = PAGE, offset: int = 0, count: bool = False):
    """Meetings in the view, newest first; ``after`` = (date, id) of the last row seen."""
    Mt, O = m.Meeting, m.Organization
    q = view.scoped(Mt.select(Mt.id, Mt.code, Mt.date, Mt.type, Mt.topic, Mt.version,
                              O.name.alias("org_name"), O.code.alias("org_code"))
                    .join(O, on=(Mt.organization == O.id)).switch(Mt), Mt)
    if year:
        q = q.where((Mt.date >= dt.date(year, 1, 1)) & (Mt.date <= dt.date(year, 12, 31)))
    if org_id:
        q = q.where(Mt.organization == org_id)
    if count:
        return q.count()
    rows = newest_first(q, Mt, after, offset, limit)
    mids = [r["id"] for r in rows]
    counts: dict[int, dict] = {}
    if mids:
        A = m.Attendance
        for mid, status, n in (A.select(A.meeting, A.status, fn.COUNT(A.id)).where(A.meeting.in_(mids))
                               .group_by(A.meeting, A.status).tuples()):
            counts.setdefault(mid, {})[status] = n
    for r in rows:
        c = counts.get(r["id"], {})
        r["type_label"] = lab(enums.MEETING_TYPE, r["type"])
        r["present"], r["leave"], r["absent"] = c.get("present", 0), c.get("leave", 0), c.get("absent", 0)
    return rows


def meeting(view: View, meeting_id: int) -> dict | None:
    """One meeting in the view with its organization's name and code, or None."""
    Mt, O = m.Meeting, m.Organization
    r = view.scoped(Mt.select(Mt, O.name.alias("org_name"), O.code.alias("org_code"))
                    .join(O, on=(Mt.organization == O.id)).switch(Mt), Mt
                    ).where(Mt.id == meeting_id).dicts().first()
    if r is None:
        return None
    r["type_label"] = lab(enums.MEETING_TYPE, r["type"])
    return r


def suggest_meeting_code(org_code: str, date: dt.date, type_code: str) -> str:
    """``ORGCODE-YYYYMMDD-type`` with a number added when it is taken (codes are unique in
    the whole database, so every code is looked at, not only the view's)."""
    base = f"{org_code}-{date:%Y%m%d}-{type_code}"
    taken = {c for (c,) in m.Meeting.select(m.Meeting.code).where(_prefix(m.Meeting.code, base)).tuples()}
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def attendance_roster(view: View, meeting_id: int) -> list[dict]:
    """Every member expected at the meeting (its organization and those below), with the
    attendance row when there is one: ``status`` None means not recorded yet."""
    mt = view.select(m.Meeting).where(m.Meeting.id == meeting_id).first()
    if mt is None:
        return []
    members = org_members(view, mt.organization_id)
    A = m.Attendance
    rows = {a["member"]: a for a in A.select(A.id, A.member, A.status, A.leave_reason, A.version)
            .where(A.meeting == meeting_id).dicts()}
    known = {r["id"] for r in members}
    extra = [k for k in rows if k not in known]  # recorded but no longer in the org
    if extra:
        for mb in view.select(m.Member, m.Member.id, m.Member.name, m.Member.id_number
                              ).where(m.Member.id.in_(extra)).dicts():
            mb["id_shown"] = view.mask_id(mb["id_number"])
            members.append(mb)
    out = []
    for mb in members:
        a = rows.get(mb["id"])
        out.append({"member_id": mb["id"], "name": mb["name"], "id_shown": mb["id_shown"],
                    "attendance_id": a["id"] if a else None, "status": a["status"] if a else None,
                    "leave_reason": (a["leave_reason"] or "") if a else "",
                    "version": a["version"] if a else None})
    return out


# ---------------------------------------------------------------- 三会一课 still due

def _params_by_town(rule_id: str, towns) -> dict:
    """{town: the rule's parameters there} (:func:`core.rules.params_for`)."""
    from core.rules import params_for

    return {t: params_for(rule_id, t) for t in set(towns)}


def meetings_due(view: View, on: dt.date | None = None) -> dict:
    """Org-life meetings still due in the current month/quarter (三会一课) for orgs in the view:
    {"committee_meeting": n branches (with at least the town's ``committee_meeting_min_members``
     formal members) without a 支委会 this month,
     "group_meeting": n groups without a 党小组会 this month,
     "assembly": n branches without a 党员大会 this quarter, "lecture": … without a 党课 this quarter,
     "branches": n, "groups": n, "committee_min": {town: the threshold there}}."""
    on = on or today()
    month_start = on.replace(day=1)
    q_start = on.replace(month=3 * ((on.month - 1) // 3) + 1, day=1)
    where, params = _scope_sql("o.community_id", view)
    orgs = _rows(f"SELECT o.id, o.kind, t.name, o.parent_id FROM organization o LEFT JOIN community c "
                 f"ON c.id = o.community_id LEFT JOIN town t ON t.id = c.town_id "
                 f"WHERE o.kind IN ('branch', 'group') AND {where}", params)
    branches = [i for i, k, _t, _p in orgs if k == "branch"]
    groups = [i for i, k, _t, _p in orgs if k == "group"]
    town_of = {i: t for i, _k, t, _p in orgs}
    parent_of = {i: p for i, k, _t, p in orgs if k == "group"}
    committee_min = {t: int(p["committee_meeting_min_members"])
                     for t, p in _params_by_town("orglife.three_meetings_one_lesson", town_of.values()).items()}
    held: dict = {}
    rows = _rows(f"SELECT mt.organization_id, mt.type, MAX(mt.date) FROM meeting mt JOIN organization o "
                 f"ON o.id = mt.organization_id WHERE mt.date >= ? AND mt.date <= ? AND {where} "
                 "AND mt.type IN ('assembly', 'committee_meeting', 'group_meeting', 'lecture') "
                 "GROUP BY mt.organization_id, mt.type", [q_start.isoformat(), on.isoformat()] + params)
    for oid, typ, last in rows:
        held[(oid, typ)] = _date(last)
    # formal members whose relationship is there on the day, groups rolled into their branch
    # (as orglife.three_meetings_one_lesson counts them)
    formal: dict = {}
    ids = branches + groups
    for i in range(0, len(ids), 5000):
        for oid, n in roster.org_member_counts(ids[i:i + 5000], on, formal_only=True).items():
            target = parent_of.get(oid, oid)
            formal[target] = formal.get(target, 0) + n

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
