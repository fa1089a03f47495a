"""A deliberately naive reference evaluator of three rules, for comparison with the real ones.

Written from the rule texts only (what the rules must do), never from the plugins' code, and
slow on purpose: every question "where was this member on day D" is answered by replaying the
member's record, transfers and class changes *forwards* for that one day, without the stored
roster spans and without :mod:`core.roster`.

* :meth:`Reference.absence` -- ``orglife.absence_without_leave``: the longest run of consecutive
  months in which org-life meetings were held for the member (党员大会/党课 of the member's
  organization on the meeting's date; for a member of a 党小组 the parent branch's 党员大会/党课
  and the group's own 党小组会) and the member attended none and had leave for none.  A month
  counts only if on its last day the member was on the roster in the subject class (社区党员 not
  mobility-impaired, or a placed 流入党员); a month with no meeting held for the member neither
  counts nor breaks a run; a month outside the subject class breaks it (the obligation stopped).
  Runs look back across the year boundary (as far as the records go, from ``first_year``) and
  count when they reach into the year under check.  ``fail`` at 6 (社区党员 only), ``warn`` at 3.
* :meth:`Reference.committee` -- the 支委会 part of ``orglife.three_meetings_one_lesson``: a branch
  owes a 支委会 in each month of the year ended by the as-of date in which, on the month's last
  day, it had ≥ 7 formal members (转正日期 ≤ that day) whose relationship was there (社区党员 or
  流出党员 in the branch or a group under it).
* :meth:`Reference.dues` -- ``dues.on_time``: months owed are the months whose last day is on or
  before the as-of date, from the later of January and the month of 入党, and only months on whose
  last day the member was on the roster with the relationship in the community.  A month owed is
  unpaid when not paid in full by the as-of date, late when paid in full after its month.
  ``fail`` at 6 consecutive unpaid months (looking back across the year boundary; a month not
  owed breaks the run), ``warn`` for any unpaid or late month of the year, else ``pass``.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from core import models as m

ONE_DAY = dt.timedelta(days=1)
RELATIONSHIP = ("resident", "floating_out")
ORG_LIFE = ("assembly", "lecture", "group_meeting")
# moves on one day: arrive first, change class, move inside the city, leave last
ORDER = {"in": 0, "class": 1, "intra_city": 2, "out": 3}


def month_end(y: int, mo: int) -> dt.date:
    return dt.date(y + (mo == 12), mo % 12 + 1, 1) - ONE_DAY


def label(ym) -> str:
    return f"{ym[0]:04d}-{ym[1]:02d}"


def months_between(a: tuple, b: tuple):
    y, mo = a
    while (y, mo) <= b:
        yield y, mo
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)


@dataclass(frozen=True)
class State:
    """A member on one day: organization (None: not placed), community, class, formal or not."""
    org: int | None
    community: int | None
    cls: str
    formal: bool


@dataclass
class Timeline:
    """One member's moves, replayed forwards from the state before the first of them."""
    member: m.Member
    events: list  # (date, order, kind, payload), oldest first
    start_on: bool  # on the roster before the first event (False when it is a 转入)
    start_org: int | None
    start_cls: str
    problems: list = field(default_factory=list)  # the record disagrees with its history

    def state_on(self, d: dt.date, orgs: dict, org_by_code: dict) -> State | None:
        """None when the member was not on the city roster on ``d``."""
        mb = self.member
        if d < mb.joined_date:
            return None
        on, org, cls = self.start_on, self.start_org, self.start_cls
        for day, _o, kind, payload in self.events:
            if day > d:
                break
            if kind == "in":
                on, org = True, org_by_code.get(payload)
            elif kind == "out":
                on = False
            elif kind == "intra_city":
                org = org_by_code.get(payload)
            elif kind == "class":
                cls = payload
        if not on:
            return None
        if mb.placed_date is not None and d < mb.placed_date:
            org = None  # a 流入党员 before placement (编入) has no organization
        comm = orgs[org][3] if org is not None else mb.community_id
        return State(org, comm, cls, mb.full_date is not None and mb.full_date <= d)


