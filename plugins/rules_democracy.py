"""Built-in rules of clause 14 (扩大党内民主): ``democracy.four_two``
(四议两公开) and ``democracy.affairs_published`` (党务公开).
"""
from __future__ import annotations

from collections import defaultdict

from core import Rule, hookimpl
from core.i18n import get_lang, tr
from core.models import FourTwoDecision, Publication
from plugins.rules_members import chunks, missed_periods

STAGES = ("proposed", "consulted", "reviewed", "resolved", "published", "result_published")
STAGE_NAMES = {
    "proposed": ("党组织提议", "proposed by the Party organization"),
    "consulted": ("两委会商议", "discussed by the two committees"),
    "reviewed": ("党员大会审议", "reviewed by the members' assembly"),
    "resolved": ("居民（代表）会议决议", "resolved by the residents' (representatives') meeting"),
    "published": ("决议公开", "resolution published"),
    "result_published": ("实施结果公开", "result published"),
}


def _name(stage: str) -> str:
    zh, en = STAGE_NAMES[stage]
    return en if get_lang() == "en" else zh


def _join(items) -> str:
    return (", " if get_lang() == "en" else "、").join(items)


def evaluate_four_two(ctx):
    """Every 四议两公开 decision dated in the year: the six stages present and in order.

    "Dated in the year": its first stage date (normally 党组织提议; the earliest
    stage recorded when that is missing) falls in the year, on or before the
    as-of date.  A stage dated after the as-of date is not yet done.
    Out of order (a stage dated before the one it follows) or a stage skipped
    (missing while a later one is done): ``fail``.  Only the last stages
    missing (the decision is still under way): ``warn`` before the year has
    ended, ``fail`` once it has.
    """
    cols = [getattr(FourTwoDecision, s) for s in STAGES]
    any_in_year = None
    for c in cols:
        cond = (c >= ctx.year_start) & (c <= ctx.year_end)
        any_in_year = cond if any_in_year is None else (any_in_year | cond)
    rows = []
    for ids in chunks(ctx.community_ids):
        q = (FourTwoDecision.select(FourTwoDecision.id, FourTwoDecision.code, FourTwoDecision.community, *cols)
             .where(FourTwoDecision.community.in_(ids) & any_in_year).tuples())
        rows.extend(q)
    for did, code, comm, *dates in sorted(rows, key=lambda r: r[1]):
        known = [d for d in dates if d is not None]
        first = min(known)
        if not (ctx.year_start <= first <= ctx.as_of):
            continue  # dated in another year, or not begun by the as-of date
        ref = ctx.community(comm)
        done = {s: d for s, d in zip(STAGES, dates) if d is not None and d <= ctx.as_of}
        missing = [s for s in STAGES if s not in done]
        last_done = max((i for i, s in enumerate(STAGES) if s in done), default=-1)
        skipped = [s for s in missing if STAGES.index(s) < last_done]
        trailing = [s for s in missing if STAGES.index(s) > last_done]
        out_of_order = []
        prev = None
        for s in STAGES:
            if s in done:
                if prev is not None and done[s] < done[prev]:
                    out_of_order.append(s)
                prev = s
        ev = {"decision_id": did, "stages": {s: (done[s].isoformat() if s in done else None) for s in STAGES},
              "missing": missing, "out_of_order": out_of_order, "first_date": first.isoformat()}
        sep = "; " if get_lang() == "en" else "；"
        problems = []
        if out_of_order:
            problems.append(tr("环节顺序颠倒：{s}", "stages out of order: {s}", s=_join(_name(s) for s in out_of_order)))
        if skipped:
            problems.append(tr("跳过环节：{s}", "stages skipped: {s}", s=_join(_name(s) for s in skipped)))
        if problems:
            if trailing:
                problems.append(tr("尚缺：{s}", "still missing: {s}", s=_join(_name(s) for s in trailing)))
            yield ctx.finding(code, "fail", sep.join(problems), ev, community=ref)
        elif trailing:
            status = "fail" if ctx.year_over else "warn"
            yield ctx.finding(code, status, tr("尚未完成：{s}", "not yet done: {s}", s=_join(_name(s) for s in trailing)),
                              ev, community=ref)
        else:
            yield ctx.finding(code, "pass", tr("六个环节齐全且依次进行", "all six stages done in order"), ev,
                              community=ref)


def evaluate_affairs_published(ctx):
    """Every community: a 党务公开 publication in each quarter ended."""
    quarters = ctx.quarters_ended()
    by_comm: dict[int, list] = defaultdict(list)
    for ids in chunks(ctx.community_ids):
        q = (Publication.select(Publication.community, Publication.date, Publication.id)
             .where(Publication.community.in_(ids) & (Publication.kind == "party_affairs")
                    & (Publication.date >= ctx.year_start) & (Publication.date <= ctx.as_of)).tuples())
        for comm, d, pid in q:
            by_comm[comm].append((d, pid))
    for ref in ctx.communities:
        need = int(ctx.params(ref.town).get("per_quarter", 1))
        rows = sorted(by_comm.get(ref.id, []))
        missed = missed_periods(quarters, [d for d, _ in rows], need)
        ev = {"publications": len(rows), "publication_ids": [p for _, p in rows][:100],
              "quarters_ended": [q.label for q in quarters], "quarters_missed": missed, "per_quarter": need}
        if missed:
            yield ctx.finding(ref.code, "fail", tr("以下季度未党务公开：{q}", "no Party-affairs publication in {q}",
                                                   q=_join(missed)), ev, community=ref)
        elif not quarters:
            yield ctx.finding(ref.code, "pass", tr("本年尚无已结束的季度", "no quarter has ended yet this year"), ev,
                              community=ref)
        else:
            yield ctx.finding(ref.code, "pass", tr("已结束的每个季度均党务公开（共 {n} 次）",
                                                   "Party affairs published in every quarter ended ({n} in all)",
                                                   n=len(rows)), ev, community=ref)


RULES = [
    Rule(id="democracy.four_two", clause=14, title_zh="四议两公开", title_en="Four deliberations, two publications",
         subjects="decision", params={}, evaluate=evaluate_four_two,
         description_zh="本年（首个环节日期在本年）的每项四议两公开决策：六个环节齐全且依次进行；仅末尾环节未完成时年底前为提醒。",
         description_en="Every 四议两公开 decision whose first stage is dated in the year: the six stages present "
                        "and in order; only the last stages outstanding is warn before the year has ended."),
    Rule(id="democracy.affairs_published", clause=14, title_zh="党务公开", title_en="Party affairs published",
         subjects="community", params={"per_quarter": 1}, evaluate=evaluate_affairs_published,
         description_zh="已结束的每个季度有党务公开。",
         description_en="A 党务公开 publication in each quarter ended."),
]


@hookimpl
def dangjian_register_rules(register):
    for rule in RULES:
        register(rule)
