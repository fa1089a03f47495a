"""Built-in rules of clause 11 (提高服务实效): ``service.opinion_meetings``,
``service.reception_weekly``, ``service.visit_weekly``,
``service.schedule_published``, ``service.demand_response``.

Each rule is a few queries over every community in scope (one finding per
community).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from core import (chunks, fraction, hookimpl, Meeting, missed_periods, Organization, Publication, Rule,
                  secretary_posts, tr, Visit)

LIST_CAP = 100  # evidence lists are cut here (the counts stay exact)


def _sep() -> str:
    from core import get_lang

    return ", " if get_lang() == "en" else "、"


# ---------------------------------------------------------------- 征求意见座谈会

def evaluate_opinion_meetings(ctx):
    """A 征求意见座谈会 of a community's Party organization in each quarter ended."""
    quarters = ctx.quarters_ended()
    by_comm: dict[int, list] = defaultdict(list)
    for ids in chunks(ctx.community_ids):
        q = (Meeting.select(Organization.community, Meeting.date, Meeting.id)
             .join(Organization)
             .where(Organization.community.in_(ids) & (Meeting.type == "opinion")
                    & (Meeting.date >= ctx.year_start) & (Meeting.date <= ctx.as_of)).tuples())
        for comm, d, mid in q:
            by_comm[comm].append((d, mid))
    for ref in ctx.communities:
        need = int(ctx.params(ref.town).get("per_quarter", 1))
        rows = sorted(by_comm.get(ref.id, []))
        missed = missed_periods(quarters, [d for d, _ in rows], need)
        ev = {"meetings": len(rows), "meeting_ids": [m for _, m in rows][:LIST_CAP],
              "quarters_ended": [q.label for q in quarters], "quarters_missed": missed, "per_quarter": need}
        if missed:
            yield ctx.finding(ref.code, "fail", tr("以下季度未召开征求意见座谈会：{q}",
                                                   "no opinion-seeking forum in {q}", q=_sep().join(missed)),
                              ev, community=ref)
        elif not quarters:
            yield ctx.finding(ref.code, "pass", tr("本年尚无已结束的季度（已开 {n} 次）",
                                                   "no quarter has ended yet ({n} held)", n=len(rows)),
                              ev, community=ref)
        else:
            yield ctx.finding(ref.code, "pass", tr("已结束的每个季度均召开征求意见座谈会（共 {n} 次）",
                                                   "an opinion-seeking forum in every quarter ended ({n} in all)",
                                                   n=len(rows)), ev, community=ref)


# ---------------------------------------------------------------- 接待日 / 走访, weekly

def _weekly(ctx, kind: str, name_zh: str, name_en: str, secretary: bool):
    weeks = ctx.weeks_ended()
    start = weeks[0].start if weeks else ctx.year_start
    end = weeks[-1].end if weeks else ctx.as_of
    by_comm: dict[int, list] = defaultdict(list)
    for ids in chunks(ctx.community_ids):
        q = (Visit.select(Visit.community, Visit.date, Visit.staff, Visit.id)
             .where(Visit.community.in_(ids) & (Visit.kind == kind) & (Visit.date >= start)
                    & (Visit.date <= end)).tuples())
        for comm, d, staff, vid in q:
            by_comm[comm].append((d, staff, vid))
    posts = secretary_posts(ctx) if secretary else {}

    def by_secretary(d, staff):
        return any(s <= d and (e is None or d <= e) for s, e in posts.get(staff, ()))

    for ref in ctx.communities:
        share = fraction(ctx.params(ref.town).get("min_share", 0.9))
        rows = by_comm.get(ref.id, [])
        week_rows = defaultdict(list)
        for d, staff, vid in rows:
            iso = d.isocalendar()
            week_rows[f"{iso[0]}-W{iso[1]:02d}"].append((d, staff, vid))
        total = len(weeks)
        missed = [w.label for w in weeks if w.label not in week_rows]
        held = total - len(missed)
        ev = {"weeks_ended": total, "weeks_held": held, "weeks_missed": missed[:LIST_CAP],
              "records": len(rows), "visit_ids": sorted(v for _, _, v in rows)[:LIST_CAP], "min_share": str(share)}
        if total:
            ev["share"] = round(held / total, 4)
        if secretary:
            not_sec = [w.label for w in weeks if w.label in week_rows
                       and not any(by_secretary(d, s) for d, s, _ in week_rows[w.label])]
            ev["weeks_not_by_secretary"] = not_sec[:LIST_CAP]
            ev["weeks_not_by_secretary_count"] = len(not_sec)
        sec_note = ""
        if secretary and ev["weeks_not_by_secretary_count"]:
            sec_note = tr("；其中 {n} 周非书记本人接待", "; in {n} weeks not kept by the secretary",
                          n=ev["weeks_not_by_secretary_count"])
        if not total:
            yield ctx.finding(ref.code, "pass", tr("本年尚无已结束的整周", "no full week has ended yet"), ev,
                              community=ref)
        elif held * share.denominator >= total * share.numerator:
            yield ctx.finding(ref.code, "pass",
                              tr("{k}：{h}/{t} 周（不低于 {p}）", "{k}: {h} of {t} weeks (at least {p})",
                                 k=name_zh if _zh() else name_en, h=held, t=total, p=_pct(share)) + sec_note,
                              ev, community=ref)
        else:
            yield ctx.finding(ref.code, "fail",
                              tr("{k}仅 {h}/{t} 周，低于 {p}；缺 {m} 周", "{k} in only {h} of {t} weeks, below {p}; "
                                 "{m} weeks missed", k=name_zh if _zh() else name_en, h=held, t=total,
                                 p=_pct(share), m=len(missed)) + sec_note, ev, community=ref)