class Reference:
    """The city's records, read once; evaluators per member / per branch."""

    def __init__(self, member_ids=None, first_year: int | None = None):
        self.orgs = {o.id: (o.code, o.kind, o.parent_id, o.community_id)
                     for o in m.Organization.select()}
        self.org_by_code = {v[0]: k for k, v in self.orgs.items()}
        self.groups_of = defaultdict(set)
        for oid, (_c, kind, parent, _comm) in self.orgs.items():
            if kind == "group" and parent is not None:
                self.groups_of[parent].add(oid)
        q = m.Member.select()
        if member_ids is not None:
            q = q.where(m.Member.id.in_(sorted(member_ids)))
        self.members = {x.id: x for x in q}
        self.transfers = defaultdict(list)
        self.changes = defaultdict(list)
        for t in m.Transfer.select():
            if t.member_id in self.members:
                self.transfers[t.member_id].append(t)
        for c in m.ClassChange.select():
            if c.member_id in self.members:
                self.changes[c.member_id].append(c)
        self.first_year = first_year
        self._tl: dict = {}
        self._att: dict | None = None
        self._dues: dict | None = None
        self._meetings: dict | None = None

    # ------------------------------------------------------------ history
    def timeline(self, mid: int) -> Timeline:
        tl = self._tl.get(mid)
        if tl is not None:
            return tl
        mb = self.members[mid]
        ts = sorted(self.transfers.get(mid, ()), key=lambda t: (t.date, ORDER[t.direction]))
        cs = sorted(self.changes.get(mid, ()), key=lambda c: c.date)
        events = [(t.date, ORDER[t.direction], t.direction, t.to_org) for t in ts]
        events += [(c.date, ORDER["class"], "class", c.new_class) for c in cs]
        events.sort(key=lambda e: (e[0], e[1]))
        problems = []
        if ts and ts[0].direction == "in":
            start_on, start_org = False, None
        elif ts:
            start_on, start_org = True, self.org_by_code.get(ts[0].from_org)
            if start_org is None:
                problems.append(f"first transfer {ts[0].direction} on {ts[0].date} leaves {ts[0].from_org!r}, "
                                "not an organization of the city")
        else:
            start_on, start_org = True, mb.organization_id
        start_cls = cs[0].old_class if cs else mb.management_class
        tl = Timeline(mb, events, start_on, start_org, start_cls, problems)
        # the record holds today's state: the replay must end there
        cls = start_cls
        for c in cs:
            if c.old_class != cls:
                problems.append(f"class change on {c.date}: old class {c.old_class}, but {cls} was in force")
            cls = c.new_class
        if cls != mb.management_class:
            problems.append(f"class after the changes {cls}, record {mb.management_class}")
        on, org = start_on, start_org
        for t in ts:
            if t.direction == "in":
                if on:
                    problems.append(f"转入 on {t.date} while on the roster")
                on, org = True, self.org_by_code.get(t.to_org)
            elif t.direction == "out":
                if not on:
                    problems.append(f"转出 on {t.date} while off the roster")
                elif self.org_by_code.get(t.from_org) != org:
                    problems.append(f"转出 on {t.date} from {t.from_org}, but the member was elsewhere")
                on = False
            else:
                if self.org_by_code.get(t.from_org) != org:
                    problems.append(f"市内转移 on {t.date} from {t.from_org}, but the member was elsewhere")
                org = self.org_by_code.get(t.to_org)
                if org is None:
                    problems.append(f"市内转移 on {t.date} to {t.to_org!r}, not an organization of the city")
        if on != bool(mb.active):
            problems.append(f"on the roster after the transfers: {on}, record active={mb.active}")
        if not on and ts and (ts[-1].direction != "out" or mb.left_date != ts[-1].date):
            problems.append(f"left_date {mb.left_date} is not the date of the last 转出")
        if on and org != mb.organization_id and not (mb.placed_date is None and org is None):
            problems.append(f"organization after the transfers {org}, record {mb.organization_id}")
        self._tl[mid] = tl
        return tl

    def state(self, mid: int, d: dt.date) -> State | None:
        return self.timeline(mid).state_on(d, self.orgs, self.org_by_code)

    # ------------------------------------------------------------ records, read lazily
    def _load_meetings(self):
        if self._meetings is None:
            self._meetings = defaultdict(list)  # (org, y, m) -> [(id, type, date)]
            for mid, oid, typ, d in (m.Meeting.select(m.Meeting.id, m.Meeting.organization, m.Meeting.type,
                                                      m.Meeting.date)
                                     .where(m.Meeting.type.in_(ORG_LIFE + ("committee_meeting",))).tuples()):
                d = d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10])
                self._meetings[(oid, d.year, d.month)].append((mid, typ, d))
        return self._meetings

    def _load_attendance(self):
        if self._att is None:
            self._att = {}
            ids = sorted(self.members)
            for i in range(0, len(ids), 500):
                q = (m.Attendance.select(m.Attendance.meeting, m.Attendance.member, m.Attendance.status)
                     .where(m.Attendance.member.in_(ids[i:i + 500])).tuples())
                for mtg, mem, st in q:
                    self._att[(mtg, mem)] = st
        return self._att

    def _load_dues(self):
        if self._dues is None:
            self._dues = defaultdict(list)
            ids = sorted(self.members)
            for i in range(0, len(ids), 500):
                q = (m.DuesPayment.select(m.DuesPayment.member, m.DuesPayment.month, m.DuesPayment.due,
                                          m.DuesPayment.paid, m.DuesPayment.paid_date)
                     .where(m.DuesPayment.member.in_(ids[i:i + 500])).tuples())
                for mem, month, due, paid, pdate in q:
                    if pdate is not None and not isinstance(pdate, dt.date):
                        pdate = dt.date.fromisoformat(str(pdate)[:10])
                    self._dues[(mem, str(month)[:7])].append((Decimal(str(due)), Decimal(str(paid or 0)), pdate))
        return self._dues

    def _first(self, year):
        return ((self.first_year or year - 1), 1)

    # ------------------------------------------------------------ orglife.absence_without_leave
    def meetings_for(self, mid: int, y: int, mo: int) -> list:
        """The org-life meetings of month (y, mo) held for the member: looked up day by day."""
        meetings = self._load_meetings()
        out = []
        seen = set()
        d = dt.date(y, mo, 1)
        while d.month == mo:
            st = self.state(mid, d)
            if st is not None and st.org is not None:
                x = st.org
                kind, parent = self.orgs[x][1], self.orgs[x][2]
                wanted = [(parent, ("assembly", "lecture")), (x, ("group_meeting",))] if kind == "group" \
                    else [(x, ("assembly", "lecture"))]
                for org, types in wanted:
                    for mtg, typ, day in meetings.get((org, y, mo), ()):
                        if day == d and typ in types and mtg not in seen:
                            seen.add(mtg)
                            out.append((mtg, typ, day, org))
            d += ONE_DAY
        return out

    def absence(self, mid: int, year: int, as_of: dt.date, warn: int = 3, fail: int = 6) -> dict | None:
        """The reference verdict, or None when the member is not a subject."""
        mb = self.members[mid]
        now = self.state(mid, as_of)
        if now is None:
            return None

        def in_class(st):
            return st is not None and ((st.cls == "resident" and not mb.mobility_impaired)
                                       or (st.cls == "floating_in" and st.org is not None))

        if not in_class(now):
            return None
        att = self._load_attendance()
        months = {}  # label -> ('absent'|'ok'|'none'|'gap', detail)
        order = []
        for ym in months_between(self._first(year), (year, 12)):
            end = month_end(*ym)
            if end > as_of:
                break
            lab = label(ym)
            order.append(lab)
            if not in_class(self.state(mid, end)):
                months[lab] = ("gap", "not on the roster in the subject class on the last day")
                continue
            held = self.meetings_for(mid, *ym)
            if not held:
                months[lab] = ("none", "no meeting held for the member")
                continue
            kept = [x for x in held if att.get((x[0], mid)) in ("present", "leave")]
            months[lab] = ("ok" if kept else "absent",
                           [(x[0], x[1], x[2].isoformat(), self.orgs[x[3]][0], att.get((x[0], mid))) for x in held])
        best, best_run, cur = 0, [], []
        for lab in order:
            status = months[lab][0]
            if status == "none":
                continue
            if status == "absent":
                cur.append(lab)
                if int(lab[:4]) == year and len(cur) > best:
                    best, best_run = len(cur), list(cur)
            else:
                cur = []
        status = "pass"
        if best >= fail and now.cls == "resident":
            status = "fail"
        elif best >= warn:
            status = "warn"
        return {"status": status, "longest_run": best, "run_months": best_run, "months": months,
                "class": now.cls}

    # ------------------------------------------------------------ 支委会 of orglife.three_meetings_one_lesson
    def committee(self, branch: int, year: int, as_of: dt.date, min_members: int = 7,
                  candidates=None) -> dict:
        """Months owed and missed; ``candidates``: the members who may ever have been in the
        branch (default: every member read)."""
        meetings = self._load_meetings()
        mine = {branch} | self.groups_of.get(branch, set())
        cands = sorted(candidates if candidates is not None else self.members)
        counts, owed, missed = {}, [], []
        for mo in range(1, 13):
            end = month_end(year, mo)
            if end > as_of:
                break
            n = 0
            for mid in cands:
                st = self.state(mid, end)
                if st is not None and st.org in mine and st.cls in RELATIONSHIP and st.formal:
                    n += 1
            lab = label((year, mo))
            counts[lab] = n
            if n >= min_members:
                owed.append(lab)
                if not any(typ == "committee_meeting" for _i, typ, _d in meetings.get((branch, year, mo), ())):
                    missed.append(lab)
        return {"counts": counts, "owed": owed, "missed": missed}

    # ------------------------------------------------------------ dues.on_time
    def dues(self, mid: int, year: int, as_of: dt.date, fail: int = 6) -> dict | None:
        mb = self.members[mid]
        now = self.state(mid, as_of)
        if now is None or now.cls not in RELATIONSHIP or now.org is None:
            return None
        pays = self._load_dues()
        joined = (mb.joined_date.year, mb.joined_date.month)
        owed, unpaid, late, order = [], [], [], []
        status_of = {}
        for ym in months_between(max(self._first(year), joined), (year, 12)):
            end = month_end(*ym)
            if end > as_of:
                break
            lab = label(ym)
            order.append(lab)
            st = self.state(mid, end)
            if st is None or st.cls not in RELATIONSHIP or st.org is None:
                status_of[lab] = "not owed"
                continue
            rows = pays.get((mid, lab), [])
            settled = [r for r in rows if r[0] <= 0 or (r[1] >= r[0] and r[2] is not None and r[2] <= as_of)]
            if not settled:
                status_of[lab] = "unpaid"
            elif any(r[0] <= 0 or r[2] <= end for r in settled):
                status_of[lab] = "paid"
            else:
                status_of[lab] = "late"
            if ym[0] == year:
                owed.append(lab)
                if status_of[lab] == "unpaid":
                    unpaid.append(lab)
                elif status_of[lab] == "late":
                    late.append(lab)
        best, best_run, cur = 0, [], []
        for lab in order:
            if status_of[lab] == "unpaid":
                cur.append(lab)
                if int(lab[:4]) == year and len(cur) > best:
                    best, best_run = len(cur), list(cur)
            else:
                cur = []
        status = "fail" if best >= fail else "warn" if unpaid or late else "pass"
        return {"status": status, "months_owed": owed, "unpaid": unpaid, "late": late, "longest_run": best,
                "run_months": best_run, "months": status_of}
