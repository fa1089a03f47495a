"""Built-in rule of clause 13 on Party dues (党费): ``dues.on_time``.

Subjects: every member whose relationship is in the community (社区党员,
流出党员).  Every month owed (``core.dues.months_owed``: from the later of
January and the month of 入党, each month whose last day is on or before the
as-of date) must be paid in full by the month's end (advance and quarterly
payment allowed: paid ≥ due and paid_date ≤ the month's end).  A month not
settled by the as-of date (``core.dues.settled``) is unpaid (arrears); one
paid in full later than its month is late.
``fail`` at ``fail_months`` consecutive unpaid months (Party Constitution
art. 9), looking back across the year boundary; ``warn`` for any unpaid or
late month of the year; else ``pass``.

Set-based: the on-time months are only counted in SQL; the months of a member
are fetched only when the count falls short, and the previous year only for
members whose January is unpaid.
"""
from __future__ import annotations

from collections import defaultdict

from peewee import Case, fn

from core import (agg_text, chunks, dues_months_owed, dues_on_time_sql, dues_settled, dues_settled_sql,
                  DuesObligations, DuesPayment, hookimpl, in_ids, Member, month_from_index, month_index, raw_rows,
                  Rule, scope_members, tr)

LIST_CAP = 60


BIG_SCOPE = 20000  # members: above this, count the year's dues in one scan instead of looking members up


