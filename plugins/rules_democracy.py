"""Built-in rules of clause 14 (扩大党内民主): ``democracy.four_two``
(四议两公开) and ``democracy.affairs_published`` (党务公开).
"""
from __future__ import annotations

from collections import defaultdict

from core import chunks, enums, FourTwoDecision, get_lang, hookimpl, missed_periods, Publication, Rule, tr

STAGES = tuple(enums.FOUR_TWO_STAGE)  # in their order


def _name(stage: str) -> str:
    return enums.FOUR_TWO_STAGE.label(stage, get_lang())


def _join(items) -> str:
    return (", " if get_lang() == "en" else "、").join(items)


def evaluate_four_two(ctx):
    """Every 四议两公开 decision with a stage dated in the year (up to the as-of date), and
    every decision begun earlier and still unfinished on 1 January of the year (a decision
    proposed in December and finished in January is a subject of both years).

    A stage dated after the as-of date is not yet done.  Out of order (a stage dated
    before the one it follows) or a stage skipped (missing while a later one is done):
    ``fail``.  Only the last stages missing (still under way at the as-of date): ``warn``
    while the as-of date is before 31 December of the year the decision began in, or its
    first stage lies fewer than ``unfinished_days`` days before the as-of date; ``fail``
    otherwise.
    """
    import datetime as dt

    cols = [getattr(FourTwoDecision, s) for s in STAGES]
    begun = None
    for c in cols:
        cond = c <= ctx.as_of
        begun = cond if begun is None else (begun | cond)
    rows = []
    for ids in chunks(ctx.community_ids):
        q = (FourTwoDecision.select(FourTwoDecision.id, FourTwoDecision.code, FourTwoDecision.community, *cols)
             .where(FourTwoDecision.community.in_(ids) & begun).tuples())
        rows.extend(q)
    for did, code, comm, *dates in sorted(rows, key=lambda r: r[1]):
        known = [d for d in dates if d is not None]
        first = min(known)
        in_year = any(ctx.year_start <= d <= ctx.as_of for d in known)
        open_on_jan1 = first < ctx.year_start and (len(known) < len(STAGES) or max(known) >= ctx.year_start)
        if not (in_year or open_on_jan1):
            continue  # all of it in another year
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
            limit = int(ctx.params(ref.town).get("unfinished_days", 90))
            grace = ctx.as_of < dt.date(first.year, 12, 31) or (ctx.as_of - first).days < limit
            status = "warn" if grace else "fail"
            ev["unfinished_days"] = limit
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
         subjects="decision", params={"unfinished_days": 90}, evaluate=evaluate_four_two,
         description_zh="本年有环节日期（截至检查日）的每项四议两公开决策，以及 1 月 1 日仍未完成的往年决策：六个环节齐全且依次进行为符合；"
                        "环节颠倒或跳过为不符合；截至检查日尚未完成的，在决策开始当年 12 月 31 日前、或首个环节距检查日不足 90 天时为提醒，"
                        "否则为不符合。",
         description_en="Every 四议两公开 decision with a stage dated in the year (up to the as-of date), and every "
                        "earlier decision still unfinished on 1 January: pass when the six stages are present and in "
                        "order; fail when a stage is out of order or skipped; unfinished at the as-of date: warn "
                        "while the as-of date is before 31 December of the year it began in or its first stage lies "
                        "fewer than 90 days before the as-of date, fail otherwise."),
    Rule(id="democracy.affairs_published", clause=14, title_zh="党务公开", title_en="Party affairs published",
         subjects="community", params={"per_quarter": 1}, evaluate=evaluate_affairs_published,
         description_zh="已结束的每个季度有党务公开。",
         description_en="A 党务公开 publication in each quarter ended."),
]


@hookimpl
def dangjian_register_rules(register):
    for rule in RULES:
        register(rule)
