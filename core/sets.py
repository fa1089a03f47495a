"""Set-based helpers for rules, scorers and reports (集合查询): the scope's members,
organizations, meetings, attendance, volunteer hours, pairings, diary entries and dues
months, each for the whole scope in a few queries -- never one query per member.

Every helper takes the plugin's ``ctx`` (a rule's, a scorer's or a report's: they have the
same shape, see the plugin guide's "Contexts") and works on the communities in its scope at
its as-of date.  The helpers that count over a period take ``start`` and ``end``, by default
the year up to the as-of date (``ctx.year_start`` … ``ctx.as_of``).  They return rows
(tuples or dicts), ``{member id: value}`` maps, or subqueries to use with ``.in_()`` -- a
whole city never sends 100,000 ids as parameters.

Plugins import these names from ``core`` (``from core import scope_members``).
"""
from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict

from core import roster
from core.db import id_list, in_ids, month_of
from core.api import to_decimal

CHUNK = 30000


# ---------------------------------------------------------------- plain helpers



def chunks(seq, n: int = CHUNK):
    """``seq`` in lists of at most ``n`` (for ``.in_()`` lists a database accepts)."""
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def month_label(d: dt.date) -> str:
    """``"YYYY-MM"`` of a date."""
    return f"{d.year:04d}-{d.month:02d}"


def month_index(label_or_date) -> int:
    """Months since year 0: consecutive months differ by 1."""
    if isinstance(label_or_date, dt.date):
        return label_or_date.year * 12 + label_or_date.month - 1
    y, m = str(label_or_date)[:7].split("-")
    return int(y) * 12 + int(m) - 1


@functools.lru_cache(maxsize=4096)
def month_from_index(i: int) -> str:
    """The ``"YYYY-MM"`` of :func:`month_index` ``i``."""
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def missed_periods(periods, dates, need: int = 1) -> list[str]:
    """Labels of ``periods`` holding fewer than ``need`` of ``dates``."""
    out = []
    for p in periods:
        if sum(1 for d in dates if p.start <= d <= p.end) < need:
            out.append(p.label)
    return out


def as_date(v):
    """A date from what the driver returns (SQLite: 'YYYY-MM-DD' text; PostgreSQL: a date)."""
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def raw_rows(query, date_cols=()) -> list[tuple]:
    """Rows of a peewee query through the raw cursor (no model or converter
    overhead); the columns at ``date_cols`` are turned into dates."""
    from core.db import database

    rows = database.execute(query).fetchall()
    if not date_cols or not rows:
        return rows
    fromiso = dt.date.fromisoformat
    conv = []
    for r in rows:
        r = list(r)
        for i in date_cols:
            v = r[i]
            if v.__class__ is str:
                r[i] = fromiso(v[:10])
        conv.append(tuple(r))
    return conv


def _date_cols(fields, offset: int) -> tuple:
    from peewee import DateField

    return tuple(offset + i for i, fld in enumerate(fields) if isinstance(fld, DateField))


def _cache(ctx) -> dict:
    """A per-context cache for the helpers (any of the three contexts)."""
    return ctx.__dict__.setdefault("_sets_cache", {})


def _period(ctx, start, end) -> tuple[dt.date, dt.date]:
    return (ctx.year_start if start is None else start), (ctx.as_of if end is None else end)


# ---------------------------------------------------------------- the scope

def scope_orgs(ctx) -> dict[int, tuple]:
    """{org id: (code, kind, parent id, community id)} for the organizations of the communities in scope."""
    from core.models import Organization

    key = "scope_orgs"
    cache = _cache(ctx)
    if key not in cache:
        out = {}
        for ids in chunks(ctx.community_ids):
            q = (Organization.select(Organization.id, Organization.code, Organization.kind,
                                     Organization.parent, Organization.community)
                 .where(Organization.community.in_(ids)).tuples())
            for oid, code, kind, parent, comm in q:
                out[oid] = (code, kind, parent, comm)
        cache[key] = out
    return cache[key]


