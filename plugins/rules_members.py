"""Built-in rules of clauses 12–13 on members (党员分类管理):
``member.floating_in_placed``, ``member.immobile_visited``,
``member.floating_out_contact``.

Set-based through ``core``'s helpers (``scope_members``, ``member_visits``): a
few queries for the whole scope, never one per member.
"""
from __future__ import annotations

import datetime as dt

from core import (chunks, FloatingCertificate, get_lang, hookimpl, Member, member_visits, missed_periods, Rule,
                  scope_members, tr)


# ---------------------------------------------------------------- 第12条

def evaluate_floating_in_placed(ctx):
    """Every 流入党员 registered by the as-of date: placed (编入) within max_days of 报到."""
    rows = scope_members(ctx, Member.registered_date, Member.placed_date,
                         classes=("floating_in",))
    for mid, comm, idn, _cls, org, reg, placed in rows:
        if reg is not None and reg > ctx.as_of:
            continue  # not yet registered at the as-of date: not a 流入党员 then
        raw_placed = placed
        ref = ctx.community(comm)
        max_days = int(ctx.params(ref.town).get("max_days", 30))
        if placed is not None and placed > ctx.as_of:
            placed = None
        ev = {"member_id": mid, "registered_date": reg.isoformat() if reg else None,
              "placed_date": placed.isoformat() if placed else None, "max_days": max_days}
        subject = idn
        if placed is None and org is not None and (raw_placed is None):
            yield ctx.finding(subject, "warn", tr("已编入党组织但未记录编入日期，无法判断是否在 {n} 天内编入",
                                                  "placed into an organization but the placement date is not "
                                                  "recorded: cannot tell whether within {n} days", n=max_days),
                              ev, community=ref)
            continue
        if reg is None:
            if placed is not None:
                yield ctx.finding(subject, "pass", tr("已于 {p} 编入党组织（无报到日期）",
                                                      "placed on {p} (no registration date recorded)",
                                                      p=placed), ev, community=ref)
            else:
                yield ctx.finding(subject, "fail", tr("未编入党组织，且无报到日期",
                                                      "not placed into an organization and no registration date",
                                                      ), ev, community=ref)
            continue
        due = reg + dt.timedelta(days=max_days)
        ev["due"] = due.isoformat()
        if placed is not None:
            days = (placed - reg).days
            ev["days"] = days
            if days <= max_days:
                yield ctx.finding(subject, "pass", tr("报到后 {d} 天编入党组织（限 {n} 天）",
                                                      "placed {d} days after registering (limit {n})",
                                                      d=days, n=max_days), ev, community=ref)
            else:
                yield ctx.finding(subject, "fail", tr("报到后 {d} 天才编入党组织，超过 {n} 天",
                                                      "placed {d} days after registering, more than {n}",
                                                      d=days, n=max_days), ev, community=ref)
        elif ctx.as_of <= due:
            yield ctx.finding(subject, "warn", tr("尚未编入党组织，应于 {due} 前编入",
                                                  "not yet placed; due by {due}", due=due), ev, community=ref)
        else:
            ev["days"] = (ctx.as_of - reg).days
            yield ctx.finding(subject, "fail", tr("报到已 {d} 天仍未编入党组织（限 {n} 天）",
                                                  "not placed {d} days after registering (limit {n})",
                                                  d=ev["days"], n=max_days), ev, community=ref)


# ---------------------------------------------------------------- 第13条