def _zh() -> bool:
    from core import get_lang

    return get_lang() != "en"


def _pct(fr) -> str:
    v = fr * 100
    return f"{int(v)} %" if v.denominator == 1 else f"{float(v):.1f} %"


def evaluate_reception_weekly(ctx):
    """A 接待日 in at least min_share of the full weeks ended; evidence: weeks missed, weeks not kept by the secretary."""
    yield from _weekly(ctx, "reception", "接待日", "reception day", secretary=True)


def evaluate_visit_weekly(ctx):
    """A 走访 in at least min_share of the full weeks ended."""
    yield from _weekly(ctx, "home_visit", "走访", "home visit", secretary=False)


# ---------------------------------------------------------------- 接访走访时序公开

def _deadline(year: int, mmdd: str) -> dt.date:
    from core import UserError

    try:
        mm, dd = str(mmdd).split("-")
        return dt.date(year, int(mm), int(dd))
    except ValueError:
        raise UserError(tr("参数 deadline 应为 MM-DD：{v}", "parameter deadline must be MM-DD: {v}", v=mmdd)) from None


def evaluate_schedule_published(ctx):
    """The year's 接访走访时序 published by the deadline (MM-DD).

    Published by the deadline → pass; published later → fail; not
    published: warn ("due by MM-DD") while the deadline has not passed at
    the as-of date, fail after it.
    """
    pubs: dict[int, list] = defaultdict(list)
    for ids in chunks(ctx.community_ids):
        q = (Publication.select(Publication.community, Publication.date, Publication.id)
             .where(Publication.community.in_(ids) & (Publication.year == ctx.year)
                    & (Publication.kind == "visit_schedule") & (Publication.date <= ctx.as_of)).tuples())
        for comm, d, pid in q:
            pubs[comm].append((d, pid))
    for ref in ctx.communities:
        mmdd = ctx.params(ref.town).get("deadline", "01-31")
        deadline = _deadline(ctx.year, mmdd)
        rows = sorted(pubs.get(ref.id, []))
        ev = {"deadline": deadline.isoformat(), "publication_ids": [p for _, p in rows]}
        if rows:
            first, pid = rows[0]
            ev["published"] = first.isoformat()
            if first <= deadline:
                yield ctx.finding(ref.code, "pass", tr("已于 {d} 公开（期限 {l}）", "published on {d} (deadline {l})",
                                                       d=first, l=deadline), ev, community=ref)
            else:
                yield ctx.finding(ref.code, "fail", tr("{d} 才公开，晚于期限 {l}", "published on {d}, after the "
                                                       "deadline {l}", d=first, l=deadline), ev, community=ref)
        elif ctx.as_of < deadline:
            yield ctx.finding(ref.code, "warn", tr("尚未公开接访走访时序，期限 {l}", "schedule not yet published; "
                                                   "due by {l}", l=mmdd), ev, community=ref)
        else:
            yield ctx.finding(ref.code, "fail", tr("未在 {l} 前公开接访走访时序", "schedule not published by {l}",
                                                   l=deadline), ev, community=ref)


# ---------------------------------------------------------------- 群众诉求