def scope_members(ctx, *fields, relationship: bool = False, classes=None, where=None) -> list[tuple]:
    """Members on the roster at the as-of date in the communities in scope, as tuples
    ``(member id, community id, id number, management class, organization id, *fields)``
    -- community, class and organization those of the as-of date (date fields as dates) --
    by member id within each block of communities.

    ``relationship=True``: only members whose relationship is in the
    community (社区党员 or 流出党员 belonging to one of its organizations; the
    community is the organization's).  Otherwise every member (still on the
    roster at the as-of date and admitted by it) of a community in scope: by
    its organization's community, else by the member's own community (an
    unplaced 流入党员 has no organization).  ``classes``: only these management
    classes; ``where``: a further peewee condition.
    """
    from core.models import Member

    base = (Member.id_number, roster.CLASS, roster.ORG) + tuple(fields)
    dcols = _date_cols(fields, 5)
    out = []
    for ids in chunks(ctx.community_ids):
        q = roster.members_at(ids, ctx.as_of, *base, relationship=relationship, classes=classes, where=where)
        out.extend(raw_rows(q.order_by(Member.id), dcols))  # one order on every database
    return out


def scope_member_ids(ctx, classes=None, *, relationship: bool = False, column=None, on: dt.date | None = None):
    """A subquery of the ids (or ``column``, e.g. ``Member.id_number``) of the members on the
    roster in scope at ``on`` (default the as-of date), of ``classes`` -- for ``.in_()``."""
    from core.models import Member

    q = roster.members_at(ctx.community_ids, ctx.as_of if on is None else on, classes=classes,
                          relationship=relationship)
    return q.select(column or Member.id)


def member_status(full_date, on: dt.date) -> str:
    """``"full"`` (正式党员) when the 转正日期 is on or before ``on``, else ``"probationary"``."""
    return "full" if full_date is not None and full_date <= on else "probationary"


def member_age(birth_date, id_number, on: dt.date) -> int | None:
    """Completed years on ``on`` from the birth date (else the ID number's), or None."""
    from core import ids

    if birth_date is None and id_number:
        try:
            birth_date = ids.birth_date(id_number)
        except ValueError:
            return None
    return ids.age_on(birth_date, on) if birth_date else None


def members_in_scope(ctx, classes=None, *, relationship: bool = False, on: dt.date | None = None,
                     age: bool = False) -> list[dict]:
    """Members on the roster in scope at ``on`` (default the as-of date), of ``classes``, in one
    query: dicts with ``id``, ``community_id``, ``id_number``, ``name``, ``management_class``,
    ``org_id``, ``org`` (the organization's name), ``joined_date``, ``full_date``,
    ``placed_date``, ``birth_date`` and ``status`` (``full`` / ``probationary`` at that date) --
    organization, community and class those of that date; with ``age=True`` also ``age``
    (completed years at that date).  Ordered by member id."""
    from core.models import Member, Organization

    on = ctx.as_of if on is None else on
    keys = ("id", "community_id", "id_number", "name", "management_class", "joined_date", "placed_date", "org",
            "org_id", "full_date", "birth_date")
    q = (roster.members_at(ctx.community_ids, on, Member.id_number, Member.name, roster.CLASS, Member.joined_date,
                           Member.placed_date, Organization.name, roster.ORG, Member.full_date, Member.birth_date,
                           classes=classes, relationship=relationship)
         .order_by(Member.id))
    rows = [dict(zip(keys, r)) for r in raw_rows(q, (5, 6, 9, 10))]  # raw: ~3x faster than peewee's dicts()
    for m in rows:
        m["status"] = member_status(m["full_date"], on)
        if age:
            m["age"] = member_age(m["birth_date"], m["id_number"], on)
    return rows


def scope_worker_ids(ctx):
    """A subquery of the ids of the community workers of the communities in scope."""
    from core.models import Worker

    return Worker.select(Worker.id).where(Worker.community.in_(ctx.community_ids))


def scope_meetings(ctx, types, start: dt.date, end: dt.date, org_ids=None) -> list[tuple]:
    """(meeting id, org id, type, date) of meetings of ``types`` held by the
    organizations of the communities in scope (or ``org_ids``) between ``start`` and ``end``."""
    from core.models import Meeting

    org_ids = list(scope_orgs(ctx)) if org_ids is None else list(org_ids)
    out = []
    for ids in chunks(org_ids):
        q = (Meeting.select(Meeting.id, Meeting.organization, Meeting.type, Meeting.date)
             .where(Meeting.organization.in_(id_list(ids)) & Meeting.type.in_(list(types))
                    & (Meeting.date >= start) & (Meeting.date <= end)))
        out.extend(raw_rows(q, (3,)))
    return out