def _quarterly_visit_findings(ctx, rows, visits, kind_zh, kind_en, extra=None):
    quarters = ctx.quarters_ended()
    for row in rows:
        mid, comm, idn = row[0], row[1], row[2]
        ref = ctx.community(comm)
        need = int(ctx.params(ref.town).get("per_quarter", 1))
        mine = visits.get(mid, [])
        dates = [d for d, _ in mine]
        missed = missed_periods(quarters, dates, need)
        problems = list(extra(row)) if extra else []
        ev = {"member_id": mid, "quarters_ended": [q.label for q in quarters], "quarters_missed": missed,
              "visits": len(mine), "visit_ids": [v for _, v in sorted(mine)][:50], "per_quarter": need}
        if problems:
            ev["missing"] = [p[0] for p in problems]
        subject = idn
        if missed or problems:
            parts = [p[1] for p in problems]
            if missed:
                parts.append(tr("{k}缺少季度：{q}", "no {k} in {q}", k=kind_zh if _zh() else kind_en,
                                q="、".join(missed) if _zh() else ", ".join(missed)))
            yield ctx.finding(subject, "fail", "；".join(parts) if _zh() else "; ".join(parts), ev, community=ref)
        elif not quarters:
            yield ctx.finding(subject, "pass", tr("本年尚无已结束的季度", "no quarter has ended yet this year"),
                              ev, community=ref)
        else:
            yield ctx.finding(subject, "pass", tr("每季度均有{k}（{n} 次）", "{k} in every quarter ended ({n})",
                                                  k=kind_zh if _zh() else kind_en, n=len(mine)), ev, community=ref)


def _zh() -> bool:
    return get_lang() != "en"


def evaluate_immobile_visited(ctx):
    """Every mobility-impaired member: a 困难党员走访 in each quarter ended."""
    rows = scope_members(ctx, where=(Member.mobility_impaired == True))  # noqa: E712
    visits = member_visits(ctx, "hardship_visit", ctx.year_start, ctx.as_of)
    yield from _quarterly_visit_findings(ctx, rows, visits, "上门走访", "visit")


def evaluate_floating_out_contact(ctx):
    """Every 流出党员: certificate number, contact person, a 流出党员联系 each quarter ended."""
    rows = scope_members(ctx, Member.certificate_no, Member.contact_person,
                         classes=("floating_out",))
    with_cert: set[int] = set()
    for ids in chunks([r[0] for r in rows if not (r[5] or "").strip()]):
        q = (FloatingCertificate.select(FloatingCertificate.member)
             .where(FloatingCertificate.member.in_(ids) & FloatingCertificate.returned_date.is_null()).tuples())
        with_cert.update(x for (x,) in q)
    visits = member_visits(ctx, "floating_contact", ctx.year_start, ctx.as_of)

    def extra(row):
        if not (row[5] or "").strip() and row[0] not in with_cert:
            yield ("certificate_no", tr("无流动党员活动证号", "no activity certificate number"))
        if not (row[6] or "").strip():
            yield ("contact_person", tr("未指定联系人", "no contact person"))

    yield from _quarterly_visit_findings(ctx, rows, visits, "联系", "contact", extra)


RULES = [
    Rule(id="member.floating_in_placed", clause=12, title_zh="流入党员及时编入党组织",
         title_en="Floating-in members placed into an organization", subjects="member",
         params={"max_days": 30}, evaluate=evaluate_floating_in_placed,
         description_zh="每名流入党员报到后 30 天内编入党组织（编入日期 − 报到日期 ≤ 30）；未到期未编入为提醒。",
         description_en="Every floating-in member placed within 30 days of registering (placed − registered ≤ 30); "
                        "not yet placed but not yet due is warn."),
    Rule(id="member.immobile_visited", clause=13, title_zh="行动不便党员定期走访",
         title_en="Mobility-impaired members visited", subjects="member",
         params={"per_quarter": 1}, evaluate=evaluate_immobile_visited,
         description_zh="每名行动不便党员在已结束的每个季度有困难党员走访记录。",
         description_en="A visit (困难党员走访) to every mobility-impaired member in each quarter ended."),
    Rule(id="member.floating_out_contact", clause=13, title_zh="流出党员活动证与联系",
         title_en="Floating-out members: certificate and contact", subjects="member",
         params={"per_quarter": 1}, evaluate=evaluate_floating_out_contact,
         description_zh="每名流出党员有流动党员活动证号和指定联系人，且已结束的每个季度有联系记录。",
         description_en="Every floating-out member has an activity certificate number and a contact person, "
                        "and a contact (流出党员联系) in each quarter ended."),
]


@hookimpl
def dangjian_register_rules(register):
    for rule in RULES:
        register(rule)
