"""Built-in rules of clause 13 on organizational life (组织生活):
``orglife.three_meetings_one_lesson`` (三会一课), ``orglife.democratic_evaluation``
(民主评议党员) and ``orglife.absence_without_leave`` (无故不参加组织生活).

Set-based: meetings, attendance and member counts are fetched for the whole
scope in a few queries; attendance rows come through the raw cursor (the
city holds millions of them).
"""
from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict


from core import (agg_text, Attendance, chunks, in_ids, Evaluation, fraction, get_lang, hookimpl, in_class_on, Meeting,
                  Member, member_ids_at, missed_periods, month_from_index, month_index, movers_among,
                  org_counts_on_days, raw_rows, ROSTER_START, roster_spans, Rule, scope_meetings, scope_members, scope_orgs, tr)

LIST_CAP = 60


def _join(items) -> str:
    return (", " if get_lang() == "en" else "、").join(items)


def _formal_counts(ctx, days) -> dict[int, list]:
    """{org id: [formal members whose relationship was there on each of ``days``]}, groups
    rolled into their branch (from the roster's history: a branch that grew in May counts
    more from May on)."""
    orgs = scope_orgs(ctx)
    counts: dict[int, list] = {}
    for ids in chunks(list(orgs)):
        for oid, per_day in org_counts_on_days(ids, days, formal_only=True).items():
            info = orgs[oid]
            target = info[2] if info[1] == "group" and info[2] in orgs else oid
            have = counts.get(target)
            counts[target] = per_day if have is None else [a + b for a, b in zip(have, per_day)]
    return counts


# ---------------------------------------------------------------- 三会一课

def evaluate_three_meetings(ctx):
    """Every 党支部: 党员大会 each quarter ended; 支委会 each month ended (from 7 formal
    members); 党小组会 each month ended for each 党小组 under it; 党课 each
    quarter (or month) ended."""
    orgs = scope_orgs(ctx)
    branches = sorted((code, oid, comm) for oid, (code, kind, _p, comm) in orgs.items() if kind == "branch")
    groups: dict[int, list] = defaultdict(list)
    for oid, (code, kind, parent, _c) in orgs.items():
        if kind == "group" and parent is not None:
            groups[parent].append((code, oid))
    quarters, months = ctx.quarters_ended(), ctx.months_ended()
    held: dict[tuple, list] = defaultdict(list)  # (org, type) → [date]
    for _mid, oid, typ, d in scope_meetings(ctx, ("assembly", "committee_meeting", "group_meeting", "lecture"),
                                            ctx.year_start, ctx.as_of):
        held[(oid, typ)].append(d)
    # 支委会 months: counted on each month's last day (the as-of date for the month not ended)
    days = [m.end for m in months] + [ctx.as_of]
    counts = _formal_counts(ctx, days)
    names = {"assembly": ("党员大会", "general assembly"), "committee_meeting": ("支委会", "committee meeting"),
             "group_meeting": ("党小组会", "group meeting"), "lecture": ("党课", "Party lecture")}

    def nm(t):
        return names[t][0] if get_lang() != "en" else names[t][1]

    for code, oid, comm in branches:
        ref = ctx.community(comm)
        p = ctx.params(ref.town)
        min_members = int(p.get("committee_meeting_min_members", 7))
        lecture_periods = months if str(p.get("lecture_period", "quarter")) == "month" else quarters
        per_day = counts.get(oid) or [0] * len(days)
        formal = per_day[-1]
        owed = [m for m, n in zip(months, per_day) if n >= min_members]
        problems = []
        ev = {"formal_members": formal, "committee_meeting_required": bool(owed),
              "committee_meeting_months": [m.label for m in owed],
              "quarters_ended": len(quarters), "months_ended": len(months),
              "held": {t: len(held.get((oid, t), [])) for t in ("assembly", "committee_meeting", "lecture")}}
        miss = missed_periods(quarters, held.get((oid, "assembly"), []))
        ev["assembly_missed"] = miss
        if miss:
            problems.append(tr("{k}缺：{p}", "no {k} in {p}", k=nm("assembly"), p=_join(miss)))
        if owed:
            miss = missed_periods(owed, held.get((oid, "committee_meeting"), []))
            ev["committee_meeting_missed"] = miss
            if miss:
                problems.append(tr("{k}缺：{p}", "no {k} in {p}", k=nm("committee_meeting"), p=_join(miss)))
        miss = missed_periods(lecture_periods, held.get((oid, "lecture"), []))
        ev["lecture_missed"] = miss
        if miss:
            problems.append(tr("{k}缺：{p}", "no {k} in {p}", k=nm("lecture"), p=_join(miss)))
        gm = {}
        for gcode, gid in sorted(groups.get(oid, [])):
            miss = missed_periods(months, held.get((gid, "group_meeting"), []))
            if miss:
                gm[gcode] = miss
                problems.append(tr("党小组 {g} {k}缺：{p}", "group {g}: no {k} in {p}", g=gcode,
                                   k=nm("group_meeting"), p=_join(miss)))
        ev["groups"] = len(groups.get(oid, []))
        ev["group_meeting_missed"] = gm
        if problems:
            yield ctx.finding(code, "fail", ("；" if get_lang() != "en" else "; ").join(problems), ev, community=ref)
        elif not quarters and not months:
            yield ctx.finding(code, "pass", tr("本年尚无已结束的月份", "no month has ended yet this year"), ev,
                              community=ref)
        else:
            yield ctx.finding(code, "pass", tr("三会一课按期召开", "three meetings and one lesson held in every period ended"), ev,
                              community=ref)