def secretary_posts(ctx) -> dict[int, list[tuple]]:
    """{worker id: [(start, end), …]} of 党组织书记 posts of workers in scope."""
    from core.models import Worker, WorkerPost

    out: dict[int, list] = defaultdict(list)
    for ids in chunks(ctx.community_ids):
        q = (WorkerPost.select(WorkerPost.worker, WorkerPost.start_date, WorkerPost.end_date)
             .join(Worker).where(Worker.community.in_(ids) & (WorkerPost.post == "secretary")).tuples())
        for wid, start, end in q:
            out[wid].append((start, end))
    return out


def member_visits(ctx, kind: str, start: dt.date, end: dt.date) -> dict[int, list[tuple]]:
    """{member id: [(date, visit id), …]} of visits of ``kind`` recorded by communities in scope."""
    from core.models import Visit

    out: dict[int, list] = defaultdict(list)
    for ids in chunks(ctx.community_ids):
        q = (Visit.select(Visit.member, Visit.date, Visit.id)
             .where(Visit.community.in_(ids) & (Visit.kind == kind) & (Visit.date >= start)
                    & (Visit.date <= end) & Visit.member.is_null(False)))
        for mid, d, vid in raw_rows(q, (1,)):
            out[mid].append((d, vid))
    return out


# ---------------------------------------------------------------- counts per member over a period

def attendance_counts(ctx, member_ids, statuses=("present",), *, start: dt.date | None = None,
                      end: dt.date | None = None, org_community: bool = False) -> dict:
    """{(member id, status): n} of attendance (出席 ``present`` / 请假 ``leave`` / 缺席 ``absent``)
    at meetings held in the period (default the year up to the as-of date).  ``member_ids`` a
    list or a subquery (:func:`scope_member_ids`).  ``org_community``: only meetings of
    organizations of the member's own community on the meeting's date."""
    from peewee import fn

    from core.models import Attendance, Meeting, Organization

    start, end = _period(ctx, start, end)
    q_ = (Attendance.select(Attendance.member, Attendance.status, fn.COUNT(Attendance.id))
          .join(Meeting, on=(Attendance.meeting == Meeting.id))
          .where(Attendance.member.in_(in_ids(member_ids)), Attendance.status.in_(list(statuses)),
                 Meeting.date >= start, Meeting.date <= end))
    if org_community:  # only meetings of organizations of the member's own (residence) community
        q_ = (q_.join(Organization, on=(Meeting.organization == Organization.id))
              .switch(Attendance))
        q_ = roster.join_at(q_, Attendance.member, Meeting.date).where(Organization.community == roster.COMMUNITY)
    return {(mid, status): n for mid, status, n in raw_rows(q_.group_by(Attendance.member, Attendance.status))}


