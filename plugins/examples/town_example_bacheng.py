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

from decimal import Decimal

from peewee import fn

from core import Rule, Scorer, hookimpl

TOWN = "巴城镇"


# ---------------------------------------------------------------- 1. 巴城镇 member points

def _members(ctx):
    """Members scored in 巴城镇: 社区党员, 流出党员 and placed 流入党员 of the communities in scope."""
    from core import roster
    from core.models import Member, Organization

    return list(roster.members_at(ctx.community_ids, ctx.as_of, Member.id_number, Member.name,
                                  Organization.name.alias("org"), roster.COMMUNITY.alias("cid"),
                                  classes=("resident", "floating_out", "floating_in")).dicts())


def score_bacheng_points(ctx):
    """巴城镇党员积分: a few set-based queries for all members, then one result each."""
    from core.models import Attendance, DiaryEntry, Meeting, Pairing, VolunteerHours

    members = _members(ctx)
    ids = [m["id"] for m in members]
    attended, absent = {}, {}
    for mid, status, n in (Attendance.select(Attendance.member, Attendance.status, fn.COUNT(Attendance.id))
                           .join(Meeting).where(Attendance.member.in_(ids), Meeting.date >= ctx.year_start,
                                                Meeting.date <= ctx.as_of)
                           .group_by(Attendance.member, Attendance.status).tuples()):
        (attended if status == "present" else absent if status == "absent" else {})[mid] = n
    pairings = dict(Pairing.select(Pairing.member, fn.COUNT(Pairing.id))
                    .where(Pairing.member.in_(ids), Pairing.since <= ctx.as_of,
                           Pairing.until.is_null() | (Pairing.until >= ctx.year_start))
                    .group_by(Pairing.member).tuples())
    diary = dict(DiaryEntry.select(DiaryEntry.member, fn.COUNT(DiaryEntry.id))
                 .where(DiaryEntry.member.in_(ids), DiaryEntry.date >= ctx.year_start, DiaryEntry.date <= ctx.as_of)
                 .group_by(DiaryEntry.member).tuples())
    hours = dict(VolunteerHours.select(VolunteerHours.member, fn.SUM(VolunteerHours.hours))
                 .where(VolunteerHours.member.in_(ids), VolunteerHours.date >= ctx.year_start,
                        VolunteerHours.date <= ctx.as_of)
                 .group_by(VolunteerHours.member).tuples())
    for m in members:
        ref = ctx.community(m["cid"])
        p = ctx.params(ref.town)                      # Scorer.params, overridden by config
        items = [ctx.item("base", "基础分", p["base"])]
        if attended.get(m["id"]):
            n = attended[m["id"]]
            items.append(ctx.item("attended", f"出席组织生活 {n} 次", Decimal(str(p["per_attended"])) * n, n))
        if pairings.get(m["id"]):
            n = pairings[m["id"]]
            items.append(ctx.item("pairing", f"结对帮扶 {n} 户", Decimal(str(p["per_pairing"])) * n, n))
        if diary.get(m["id"]):
            n = diary[m["id"]]
            pts = min(Decimal(str(p["per_diary_entry"])) * n, Decimal(str(p["max_diary_points"])))
            items.append(ctx.item("diary", f"民情日记 {n} 篇", pts, n))
        if hours.get(m["id"]):
            h = Decimal(str(hours[m["id"]]))
            pts = min(h * Decimal(str(p["per_volunteer_hour"])), Decimal(str(p["max_volunteer_points"])))
            items.append(ctx.item("volunteer", f"志愿服务 {h.normalize():f} 小时", pts))
        if absent.get(m["id"]):
            n = absent[m["id"]]
            items.append(ctx.item("absent", f"无故缺席 {n} 次", Decimal(str(p["per_absent"])) * n, n))
        yield ctx.result(m["id_number"], items, community=ref, name=m["name"], org=m["org"])


BACHENG_POINTS = Scorer(
    name="member-points", title_zh="党员积分（巴城镇办法）", title_en="member points (巴城镇 scheme)",
    score=score_bacheng_points, subjects="member", towns=[TOWN],
    params={"base": 80, "per_attended": 2, "per_pairing": 5, "per_diary_entry": 1, "max_diary_points": 5,
            "per_volunteer_hour": 1, "max_volunteer_points": 20, "per_absent": -5},
)


# ---------------------------------------------------------------- 2. an extra rule

def evaluate_pairing_coverage(ctx):
    """Each 巴城镇 community: at least ``min_pairings`` pairings (结对帮扶) active in the year."""
    from core import roster
    from core.models import Pairing

    community = roster.COMMUNITY  # the member's community at the as-of date
    q = roster.join_at(Pairing.select(community, fn.COUNT(Pairing.id)), Pairing.member, ctx.as_of)
    counts = dict(q.where(community.in_(ctx.community_ids), Pairing.since <= ctx.as_of,
                          Pairing.until.is_null() | (Pairing.until >= ctx.year_start))
                  .group_by(community).tuples())
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