# ---------------------------------------------------------------- 民主评议

def evaluate_democratic_evaluation(ctx):
    """Every 党支部: a 民主评议 meeting in the year and a result for every formal
    member (formal at the date of the year's last 民主评议 meeting, else at the
    as-of date; 预备党员 take part but are not graded); warn when 优秀 exceeds
    max_excellent_share of those graded (compared exactly).  Not done before
    the year has ended: warn ("due by 12-31")."""
    orgs = scope_orgs(ctx)
    branch_of = {}
    for oid, (code, kind, parent, _c) in orgs.items():
        if kind == "branch":
            branch_of[oid] = oid
        elif kind == "group" and parent in orgs and orgs[parent][1] == "branch":
            branch_of[oid] = parent
    meetings: dict[int, list] = defaultdict(list)
    for mid, oid, _t, d in scope_meetings(ctx, ("democratic_evaluation",), ctx.year_start, ctx.as_of):
        if oid in branch_of:
            meetings[branch_of[oid]].append((d, mid))
    members = scope_members(ctx, Member.full_date, relationship=True)
    by_branch: dict[int, list] = defaultdict(list)
    for row in members:
        b = branch_of.get(row[4])
        if b is not None:
            by_branch[b].append(row)
    results: dict[int, str] = {}
    for ids in chunks(ctx.community_ids):
        q = (Evaluation.select(Evaluation.member, Evaluation.result)
             .where(Evaluation.member.in_(member_ids_at(ids, ctx.as_of, relationship=True))
                    & (Evaluation.year == ctx.year)))
        results.update(raw_rows(q))
    for oid in sorted((o for o, info in orgs.items() if info[1] == "branch"), key=lambda o: orgs[o][0]):
        code, _k, _p, comm = orgs[oid]
        ref = ctx.community(comm)
        limit = fraction(ctx.params(ref.town).get("max_excellent_share", "1/3"))
        mts = sorted(meetings.get(oid, []))
        on = mts[-1][0] if mts else ctx.as_of
        rows = by_branch.get(oid, [])
        formal = [r for r in rows if r[5] is not None and r[5] <= on]
        ungraded = [r for r in formal if r[0] not in results]
        graded = [r for r in rows if r[0] in results]
        excellent = sum(1 for r in graded if results[r[0]] == "excellent")
        ev = {"meeting_ids": [m for _, m in mts], "formal_members": len(formal), "graded": len(graded),
              "excellent": excellent, "ungraded": len(ungraded),
              "ungraded_member_ids": [r[0] for r in ungraded][:LIST_CAP], "max_excellent_share": str(limit)}
        problems = []
        if not mts:
            problems.append(tr("本年未召开民主评议会议", "no democratic evaluation meeting this year"))
        if ungraded:
            problems.append(tr("{n} 名正式党员无评议结果", "{n} formal members without a result", n=len(ungraded)))
        too_many = excellent * limit.denominator > len(graded) * limit.numerator
        if too_many:
            ev["excellent_share"] = f"{excellent}/{len(graded)}"
        sep = "；" if get_lang() != "en" else "; "
        if problems:
            status = "fail" if ctx.year_over else "warn"
            msg = sep.join(problems)
            if not ctx.year_over:
                msg += tr("（12-31 前完成）", " (due by 12-31)")
            if too_many:
                msg += sep + tr("优秀 {e}/{g} 超过 {l}", "{e} of {g} graded excellent, more than {l}", e=excellent, g=len(graded),
                                l=str(limit))
            yield ctx.finding(code, status, msg, ev, community=ref)
        elif too_many:
            yield ctx.finding(code, "warn", tr("评为优秀的 {e} 人超过已评 {g} 人的 {l}",
                                               "{e} rated excellent: more than {l} of the {g} graded",
                                               e=excellent, g=len(graded), l=str(limit)), ev, community=ref)
        else:
            yield ctx.finding(code, "pass", tr("已开展民主评议，{g} 人有评议结果（优秀 {e}）",
                                               "democratic evaluation held; {g} graded ({e} excellent)",
                                               g=len(graded), e=excellent), ev, community=ref)


