"""巴城镇's own measures — a worked town plugin (区镇实施办法示例).

The policy's last paragraph asks every town to make its own implementation
measures (各区镇要……制定具体的实施办法).  This file shows the three things a
town most often changes, without touching anyone else's results:

1. **Its own member points** (党员积分, 第13条): a scorer named
   ``member-points`` with ``towns=["巴城镇"]`` replaces the city's scorer for
   巴城镇's members only; every other town keeps the city's.
2. **An extra rule**: ``bacheng.pairing_coverage`` (第11条 结对帮扶) checks each
   巴城镇 community; it does not exist elsewhere.
3. **Its own parameters** (``dangjian_town_params``): a stricter reception
   tolerance, and the extra rule mapped to the good 群众反映好 of the
   community score.

It is NOT in ``DEFAULT_PLUGINS``.  Load it from a plugin folder::

    # city.toml
    plugin_dirs = ["/srv/dangjian/plugins"]     # copy this file there

or ``DANGJIAN_PLUGIN_DIRS=/path/to/plugins/examples dangjian plugins``.
Item weights can still be tuned in config without editing the code::

    [towns."巴城镇".scoring."member-points"]
    base = 85
"""
from __future__ import annotations

from core import (Rule, Scorer, attendance_counts, diary_entry_counts, hookimpl, members_in_scope, pairing_counts,
                  pairings_by_community, scope_member_ids, to_decimal, volunteer_hours)

TOWN = "巴城镇"


# ---------------------------------------------------------------- 1. 巴城镇 member points

#: who is scored: 社区党员, 流出党员 and 流入党员 on the roster at the as-of date
CLASSES = ("resident", "floating_out", "floating_in")


def score_bacheng_points(ctx):
    """巴城镇党员积分: a few set-based queries for all members (``core``'s helpers: the roster
    at the as-of date, counts over the year up to it), then one result each."""
    members = members_in_scope(ctx, CLASSES)          # organization, community, class of the as-of date
    ids = scope_member_ids(ctx, CLASSES)              # a subquery: no id lists sent
    att = attendance_counts(ctx, ids, ("present", "absent"))   # meetings from 1 January to the as-of date
    pairings = pairing_counts(ctx, ids)
    diary = diary_entry_counts(ctx, ids)
    hours = volunteer_hours(ctx, ids)
    for m in members:
        ref = ctx.community(m["community_id"])
        p = ctx.params(ref.town)                      # Scorer.params, overridden by config
        items = [ctx.item("base", "基础分", p["base"])]
        n = att.get((m["id"], "present"), 0)
        if n:
            items.append(ctx.item("attended", f"出席组织生活 {n} 次", to_decimal(p["per_attended"]) * n, n))
        n = pairings.get(m["id"], 0)
        if n:
            items.append(ctx.item("pairing", f"结对帮扶 {n} 户", to_decimal(p["per_pairing"]) * n, n))
        n = diary.get(m["id"], 0)
        if n:
            pts = min(to_decimal(p["per_diary_entry"]) * n, to_decimal(p["max_diary_points"]))
            items.append(ctx.item("diary", f"民情日记 {n} 篇", pts, n))
        h = hours.get(m["id"])
        if h:
            pts = min(h * to_decimal(p["per_volunteer_hour"]), to_decimal(p["max_volunteer_points"]))
            items.append(ctx.item("volunteer", f"志愿服务 {h.normalize():f} 小时", pts))
        n = att.get((m["id"], "absent"), 0)
        if n:
            items.append(ctx.item("absent", f"无故缺席 {n} 次", to_decimal(p["per_absent"]) * n, n))
        yield ctx.result(m["id_number"], items, community=ref, name=m["name"], org=m["org"])


BACHENG_POINTS = Scorer(
    name="member-points", title_zh="党员积分（巴城镇办法）", title_en="member points (巴城镇 scheme)",
    score=score_bacheng_points, subjects="member", towns=[TOWN],
    params={"base": 80, "per_attended": 2, "per_pairing": 5, "per_diary_entry": 1, "max_diary_points": 5,
            "per_volunteer_hour": 1, "max_volunteer_points": 20, "per_absent": -5},
)


# ---------------------------------------------------------------- 2. an extra rule

def evaluate_pairing_coverage(ctx):
    """Each 巴城镇 community: at least ``min_pairings`` pairings (结对帮扶) active in the year
    (each counted in the member's community at the as-of date)."""
    counts = pairings_by_community(ctx)
    for c in ctx.communities:
        need = int(ctx.params(c.town)["min_pairings"])
        n = counts.get(c.id, 0)
        status = "pass" if n >= need else ("fail" if ctx.year_over else "warn")
        yield ctx.finding(c.code, status, f"结对帮扶 {n} 户（应不少于 {need} 户）",
                          evidence={"pairings": n, "min_pairings": need}, community=c)


PAIRING_RULE = Rule(
    id="bacheng.pairing_coverage", clause=11, title_zh="结对帮扶覆盖（巴城镇）", title_en="pairing coverage (巴城镇)",
    evaluate=evaluate_pairing_coverage, params={"min_pairings": 3}, subjects="community", towns=[TOWN],
    description_zh="巴城镇每个社区每年结对帮扶困难家庭不少于 min_pairings 户。",
    description_en="Each 巴城镇 community pairs members with at least min_pairings households a year.",
)


# ---------------------------------------------------------------- hooks

@hookimpl
def dangjian_register_scorers(register):
    register(BACHENG_POINTS)


@hookimpl
def dangjian_register_rules(register):
    register(PAIRING_RULE)


@hookimpl
def dangjian_town_params(town):
    if town != TOWN:
        return None                                   # not ours: other towns keep the city's values
    return {
        "service.reception_weekly": {"min_share": 0.95},
        "community-score": {"goods": {"bacheng.pairing_coverage": "masses"}},
    }