def evaluate_demand_response(ctx):
    """Every demand (诉求) raised in the year answered or closed within max_days.

    A demand refused with a reason is exempt.  A demand not answered or
    closed by the as-of date is still open: late once its max_days have
    passed, otherwise pending (not late).  An answer dated after the as-of
    date is not known then.
    """
    by_comm: dict[int, list] = defaultdict(list)
    for ids in chunks(ctx.community_ids):
        q = (Visit.select(Visit.community, Visit.id, Visit.date, Visit.answered_date, Visit.closed_date,
                          Visit.refused_reason)
             .where(Visit.community.in_(ids) & (Visit.demand != "") & Visit.demand.is_null(False)
                    & (Visit.date >= ctx.year_start) & (Visit.date <= ctx.as_of)).tuples())
        for comm, *rest in q:
            by_comm[comm].append(rest)
    for ref in ctx.communities:
        max_days = int(ctx.params(ref.town).get("max_days", 15))
        late, still_open, refused, on_time = [], [], [], 0
        for vid, d, answered, closed, reason in sorted(by_comm.get(ref.id, []), key=lambda r: (r[1], r[0])):
            if reason and str(reason).strip():
                refused.append(vid)
                continue
            done = [x for x in (answered, closed) if x is not None and x <= ctx.as_of]
            if done:
                days = (min(done) - d).days
                if days > max_days:
                    late.append({"id": vid, "date": d.isoformat(), "days": days})
                else:
                    on_time += 1
            else:
                days = (ctx.as_of - d).days
                item = {"id": vid, "date": d.isoformat(), "days_open": days,
                        "due": (d + dt.timedelta(days=max_days)).isoformat()}
                item["late"] = days > max_days
                still_open.append(item)
        late_open = [x for x in still_open if x["late"]]
        total = on_time + len(late) + len(still_open)
        ev = {"demands": total + len(refused), "on_time": on_time, "late_count": len(late) + len(late_open),
              "late": (late + late_open)[:LIST_CAP], "still_open_count": len(still_open),
              "still_open": still_open[:LIST_CAP], "refused_exempt": refused[:LIST_CAP], "max_days": max_days}
        if late or late_open:
            yield ctx.finding(ref.code, "fail", tr("{n} 件诉求超过 {d} 天未答复或办结（其中 {o} 件仍未办结）",
                                                   "{n} demands not answered or closed within {d} days ({o} still open)",
                                                   n=len(late) + len(late_open), d=max_days, o=len(late_open)),
                              ev, community=ref)
        elif total + len(refused) == 0:
            yield ctx.finding(ref.code, "pass", tr("本年无群众诉求记录", "no demands recorded this year"), ev,
                              community=ref)
        else:
            msg = tr("{n} 件诉求均在 {d} 天内答复或办结", "all {n} demands answered or closed within {d} days",
                     n=on_time, d=max_days)
            if still_open:
                msg += tr("；{o} 件办理中，未超期", "; {o} open, not yet due", o=len(still_open))
            if refused:
                msg += tr("；{r} 件不予受理（有理由，免于考核）", "; {r} refused with a reason (exempt)", r=len(refused))
            yield ctx.finding(ref.code, "pass", msg, ev, community=ref)


RULES = [
    Rule(id="service.opinion_meetings", clause=11, title_zh="每季度征求意见座谈会",
         title_en="Opinion-seeking forum each quarter", subjects="community",
         params={"per_quarter": 1}, evaluate=evaluate_opinion_meetings,
         description_zh="社区党组织在已结束的每个季度召开征求群众意见座谈会（全年 4 次以上）。",
         description_en="A 征求意见座谈会 in each quarter ended (4 or more in a whole year)."),
    Rule(id="service.reception_weekly", clause=11, title_zh="书记每周接待日",
         title_en="Weekly reception day", subjects="community",
         params={"min_share": 0.9}, evaluate=evaluate_reception_weekly,
         description_zh="已结束的整周中接待日所占比例不低于 90 %；依据列出缺接待日的周和非书记本人接待的周。",
         description_en="A 接待日 in at least 90 % of the full weeks ended; evidence lists the weeks missed and "
                        "those not kept by the secretary."),
    Rule(id="service.visit_weekly", clause=11, title_zh="每周走访群众",
         title_en="Weekly home visits", subjects="community",
         params={"min_share": 0.9}, evaluate=evaluate_visit_weekly,
         description_zh="已结束的整周中有走访的周所占比例不低于 90 %。",
         description_en="A 走访 in at least 90 % of the full weeks ended."),
    Rule(id="service.schedule_published", clause=11, title_zh="接访走访时序年初公开",
         title_en="Reception and visit schedule published early in the year", subjects="community",
         params={"deadline": "01-31"}, evaluate=evaluate_schedule_published,
         description_zh="本年度接访走访时序在 01-31（MM-DD）前公开；期限前未公开为提醒，逾期为不符合。",
         description_en="The year's schedule published by 01-31 (MM-DD); before the deadline an unpublished "
                        "schedule is warn, after it fail."),
    Rule(id="service.demand_response", clause=11, title_zh="群众诉求及时回应",
         title_en="Demands answered in time", subjects="community",
         params={"max_days": 15}, evaluate=evaluate_demand_response,
         description_zh="本年每件诉求在 15 天内答复或办结；不予受理且有理由的免于考核；依据列出超期和未办结的诉求。",
         description_en="Every demand of the year answered or closed within 15 days; refused with a reason is "
                        "exempt; evidence lists the late and the still-open ones."),
]


@hookimpl
def dangjian_register_rules(register):
    for rule in RULES:
        register(rule)