# ---------------------------------------------------------------- 无故不参加组织生活

def _covered(meeting_key: dict) -> dict:
    """{meeting key: {member id}} of present/leave rows at the meetings of ``meeting_key``,
    read per meeting with the member ids aggregated in SQL.  The meetings are named by id, so
    both databases read attendance through its (meeting, member) index: a subquery over
    meetings lets PostgreSQL scan the whole attendance table for each batch instead."""
    cov: dict[int, set] = {}
    for ids in chunks(sorted(meeting_key), 5000):
        q = (Attendance.select(Attendance.meeting, agg_text(Attendance.member))
             .where(Attendance.meeting.in_(in_ids(ids)) & Attendance.status.in_(("present", "leave")))
             .group_by(Attendance.meeting))
        for mtg, csv in raw_rows(q):
            key = meeting_key[mtg]
            got = set(map(int, str(csv).split(",")))
            if key in cov:
                cov[key] |= got
            else:
                cov[key] = got
    return cov


def _covered_of_members(meeting_key: dict, members: list, start: dt.date, end: dt.date) -> dict:
    """{member id: {meeting key}} of present/leave rows of a few members (read per member)."""
    cov: dict[int, set] = defaultdict(set)
    for ids in chunks(members, 5000):
        q = (Attendance.select(Attendance.member, Attendance.meeting)
             .join(Meeting, on=(Attendance.meeting == Meeting.id))
             .where(Attendance.member.in_(in_ids(ids)) & Attendance.status.in_(("present", "leave"))
                    & (Meeting.date >= start) & (Meeting.date <= end)))
        for member, mtg in raw_rows(q):
            key = meeting_key.get(mtg)
            if key is not None:
                cov[member].add(key)
    return cov


ORG_LIFE = ("assembly", "lecture", "group_meeting")


def _held(ctx, orgs, org_ids, start, end, base):
    """(meeting id → key, org id → set of month offsets) for the org-life meetings held for
    members: 党员大会/党课 of a non-group organization, 党小组会 of a group.  A key is
    ``org id * 100 + month offset``."""
    meeting_key, held, last = {}, defaultdict(set), {}
    for mtg, oid, typ, d in scope_meetings(ctx, ORG_LIFE, start, end, org_ids):
        is_group = orgs.get(oid, ("", ""))[1] == "group"
        if (typ == "group_meeting") != is_group:
            continue
        off = month_index(d) - base
        k = oid * 100 + off
        meeting_key[mtg] = k
        held[oid].add(off)
        if k not in last or d > last[k]:
            last[k] = d
    return meeting_key, held, last


