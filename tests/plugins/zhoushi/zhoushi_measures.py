"""周市镇 implementation measures (周市镇实施办法), written only against ``core``'s API.

Bind it to the town in the city's config::

    [plugins."zhoushi_measures"]
    towns = ["周市镇"]
"""
from decimal import Decimal
from fractions import Fraction

from core import (Community, Member, Rule, Scorer, Town, attendance_counts, fraction, hookimpl,
                  member_age, members_at, members_in_scope, resolve_dates, round_cents,
                  scope_member_ids, to_decimal, tr, volunteer_hours)

TOWN = "周市镇"
SCORED = ("resident", "floating_out", "floating_in")  # classes on the roster at the as-of date


def zhoushi_points(ctx):
    """周市镇党员积分: 60 base (none for a 预备党员), +2 a meeting attended, −5 an absence
    without leave, +1 a volunteer hour up to 20; the year up to the as-of date, the roster
    at it."""
    members = [m for m in members_in_scope(ctx, SCORED)
               if m["management_class"] != "floating_in" or m["placed_date"] is not None]
    ids = scope_member_ids(ctx, SCORED)
    att, hours = attendance_counts(ctx, ids, ("present", "absent")), volunteer_hours(ctx, ids)
    for m in members:
        ref = ctx.community(m["community_id"])
        p = ctx.params(ref.town)
        full = m["status"] == "full"
        base = tr("基础分", "base points") if full else tr("预备党员无基础分", "probationary: no base")
        items = [ctx.item("base", base, p["base"] if full else 0)]
        n = att.get((m["id"], "present"), 0)
        if n:
            items.append(ctx.item("attended", tr("出席 {n} 次", "{n} meetings attended", n=n),
                                  to_decimal(p["per_attended"]) * n, n))
        n = att.get((m["id"], "absent"), 0)
        if n:
            items.append(ctx.item("absent", tr("无故缺席 {n} 次", "{n} absences", n=n),
                                  to_decimal(p["per_absent"]) * n, n))
        h = hours.get(m["id"])
        if h:
            cap = to_decimal(p["max_volunteer_points"])
            pts = min(h * to_decimal(p["per_volunteer_hour"]), cap)
            label = tr("志愿服务 {h} 小时", "{h} volunteer hours", h=f"{h.normalize():f}")
            items.append(ctx.item("volunteer", label, pts, float(h)))
        yield ctx.result(m["id_number"], items, community=ref, name=m["name"], org=m["org"])


def youth_shares(community_ids, as_of, max_age=35):
    """{community id: (formal members aged max_age or younger, formal members)}, counting members
    whose relationship is in the community on the as-of date (one query)."""
    out = {c: (0, 0) for c in community_ids}
    rows = members_at(community_ids, as_of, Member.birth_date, Member.id_number, relationship=True,
                      formal_only=True).tuples()
    for _, cid, birth, number in rows:
        age = member_age(birth, number, as_of)
        young, total = out[cid]
        out[cid] = (young + (age is not None and age <= max_age), total + 1)
    return out


def share_text(young, total):
    return f"{young}/{total}（{Decimal(100 * young) / total:.1f}%）" if total else "0/0"


def youth_rule(ctx):
    """Clause 12: warn a 周市镇 community whose formal members aged 35 or younger are
    below 15 % of its formal members (compared as exact fractions)."""
    for c in ctx.communities:
        p = ctx.params(c.town)
        young, total = youth_shares([c.id], ctx.as_of, p["max_age"])[c.id]
        ok = total > 0 and Fraction(young, total) >= fraction(p["min_share"])
        msg = tr("{a} 岁及以下正式党员 {s}", "formal members aged {a} or younger: {s}",
                 a=p["max_age"], s=share_text(young, total))
        yield ctx.finding(c.code, "pass" if ok else "warn", msg,
                          evidence={"young": young, "members": total}, community=c)


@hookimpl
def dangjian_register_scorers(register):
    register(Scorer("member-points", "党员积分（周市镇）", "member points (Zhoushi)",
                    zhoushi_points, subjects="member", towns=[TOWN],
                    params={"base": 60, "per_attended": 2, "per_absent": -5,
                            "per_volunteer_hour": 1, "max_volunteer_points": 20}))


@hookimpl
def dangjian_register_rules(register):
    register(Rule(id="zhoushi.youth_share", clause=12, title_zh="青年党员占比（周市镇）",
                  title_en="share of young members (Zhoushi)", evaluate=youth_rule,
                  subjects="community", params={"min_share": "15/100", "max_age": 35},
                  towns=[TOWN]))


@hookimpl
def dangjian_funding_split(town, amount):
    if town != TOWN:
        return None
    city = round_cents(amount * Decimal("0.4"))
    return {"city": city, "town": amount - city}


@hookimpl
def dangjian_town_params(town):
    return {"train.staff": {"min_days": 6}} if town == TOWN else None


@hookimpl
def dangjian_validate_record(kind, record, town):
    if town != TOWN or kind != "meetings":
        return []
    if len((record.get("topic") or "").strip()) < 4:
        return [("主题", tr("周市镇会议主题至少 4 个字", "a topic of at least 4 characters"))]
    return []


def youth_rows(year, view):
    """[(code, name, young, members)] of 周市镇's communities in the user's view."""
    _, as_of = resolve_dates(year, None)
    q = (Community.select(Community.id, Community.code, Community.name)
         .join(Town).where(Town.name == TOWN))
    comms = [c for c in q.order_by(Community.code).tuples()
             if view is None or view.community_ids is None or c[0] in view.community_ids]
    shares = youth_shares([c[0] for c in comms], as_of)
    return [(code, name, *shares[cid]) for cid, code, name in comms]


@hookimpl
def dangjian_register_screens(register):
    def factory():
        from textual.widgets import Static
        from tui.api import DangjianScreen

        class YouthShare(DangjianScreen):
            TITLE_ZH, TITLE_EN = "周市镇青年党员占比", "Zhoushi youth share"

            def compose_body(self):
                yield Static("", id="youth")

            def refresh_data(self):
                self.run_db(youth_rows, self.app.year, self.app.view, on_done=self.show)

            def show(self, rows):
                lines = [f"{code} {name}  {share_text(y, n)}" for code, name, y, n in rows]
                text = "\n".join(lines) or tr("无社区", "no communities")
                self.query_one("#youth", Static).update(text)
        return YouthShare()
    register("zhoushi-youth", "周市镇青年党员占比", factory)
