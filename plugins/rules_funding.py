"""Built-in rules of clause 19 (第19条): the activity-funding floor and its publication.

``funding.floor`` — every community: the year's allocations from 市级财政 and
区镇财政 reach ``max(per_member × N, minimum)``, N = members (正式 and 预备)
whose relationship is in the community at the as-of date (``core.funding``).
Unmet before the year ends is ``warn`` (due by 12-31), after it ``fail``.
The city/town split of the floor is in the evidence.

``funding.published`` — every community: the year's 经费公示.
"""
from __future__ import annotations

from core import format_count, format_money, hookimpl, Rule, tr


def _floor(ctx):
    from core import community_funding, yearly_status

    for ln in community_funding(ctx.communities, ctx.year, ctx.as_of, params_for=ctx.params):
        p = ctx.params(ln.town)
        ev = {"members": ln.members, "per_member": p["per_member"], "minimum": p["minimum"],
              "floor": str(ln.floor), "allocated": str(ln.allocated), "gap": str(ln.gap),
              "by_source": {k: str(v) for k, v in ln.by_source.items()}, "allocation_ids": ln.allocation_ids,
              "city_share": str(ln.city_share), "town_share": str(ln.town_share), "split_by": ln.split_by,
              "as_of": ctx.as_of.isoformat()}
        text = tr("党员{n}人，保障标准{f}元，已划拨{a}元", "{n} members, floor {f} yuan, allocated {a} yuan",
                  n=format_count(ln.members), f=format_money(ln.floor), a=format_money(ln.allocated))
        if ln.allocated >= ln.floor:
            yield ctx.finding(ln.code, "pass", text, ev, community=ln.community_id)
        else:
            status = yearly_status(ctx)
            due = "" if status == "fail" else tr("（12-31前划拨）", " (due by 12-31)")
            yield ctx.finding(ln.code, status, text + tr("，缺口{g}元", ", gap {g} yuan", g=format_money(ln.gap)) + due, ev,
                              community=ln.community_id)


def _published(ctx):
    from core import Publication, yearly_status

    if not ctx.communities:
        return
    pubs: dict = {}
    q = (Publication.select(Publication.id, Publication.community, Publication.date)
         .where(Publication.community.in_(ctx.community_ids), Publication.year == ctx.year,
                Publication.kind == "funding", Publication.date <= ctx.as_of).order_by(Publication.date))
    for pid, cid, d in q.tuples():
        pubs.setdefault(cid, []).append((pid, d))
    for c in ctx.communities:
        have = pubs.get(c.id, [])
        ev = {"year": ctx.year, "publications": [{"id": i, "date": d.isoformat()} for i, d in have]}
        if have:
            yield ctx.finding(c.code, "pass", tr("{d}已公示经费", "funding published on {d}", d=have[0][1].isoformat()),
                              ev, community=c)
        else:
            status = yearly_status(ctx)
            due = "" if status == "fail" else tr("（12-31前公示）", " (due by 12-31)")
            yield ctx.finding(c.code, status, tr("{y}年经费未公示", "{y} funding not published", y=ctx.year) + due,
                              ev, community=c)


RULES = [
    Rule(id="funding.floor", clause=19, title_zh="社区党组织活动经费保障", title_en="activity-funding floor",
         evaluate=_floor, subjects="community", params={"per_member": 150, "minimum": 15000},
         description_zh="本年市级财政、区镇财政划拨合计不低于 max(per_member × N, minimum) 元，N 为截止日组织关系在本社区的党员"
                        "（正式和预备，含离退休；不含在职党员、流入党员）；委托事项、社会捐助等不计。年内未达为提醒，年末未达为不符合。",
         description_en="the year's allocations from city and town finance reach max(per_member × N, minimum) yuan, "
                        "N = members (full and probationary, retirees included) whose relationship is in the "
                        "community at the as-of date; entrusted-task money and donations do not count. Unmet "
                        "before 31 December is a warning, after it a failure."),
    Rule(id="funding.published", clause=19, title_zh="经费公示", title_en="funding published", evaluate=_published,
         subjects="community", params={},
         description_zh="本年有经费公示记录；年内未公示为提醒，年末未公示为不符合。",
         description_en="the year's funding was published (经费公示); missing before 31 December is a warning, "
                        "after it a failure."),
]


@hookimpl
def dangjian_register_rules(register):
    for rule in RULES:
        register(rule)