def _first_month_is_theirs(last: dict, key: tuple, off: int, start: dt.date) -> bool:
    """A member whose span began on ``start`` (inside month ``off``) has a meeting of that
    month held for them only if one of their organization's (or group's) falls on or after it."""
    if start.day == 1:
        return True
    branch, group = key
    dates = [last.get(o * 100 + off) for o in (branch, group) if o is not None]
    return any(d is not None and d >= start for d in dates)


def _by_key(meeting_key: dict) -> dict:
    """{org id * 100 + month offset: [meeting ids]} (the records behind a month)."""
    out: dict[int, list] = defaultdict(list)
    for mtg, key in meeting_key.items():
        out[key].append(mtg)
    return out


def _seq_of(branch, group, held_map) -> list:
    ms = set(held_map.get(branch, ()))
    if group is not None:
        ms |= held_map.get(group, set())
    return sorted(ms)


ABSENCE_CHUNK = 100  # communities per pass: bounds the memory of the attendance sets


def evaluate_absence(ctx):
    """Every 社区党员 not mobility-impaired, and every placed 流入党员 (warn at most):
    the longest run of consecutive months (looking back across the year
    boundary) in which org-life meetings were held for the member and the
    member attended none of them and had leave for none of them.  Months with
    no meeting held for the member neither count nor break a run.

    Per batch of communities: phase 1 reads the year's attendance (member ids
    aggregated per meeting in SQL) and finds absent months by set differences
    per organization and month; phase 2 reads the previous year only for
    members whose first months of the year are absent."""
    months = ctx.months_ended()
    orgs = scope_orgs(ctx)
    rows = scope_members(ctx, Member.joined_date, Member.placed_date, Member.mobility_impaired, ROSTER_START,
                         classes=("resident", "floating_in"))
    by_comm: dict[int, list] = defaultdict(list)
    for row in rows:
        mid, comm, idn, cls, org, joined, placed, immobile, _start = row
        if org is None or org not in orgs:
            continue
        if cls == "resident" and immobile:
            continue
        if cls == "floating_in" and placed is not None and placed > ctx.as_of:
            continue  # placed (has an organization) — but only after the as-of date
        by_comm[comm].append(row)
    del rows
    if not by_comm:
        return
    orgs_by_comm: dict[int, list] = defaultdict(list)
    for oid, info in orgs.items():
        orgs_by_comm[info[3]].append(oid)
    base = (ctx.year - 1) * 12  # month offsets: 0–11 the previous year, 12–23 this year
    labels = [month_from_index(base + i) for i in range(24)]
    t_run = tr("连续 {n} 个有会议的月份无故不参加组织生活（{r}）",
               "absent without leave in {n} consecutive months with meetings ({r})")
    t_ok = tr("无连续 {w} 个月无故缺席（有会议的月份 {h} 个，缺席 {a} 个）",
              "no run of {w} months absent without leave ({h} months with meetings, {a} absent)")
    params_by_town: dict = {}
    # members whose organization, class or roster presence changed in the two years looked at:
    # the meetings held for them are those of the organization they belonged to on each date
    window = dt.date(ctx.year - 1, 1, 1)
    # (a member who joined inside the window has one span: the fast path takes the first month's
    # meetings from the day the span began)
    subjects_q = member_ids_at(ctx.community_ids, ctx.as_of, classes=("resident", "floating_in"))
    moved = {m for (m,) in movers_among(subjects_q, window, ctx.as_of).tuples()}
    for comm_ids in chunks(sorted(by_comm), ABSENCE_CHUNK):
        subjects = [r for c in comm_ids for r in by_comm[c] if r[0] not in moved]
        moving = [r for c in comm_ids for r in by_comm[c] if r[0] in moved]
        org_ids = [o for c in comm_ids for o in orgs_by_comm.get(c, ())]
        results, back, held_at = _absence_runs(ctx, orgs, org_ids, subjects, months, base)
        mover_runs = _mover_runs(ctx, [r[0] for r in moving], months, base, window) if moving else {}
        results.update(mover_runs)
        subjects = [r for c in comm_ids for r in by_comm[c]]
        for row in subjects:
            mid, comm, idn, cls = row[0], row[1], row[2], row[3]
            ref = ctx.community(comm)
            if ref.town not in params_by_town:
                p = ctx.params(ref.town)
                params_by_town[ref.town] = (int(p.get("fail_months", 6)), int(p.get("warn_months", 3)))
            fail_m, warn_m = params_by_town[ref.town]
            n_held, absent, best, run, lead = results[mid][:5]
            run = list(run)
            before = back.get(mid)
            if before and len(before) + lead > best:
                best = len(before) + lead
                run = before + list(absent[:lead])
            ev = {"member_id": mid, "months_with_meetings": n_held, "absent_months": [labels[m] for m in absent],
                  "longest_run": best}
            subject = idn
            if best >= warn_m:
                ev["run_months"] = [labels[m] for m in run]
                if mid in mover_runs:
                    ev["meeting_ids"] = sorted(mover_runs[mid][5])[:LIST_CAP]
                else:
                    org = row[4]
                    pair = (orgs[org][2], org) if orgs[org][1] == "group" else (org, None)
                    ev["meeting_ids"] = sorted(x for m in run for o in pair if o is not None
                                               for x in held_at.get(o * 100 + m, ()))[:LIST_CAP]
                ev["management_class"] = cls
                status = "fail" if best >= fail_m and cls != "floating_in" else "warn"
                yield ctx.finding(subject, status, t_run.format(n=best, r=f"{labels[run[0]]}–{labels[run[-1]]}"),
                                  ev, community=ref)
            else:
                yield ctx.finding(subject, "pass", t_ok.format(w=warn_m, h=n_held, a=len(absent)), ev,
                                  community=ref)