def evaluate_dues_on_time(ctx):
    months = dues_months_owed(ctx.year, ctx.as_of)
    members = scope_members(ctx, Member.joined_date, relationship=True)
    if not members:
        return
    first, last = (months[0], months[-1]) if months else (None, None)
    member_ids = [r[0] for r in members]
    in_scope = set(member_ids)
    big = len(member_ids) > BIG_SCOPE
    ok_count: dict[int, tuple] = {}
    if months:
        month7 = fn.substr(DuesPayment.month, 1, 7)
        in_year = (fn.substr(DuesPayment.month, 1, 4) == f"{ctx.year:04d}") & (month7 <= last)
        ok = dues_on_time_sql(ctx.as_of)
        q_cols = (DuesPayment.member, fn.SUM(Case(None, [(ok, 1)], 0)),
                  fn.MIN(Case(None, [(ok, DuesPayment.month)], None)))
        for ids in ([member_ids] if big else chunks(member_ids, 5000)):
            q = DuesPayment.select(*q_cols).where(in_year)
            if not big:
                q = q.where(DuesPayment.member.in_(in_ids(ids)))
            for mid, n, low in raw_rows(q.group_by(DuesPayment.member)):
                if mid in in_scope:
                    ok_count[mid] = (int(n or 0), low)

    # the months each member owes (members whose roster changed owe only the months whose
    # last day found them with their relationship here)
    obligations = DuesObligations(ctx.year, ctx.as_of, community_ids=ctx.community_ids, member_ids=member_ids)
    owes = obligations.owes

    jan_i = ctx.year * 12
    required: dict[int, tuple] = {}
    short = []
    for row in members:
        mid, joined = row[0], row[5]
        owed = obligations.months(mid, joined)
        required[mid] = owed
        n, low = ok_count.get(mid, (0, None))
        if obligations.moved(mid) or n != len(owed) or (n and low < owed[0]):
            short.append(mid)

    # the members not plainly on time: their months of the year, classified here
    ok_months: dict[int, set] = defaultdict(set)
    bad: dict[int, dict] = defaultdict(dict)  # member → {month: (due, paid, paid_date, id)}
    as_of = ctx.as_of
    for ids in chunks(short, 5000):
        window = DuesPayment.member.in_(in_ids(ids)) & (DuesPayment.month >= first) & (DuesPayment.month <= last)
        q = (DuesPayment.select(DuesPayment.member, agg_text(DuesPayment.month))
             .where(window & dues_on_time_sql(as_of)).group_by(DuesPayment.member))
        for mid, csv in raw_rows(q):
            ok_months[mid] = set(str(csv).split(","))
        q = (DuesPayment.select(DuesPayment.member, DuesPayment.month, DuesPayment.due, DuesPayment.paid,
                                DuesPayment.paid_date, DuesPayment.id)
             .where(window & ~dues_on_time_sql(as_of)))
        for mid, month, due, paid, pdate, pid in raw_rows(q, (4,)):
            bad[mid][month] = (due or 0, paid or 0, pdate, pid)

    # unpaid months per member in the year (not paid in full by the as-of date), late months
    unpaid: dict[int, list] = {}
    late: dict[int, list] = {}
    need_lookback = []
    joined_of = {row[0]: row[5] for row in members}
    jan_label = month_from_index(jan_i)
    for mid in short:
        u, lt = [], []
        okm = ok_months.get(mid, ())
        badm = bad.get(mid, {})
        for label in required[mid]:
            if label in okm:
                continue
            b = badm.get(label)
            if b is not None and dues_settled(b[0], b[1], b[2], as_of):
                lt.append(label)
            else:
                u.append(label)
        unpaid[mid], late[mid] = u, lt
        if u and u[0] == jan_label and month_index(joined_of[mid]) < jan_i:
            need_lookback.append(mid)

    # previous year: months paid in full by the as-of date, for members whose January is unpaid
    prev_paid: dict[int, set] = defaultdict(set)
    prev_first, prev_last = f"{ctx.year - 1:04d}-01", f"{ctx.year - 1:04d}-12"
    lookback_set = set(need_lookback)
    for ids in chunks(need_lookback, 5000):
        q = (DuesPayment.select(DuesPayment.member, DuesPayment.month)
             .where(DuesPayment.member.in_(in_ids(ids)) & (DuesPayment.month >= prev_first)
                    & (DuesPayment.month <= prev_last) & dues_settled_sql(ctx.as_of)))
        for mid, month in raw_rows(q):
            prev_paid[mid].add(month)

    t_none = tr("本年尚无应交月份", "no month due yet this year")
    t_ok = tr("{n} 个月党费均按月足额交纳", "dues paid in full and on time for all {n} months")
    t_run = tr("连续 {n} 个月未交纳党费（{a} 至 {b}）", "dues unpaid for {n} consecutive months ({a} to {b})")
    t_arrears = tr("欠交党费 {n} 个月：{m}", "dues in arrears for {n} month(s): {m}")
    t_and_late = tr("；逾期交纳 {k} 个月", "; {k} month(s) paid late")
    t_late = tr("{k} 个月党费逾期交纳：{m}", "dues paid late for {k} month(s): {m}")
    fail_by_town = {}
    for row in members:
        mid, comm, idn = row[0], row[1], row[2]
        ref = ctx.community(comm)
        if ref.town not in fail_by_town:
            fail_by_town[ref.town] = int(ctx.params(ref.town).get("fail_months", 6))
        fail_months = fail_by_town[ref.town]
        rng = required[mid]
        subject = idn
        ev = {"member_id": mid, "months_required": len(rng), "fail_months": fail_months}
        if rng:
            ev["from"], ev["to"] = rng[0], rng[-1]
        if mid not in unpaid:
            yield ctx.finding(subject, "pass", t_ok.format(n=len(rng)) if rng else t_none, ev, community=ref)
            continue
        u, lt = unpaid[mid], late[mid]
        decided = set(u) | set(lt)
        # longest run of consecutive unpaid months touching the year, looking back across the year boundary
        idx = [month_index(x) for x in u]
        best, best_run, cur = 0, [], []
        for i in idx:
            if cur and i == cur[-1] + 1:
                cur.append(i)
            else:
                cur = [i]
            if len(cur) > best:
                best, best_run = len(cur), list(cur)
        back = 0
        if mid in lookback_set:  # January unpaid: count the unpaid months just before it
            i = jan_i - 1
            floor = max((ctx.year - 1) * 12, month_index(joined_of[mid]))
            while i >= floor and month_from_index(i) not in prev_paid[mid] and owes(mid, month_from_index(i)):
                back += 1
                i -= 1
            run0 = []  # the run starting in January
            for x in idx:
                if not run0 or x == run0[-1] + 1:
                    run0.append(x)
                else:
                    break
            if back + len(run0) > best:
                best = back + len(run0)
                best_run = list(range(jan_i - back, jan_i)) + run0
        ev.update({"unpaid_months": u[:LIST_CAP], "unpaid_count": len(u), "late_months": lt[:LIST_CAP],
                   "late_count": len(lt), "longest_unpaid_run": best,
                   "run_months": [month_from_index(i) for i in best_run][:LIST_CAP],
                   "payment_ids": (sorted(v[3] for k, v in bad[mid].items() if k in decided)[:LIST_CAP]
                                   if mid in bad else [])})
        if back:
            ev["unpaid_before_year"] = back
        if best >= fail_months:
            yield ctx.finding(subject, "fail", t_run.format(n=best, a=month_from_index(best_run[0]),
                                                            b=month_from_index(best_run[-1])), ev, community=ref)
        elif u:
            msg = t_arrears.format(n=len(u), m=", ".join(u[:12]))
            if lt:
                msg += t_and_late.format(k=len(lt))
            yield ctx.finding(subject, "warn", msg, ev, community=ref)
        elif lt:
            yield ctx.finding(subject, "warn", t_late.format(k=len(lt), m=", ".join(lt[:12])), ev, community=ref)
        else:
            yield ctx.finding(subject, "pass", t_ok.format(n=len(rng)), ev, community=ref)


RULES = [
    Rule(id="dues.on_time", clause=13, title_zh="按时足额交纳党费", title_en="Party dues paid in full and on time",
         subjects="member", params={"fail_months": 6}, evaluate=evaluate_dues_on_time,
         description_zh="组织关系在社区的党员（社区党员、流出党员）自 1 月或入党当月起每月在当月底前足额交纳（可预交、按季交）；"
                        "连续 6 个月未交（跨年度回溯）为不符合，有欠交或逾期为提醒。",
         description_en="Members whose relationship is in the community pay every month, from the later of January "
                        "and the month of joining, in full by the month's end (advance and quarterly payment "
                        "allowed); 6 consecutive unpaid months (looking back across the year boundary) fail; any "
                        "arrears or late month warn."),
]


@hookimpl
def dangjian_register_rules(register):
    for rule in RULES:
        register(rule)