def volunteer_hours(ctx, member_ids, *, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """{member id: hours (Decimal)} of volunteer service (志愿服务) in the period."""
    from peewee import fn

    from core.models import VolunteerHours

    start, end = _period(ctx, start, end)
    rows = (VolunteerHours.select(VolunteerHours.member, fn.SUM(VolunteerHours.hours))
            .where(VolunteerHours.member.in_(in_ids(member_ids)), VolunteerHours.date >= start,
                   VolunteerHours.date <= end)
            .group_by(VolunteerHours.member).tuples())
    return {m: to_decimal(h or 0) for m, h in rows}


def commitments_kept(ctx, member_ids) -> dict:
    """{member id: commitments (承诺) of the year fulfilled by the as-of date}."""
    from peewee import fn

    from core.models import Commitment

    rows = (Commitment.select(Commitment.member, fn.COUNT(Commitment.id))
            .where(Commitment.member.in_(in_ids(member_ids)), Commitment.year == ctx.year,
                   Commitment.fulfilled == True,  # noqa: E712
                   (Commitment.fulfilled_date.is_null()) | (Commitment.fulfilled_date <= ctx.as_of))
            .group_by(Commitment.member).tuples())
    return dict(rows)


def pairing_counts(ctx, member_ids, *, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """{member id: pairings (结对帮扶 households) active at some time in the period}."""
    from peewee import fn

    from core.models import Pairing

    start, end = _period(ctx, start, end)
    return dict(Pairing.select(Pairing.member, fn.COUNT(Pairing.id))
                .where(Pairing.member.in_(in_ids(member_ids)), Pairing.since <= end,
                       (Pairing.until.is_null()) | (Pairing.until >= start))
                .group_by(Pairing.member).tuples())


def pairings_by_community(ctx, *, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """{community id: pairings active in the period} of members in the communities in scope,
    each counted in the member's community at the as-of date (one query)."""
    from peewee import fn

    from core.models import Pairing

    start, end = _period(ctx, start, end)
    community = roster.COMMUNITY
    q = roster.join_at(Pairing.select(community, fn.COUNT(Pairing.id)), Pairing.member, ctx.as_of)
    return dict(q.where(community.in_(ctx.community_ids), Pairing.since <= end,
                        Pairing.until.is_null() | (Pairing.until >= start))
                .group_by(community).tuples())


def diary_entry_counts(ctx, member_ids, *, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """{member id: diary entries (民情日记) written in the period}."""
    from peewee import fn

    from core.models import DiaryEntry

    start, end = _period(ctx, start, end)
    return dict(DiaryEntry.select(DiaryEntry.member, fn.COUNT(DiaryEntry.id))
                .where(DiaryEntry.member.in_(in_ids(member_ids)), DiaryEntry.date >= start, DiaryEntry.date <= end)
                .group_by(DiaryEntry.member).tuples())


def training_counts_of_members(ctx, classes) -> dict:
    """{id number: trainings started in the year up to the as-of date} for members (of
    ``classes`` in scope) who are also community workers."""
    from peewee import fn

    from core.models import Member, Training, Worker

    rows = (Training.select(Worker.id_number, fn.COUNT(Training.id))
            .join(Worker, on=(Training.worker == Worker.id))
            .where(Worker.id_number.in_(scope_member_ids(ctx, classes, column=Member.id_number)),
                   Training.start_date >= ctx.year_start,
                   Training.start_date <= ctx.as_of)
            .group_by(Worker.id_number).tuples())
    return dict(rows)


def late_dues_months(ctx, members) -> dict:
    """{member id: number of months} the member owes at the as-of date (the months of
    :class:`core.dues.Obligations`, as ``dues.on_time`` counts them: from the later of January
    and the month of joining, each month ended by the as-of date on whose last day the member
    was on the roster with their relationship here) not paid on time (:func:`core.dues.on_time_sql`),
    for ``members`` (dicts with ``id`` and ``joined_date``, as :func:`members_in_scope` gives).
    One grouped query counts the months paid on time; the few members whose roster changed
    are looked at month by month."""
    from peewee import fn

    from core.dues import Obligations, on_time_sql
    from core.models import DuesPayment, Member

    if not members:
        return {}
    ids = [m["id"] for m in members]
    obligations = Obligations(ctx.year, ctx.as_of, community_ids=ctx.community_ids, member_ids=ids)
    owed = {m["id"]: obligations.months(m["id"], m["joined_date"]) for m in members}
    spans = [o for o in owed.values() if o]
    if not spans:
        return {}
    first, last = min(o[0] for o in spans), max(o[-1] for o in spans)
    on_time = (DuesPayment.month >= first) & (DuesPayment.month <= last) & on_time_sql(ctx.as_of)
    movers = {i for i in ids if obligations.moved(i)}
    # the others owe every month from the later of January and their month of joining: a count will do
    join_month = month_of(Member.joined_date)
    counted = dict(raw_rows(DuesPayment.select(DuesPayment.member, fn.COUNT(DuesPayment.id))
                            .join(Member, on=(DuesPayment.member == Member.id))
                            .where(on_time & (DuesPayment.member.in_(scope_member_ids(ctx, roster.RELATIONSHIP_CLASSES)))
                                   & (DuesPayment.month >= join_month))
                            .group_by(DuesPayment.member)))
    paid: dict = {}
    for part in chunks(sorted(movers)):
        for mid, month in raw_rows(DuesPayment.select(DuesPayment.member, DuesPayment.month)
                                   .where(DuesPayment.member.in_(in_ids(part)) & on_time)):
            paid.setdefault(mid, set()).add(month)
    out: dict = {}
    for mid, months in owed.items():
        if mid in movers:
            got = paid.get(mid, ())
            late = sum(1 for x in months if x not in got)
        else:
            late = len(months) - counted.get(mid, 0)
        if late > 0:
            out[mid] = late
    return out