SUBJECT_CLASSES = ("resident", "floating_in")


def _mover_runs(ctx, member_ids, months, base, window) -> dict:
    """For members whose organization, class or roster presence changed since ``window``:
    {member id: (months with meetings this year, absent month offsets this year, longest run
    touching the year, its months, 0, meeting ids of the run)}, day by day from the roster's
    history.  A meeting is the member's when, on its date, the member belonged to its
    organization (a 党小组会: to its group; a 党员大会 or 党课: to the branch or a group under
    it); a month counts only when on its last day the member was in a subject class and placed,
    and a month outside the class breaks a run."""
    from core import month_end, Organization

    end = months[-1].end if months else ctx.year_start - dt.timedelta(days=1)
    last_off = month_index(end) - base
    spans = roster_spans(member_ids, window, end)
    org_ids = {sp[2] for v in spans.values() for sp in v if sp[2] is not None}
    kind_parent = {}
    for ids in chunks(list(org_ids)):
        for oid, kind, parent in Organization.select(Organization.id, Organization.kind,
                                                     Organization.parent).where(Organization.id.in_(in_ids(ids))).tuples():
            kind_parent[oid] = (kind, parent)
    hosts = set(org_ids) | {p for k, p in kind_parent.values() if k == "group" and p is not None}
    meetings: dict[int, list] = defaultdict(list)  # org → [(date, meeting id, type)]
    for ids in chunks(list(hosts)):
        q = (Meeting.select(Meeting.id, Meeting.organization, Meeting.type, Meeting.date)
             .where(Meeting.organization.in_(in_ids(ids)) & Meeting.type.in_(list(ORG_LIFE))
                    & (Meeting.date >= window) & (Meeting.date <= end)))
        for mtg, oid, typ, d in raw_rows(q, (3,)):
            meetings[oid].append((d, mtg, typ))
    covered: dict[int, set] = defaultdict(set)
    for ids_ in chunks(member_ids, 5000):
        q = (Attendance.select(Attendance.member, Attendance.meeting)
             .join(Meeting, on=(Attendance.meeting == Meeting.id))
             .where(Attendance.member.in_(in_ids(ids_)) & Attendance.status.in_(("present", "leave"))
                    & (Meeting.date >= window) & (Meeting.date <= end)))
        for member, mtg in raw_rows(q):
            covered[member].add(mtg)
    ends = {}
    out = {}
    for mid in member_ids:
        sp = spans.get(mid, [])
        held: dict[int, list] = defaultdict(list)  # month offset → meeting ids held for the member
        for lo, hi, oid, _c, _k in sp:
            if oid is None:
                continue
            kind, parent = kind_parent.get(oid, ("", None))
            own = [(oid, ("group_meeting",) if kind == "group" else ("assembly", "lecture"))]
            if kind == "group" and parent is not None:
                own.append((parent, ("assembly", "lecture")))
            for host, types in own:
                for d, mtg, typ in meetings.get(host, ()):
                    if typ in types and lo <= d and (hi is None or d <= hi):
                        held[month_index(d) - base].append(mtg)
        got = covered.get(mid, set())
        seq, absent_all = [], []
        best, best_run, cur = 0, [], []
        for off in range(last_off + 1):
            if off not in ends:
                ends[off] = month_end(month_from_index(base + off))
            if not in_class_on(sp, ends[off], SUBJECT_CLASSES, placed=True):
                cur = []  # a month outside the rule's class (floating out, in service …) breaks a run
                continue
            if off not in held:
                continue  # no meeting held for the member: neither counts nor breaks
            seq.append(off)
            if any(m in got for m in held[off]):
                cur = []
                continue
            absent_all.append(off)
            cur.append(off)
            if off >= 12 and len(cur) > best:
                best, best_run = len(cur), list(cur)
        out[mid] = (sum(1 for off in seq if off >= 12), [off for off in absent_all if off >= 12], best, best_run, 0,
                    [m for off in best_run for m in held[off]])
    return out


def _absence_runs(ctx, orgs, org_ids, subjects, months, base):
    """For one batch: {member id: (months with meetings, absent month offsets, longest run in the
    year, its months, leading absent months)} and {member id: absent months just before the year}."""
    jan = 12
    if months:
        meeting_key, held, last = _held(ctx, orgs, org_ids, ctx.year_start, months[-1].end, base)
        held_at = _by_key(meeting_key)
        cov = _covered(meeting_key) if meeting_key else {}
    else:
        held, cov, held_at, last = {}, {}, {}, {}

    # members grouped by (branch, group): they share the meetings held for them
    by_key: dict[tuple, list] = defaultdict(list)
    info = {}
    for row in subjects:
        mid, comm, idn, cls, org, joined, placed, _imm, start = row
        kind, parent = orgs[org][1], orgs[org][2]
        key = (parent, org) if kind == "group" else (org, None)
        by_key[key].append(mid)
        # one span over the window (movers go through _mover_runs): it began on ``start``
        info[mid] = (key, month_index(start) - base, start)
    empty: set = set()
    absent_of: dict[int, list] = defaultdict(list)  # member → absent month offsets, ascending
    seqs = {}
    for key, mids in by_key.items():
        branch, group = key
        seq = _seq_of(branch, group, held)
        seqs[key] = seq
        everyone = set(mids)
        for m in seq:
            got = cov.get(branch * 100 + m, empty) if branch is not None else empty
            if group is not None:
                got = got | cov.get(group * 100 + m, empty)
            for x in everyone - got:
                absent_of[x].append(m)
    del cov

    results = {}
    lookback = []
    pos_of: dict[tuple, dict] = {}
    for row in subjects:
        mid = row[0]
        key, st, start = info[mid]
        seq = seqs[key]
        absent = absent_of.get(mid)
        if st > jan:
            seq = seq[bisect.bisect_left(seq, st):]
            if absent:
                absent = [m for m in absent if m >= st]
        if st >= jan and seq and seq[0] == st and not _first_month_is_theirs(last, key, st, start):
            seq = seq[1:]  # the month began before the member did, and so did its meetings
            if absent:
                absent = [m for m in absent if m != st]
        if not absent:
            results[mid] = (len(seq), (), 0, (), 0)
            continue
        pos = pos_of.get(key)
        if pos is None:
            pos = pos_of[key] = {m: i for i, m in enumerate(seqs[key])}
        best, best_end, cur, prev = 0, -1, 0, None
        for m in absent:
            i = pos[m]
            cur = cur + 1 if prev is not None and i == prev + 1 else 1
            prev = i
            if cur > best:
                best, best_end = cur, i
        lead = 0
        while lead < len(absent) and absent[lead] == seq[lead]:
            lead += 1
        full = seqs[key]
        results[mid] = (len(seq), absent, best, full[best_end - best + 1:best_end + 1], lead)
        if lead and st < jan:
            lookback.append(mid)

    back: dict[int, list] = {}
    if lookback:
        prev_start, prev_end = dt.date(ctx.year - 1, 1, 1), ctx.year_start - dt.timedelta(days=1)
        prev_key, prev_held, prev_last = _held(ctx, orgs, org_ids, prev_start, prev_end, base)
        held_at.update(_by_key(prev_key))
        prev_cov = _covered_of_members(prev_key, lookback, prev_start, prev_end)
        prev_seqs: dict[tuple, list] = {}
        for mid in lookback:
            key, st, start = info[mid]
            branch, group = key
            if key not in prev_seqs:
                prev_seqs[key] = _seq_of(branch, group, prev_held)
            keys = prev_cov.get(mid, empty)
            run = []
            for m in reversed(prev_seqs[key]):
                if m < st or (branch is not None and branch * 100 + m in keys) \
                        or (group is not None and group * 100 + m in keys) \
                        or (m == st and not _first_month_is_theirs(prev_last, key, st, start)):
                    break
                run.append(m)
            back[mid] = run[::-1]
    return results, back, held_at


RULES = [
    Rule(id="orglife.three_meetings_one_lesson", clause=13, title_zh="三会一课", title_en="Three meetings and one lesson",
         subjects="organization", params={"committee_meeting_min_members": 7, "lecture_period": "quarter"},
         evaluate=evaluate_three_meetings,
         description_zh="每个党支部：已结束的每季度党员大会；已结束的月份中，当月最后一日正式党员（组织关系在此）达 7 人的，"
                        "该月须有支委会（按月从党员的组织关系变动历史计数：5 月达到 7 人的支部自 5 月起）；每个党小组每月党小组会；"
                        "每季度党课（lecture_period）。",
         description_en="Every branch: a 党员大会 each quarter ended; a 支委会 in each month ended on whose last day "
                        "the branch had 7 or more formal members whose relationship was there (counted month by "
                        "month from the members' moves: a branch that grew to 7 in May owes it from May); a 党小组会 "
                        "each month ended for each group under it; a 党课 each quarter ended (lecture_period)."),
    Rule(id="orglife.democratic_evaluation", clause=13, title_zh="民主评议党员", title_en="Democratic evaluation of members",
         subjects="organization", params={"max_excellent_share": "1/3"}, evaluate=evaluate_democratic_evaluation,
         description_zh="每个党支部本年召开民主评议会议、每名正式党员有评议结果（预备党员参加但不评定）；优秀超过已评人数 1/3 为提醒；"
                        "年底前未完成为提醒，年度结束仍未完成为不符合。",
         description_en="Every branch: a 民主评议 meeting in the year and a result for every formal member "
                        "(probationary members are not graded); warn when 优秀 > 1/3 of those graded; not done "
                        "before the year has ended is warn, at year end fail."),
    Rule(id="orglife.absence_without_leave", clause=13, title_zh="无故不参加组织生活",
         title_en="Absent from org life without leave", subjects="member",
         params={"fail_months": 6, "warn_months": 3}, evaluate=evaluate_absence,
         description_zh="行动方便的社区党员与已编入的流入党员（至多提醒）：有组织生活会议的月份中未出席也未请假，连续 6 个月为不符合、"
                        "3 个月为提醒；无会议的月份不计入也不中断；跨年度回溯。会议是否属于某党员，按会议日期该党员所在的组织"
                        "（转接前属原组织，转接当日起属新组织）；党员仅在月末属于本规则对象类别的月份承担义务。",
         description_en="Resident members not mobility-impaired, and placed floating-in members (warn at most): "
                        "months with org-life meetings held for the member, none attended and no leave; 6 in a row "
                        "fail, 3 warn; months without meetings neither count nor break a run; runs look back "
                        "across the year boundary. A meeting is the member's when the member belonged to its "
                        "organization on its date (the old one before a transfer, the new one from its date); a "
                        "member owes only the months on whose last day they were in the rule's subject class."),
]


@hookimpl
def dangjian_register_rules(register):
    for rule in RULES:
        register(rule)
