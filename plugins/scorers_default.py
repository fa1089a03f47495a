"""Built-in scorers: the city's default scoring systems.

- ``member-points`` 党员积分 (第13条: 积极探索对党员参加教育培训和党组织活动实行积分制考核)
- ``community-score`` 先锋社区 (第16条) — the five goods of 第2条, plus 社会公开评价;
  classes 先进 / 一般 / 后进 (第22条)
- ``worker-appraisal`` 社区党务工作者绩效考核 (第8条)
- ``in-service-performance`` 在职党员社区表现 (第17条)

Items and weights are in config (``[scoring."<name>"]``); a town overrides them
in ``[towns."<town>".scoring."<name>"]`` or replaces a scorer with its own
plugin (``Scorer(name, ..., towns=["<town>"])``).  Every item says why it was
given; the items add up to the points.  No item counts online time or
check-ins (2023 guidance against 指尖上的形式主义).

The members, attendance, volunteer hours, commitments, pairings and dues months
come from ``core``'s set-based helpers: a few queries for the whole scope.  Member
points, worker appraisal and in-service performance are declared by their items
(``core.ItemScorer``).
"""
from __future__ import annotations

from decimal import Decimal

from peewee import fn

from core import (COMMUNITY_CLASSES, Base, DutyReport, DutyPost, ItemScorer, PerCount, ResponsibilityZone, Score,
                  Scorer, Training, Visit, When, attended, commitments_kept, format_points, format_score, hookimpl,
                  in_relationship, late_dues_months, pairing_counts, round_cents, scope_worker_ids, to_decimal, tr,
                  training_counts_of_members, volunteer_hours)

GOODS = ("leadership", "cadres", "mechanism", "performance", "masses")
GOOD_LABELS = {
    "leadership": ("领导班子好", "good leadership"),
    "cadres": ("党员干部队伍好", "good members and cadres"),
    "mechanism": ("工作机制好", "good working mechanisms"),
    "performance": ("工作业绩好", "good results"),
    "masses": ("群众反映好", "good response from residents"),
}
CLASS_LABELS = COMMUNITY_CLASSES  # 先进 / 一般 / 后进 (第22条)
GRADE_LABELS = {"good": ("好", "good"), "fair": ("一般", "fair"), "poor": ("差", "poor")}


def good_label(code: str) -> str:
    zh, en = GOOD_LABELS.get(code, (code, code))
    return tr(zh, en)


def class_label(code: str) -> str:
    zh, en = CLASS_LABELS[code]
    return tr(zh, en)


def community_class(points, params) -> str:
    """先进 at or above ``advanced_min``; 后进 below ``lagging_below``; else 一般 (第22条)."""
    points = to_decimal(points)
    if points >= to_decimal(params["advanced_min"]):
        return "advanced"
    if points < to_decimal(params["lagging_below"]):
        return "lagging"
    return "ordinary"


# ---------------------------------------------------------------- member points (第13条)

MEMBER_POINTS_CLASSES = ("resident", "floating_out", "floating_in")


def _member_points_kept(m) -> bool:
    """Every member of the classes, but a 流入党员 only once placed."""
    return m["management_class"] != "floating_in" or m["placed_date"] is not None


def _trainings_of_members(ctx, ids) -> dict:
    """{id number: trainings} of members who are also community workers."""
    return training_counts_of_members(ctx, MEMBER_POINTS_CLASSES)


def _late_dues(ctx, ids) -> dict:
    """{member id: months of dues late or unpaid} of the members scored whose relationship is here."""
    return late_dues_months(ctx, [m for m in ctx.subject_rows if in_relationship(m["management_class"])])


#: 党员积分 per member whose relationship is in the community, and every placed 流入党员.
#: Items: base; each meeting attended (出席); each training (a member who is also a
#: community worker); volunteer hours (capped); commitments kept; deductions for each
#: meeting recorded 缺席 (absent without leave) and each month ended whose dues were not
#: paid in full by the month's end.
MEMBER_POINTS_ITEMS = [
    Base("base"),
    PerCount("per_meeting_attended", attended("present"), code="meetings_attended",
             label=("参加组织生活 {n} 次", "{n} meetings attended")),
    PerCount("per_training", _trainings_of_members, code="trainings", key="id_number",
             label=("参加培训 {n} 次", "{n} trainings")),
    PerCount(1, volunteer_hours, every="volunteer_hours_per_point", cap="max_volunteer_points",
             code="volunteer_hours", label=("志愿服务 {n} 小时", "{n} volunteer hours")),
    PerCount("per_commitment_kept", commitments_kept, code="commitments_kept",
             label=("践行承诺 {n} 项", "{n} commitments kept")),
    PerCount("per_absence_without_leave", attended("absent"), code="absence_without_leave",
             label=("无故缺席 {n} 次", "{n} absences without leave")),
    PerCount("per_late_dues_month", _late_dues, code="late_dues",
             label=("党费未按月足额交纳 {n} 个月", "{n} months of dues late or unpaid")),
]


# ---------------------------------------------------------------- community score (第2、16、22条)

def score_community(ctx):
    """先锋社区 score per community: the five goods of 第2条 from rule findings, plus
    社会公开评价; class 先进 / 一般 / 后进 by config thresholds (第22条)."""
    by_comm: dict = {}
    for (code, rule, status), n in ctx.finding_counts().items():
        by_comm.setdefault(code, []).append((rule, status, n))
    for ref in ctx.communities:
        p = ctx.params(ref.town)
        values = {k: to_decimal(v) for k, v in (p.get("status_values") or {}).items()}
        goods_of = p.get("goods") or {}
        weights = {g: to_decimal((p.get("weights") or {}).get(g, 0)) for g in GOODS}
        extra_goods = [g for g in (p.get("weights") or {}) if g not in GOODS]
        for g in extra_goods:
            weights[g] = to_decimal(p["weights"][g])
        # per good: mean over rules of the mean status value of their findings here
        per_rule: dict = {}
        for rule, status, n in by_comm.get(ref.code, []):
            good = goods_of.get(rule)
            if good is None or status not in values:
                continue
            acc = per_rule.setdefault(good, {}).setdefault(rule, [Decimal(0), 0])
            acc[0] += values[status] * n
            acc[1] += n
        good_scores: dict = {}
        for g, rules in per_rule.items():
            means = [total / n for total, n in rules.values()]
            good_scores[g] = sum(means) / len(means) * 100
        pe = ctx.public_evaluation(ref.code, ref.town)
        pe_weight = to_decimal(p.get("public_evaluation_weight", 0)) if pe is not None else Decimal(0)
        used = {g: w for g, w in weights.items() if g in good_scores and w > 0}
        total_w = sum(used.values(), Decimal(0))
        rule_share = (Decimal(1) - pe_weight) if total_w else Decimal(0)
        if not total_w and pe is not None:
            pe_weight = Decimal(1)
        items = []
        extra = {}
        for g in list(GOODS) + extra_goods:
            s = good_scores.get(g)
            extra[good_label(g)] = "" if s is None else Score(s)  # a column of scores: 82.20, right-aligned
            if g not in used:
                continue
            share = rule_share * used[g] / total_w
            items.append(ctx.item(f"good.{g}", tr("{g} {s} 分 × {w}%", "{g} {s} × {w}%", g=good_label(g), s=format_score(s),
                                                  w=format_points(share * 100)),
                                  s * share, {"score": float(round_cents(s)), "rules": len(per_rule[g])}))
        if pe is not None:
            items.append(ctx.item("public_evaluation", tr("社会公开评价 {s} 分 × {w}%", "public evaluation {s} × {w}%",
                                                          s=format_score(pe), w=format_points(pe_weight * 100)),
                                  pe * pe_weight, float(pe)))
            extra[tr("社会公开评价", "public evaluation")] = Score(pe)
        else:
            extra[tr("社会公开评价", "public evaluation")] = ""
        if not items:
            yield ctx.result(ref.code, [], community=ref, name=ref.name, klass=tr("无数据", "no data"),
                             extra=extra, points=0)
            continue
        total = sum((i["points"] for i in items), Decimal(0))
        yield ctx.result(ref.code, items, community=ref, name=ref.name, klass=class_label(community_class(total, p)),
                         extra=extra)


# ---------------------------------------------------------------- worker appraisal (第8条)

def _trainings(ctx) -> dict:
    """{worker id: {level: (trainings, days)}} of the workers scored, this year up to the as-of
    date (one query, shared by the training items)."""
    memo = ctx.__dict__.setdefault("_appraisal_memo", {})
    if "trainings" not in memo:
        rows = (Training.select(Training.worker, Training.level, fn.COUNT(Training.id), fn.SUM(Training.days))
                .where(Training.worker.in_(scope_worker_ids(ctx)), Training.start_date >= ctx.year_start,
                       Training.start_date <= ctx.as_of)
                .group_by(Training.worker, Training.level).tuples())
        out: dict = {}
        for wid, level, n, days in rows:
            out.setdefault(wid, {})[level] = (n, to_decimal(days or 0))
        memo["trainings"] = out
    return memo["trainings"]


def _training_days(ctx, ids) -> dict:
    """{worker id: training days this year}."""
    return {wid: sum((v[1] for v in t.values()), Decimal(0)) for wid, t in _trainings(ctx).items()}


def _training_met(ctx, ids) -> set:
    """The workers whose trainings meet 第7条 (``train.leader`` / ``train.staff`` in force in their town)."""
    trainings, out = _trainings(ctx), set()
    for w in ctx.subject_rows:
        t = trainings.get(w.id, {})
        days = sum((v[1] for v in t.values()), Decimal(0))
        town = ctx.community(w.community_id).town
        if w.is_leader:
            rp = ctx.rule_params("train.leader", town)
            met = t.get("city", (0, 0))[0] >= int(rp["min_city_trainings"]) and days >= to_decimal(rp["min_days"])
        else:
            rp = ctx.rule_params("train.staff", town)
            met = sum(v[0] for v in t.values()) >= int(rp["min_trainings"]) and days >= to_decimal(rp["min_days"])
        if met:
            out.add(w.id)
    return out


def _certified(ctx, ids) -> set:
    """Workers holding a social-worker certificate by the as-of date."""
    return {w.id for w in ctx.subject_rows if w.certificate and w.certificate != "none"
            and (w.certificate_date is None or w.certificate_date <= ctx.as_of)}


def _secretary_filed(ctx, ids) -> set:
    """Secretaries filed (备案) by the as-of date."""
    return {w.id for w in ctx.subject_rows if w.is_secretary and w.filing_date and w.filing_date <= ctx.as_of}


def _duty_reports(ctx, ids) -> dict:
    """{secretary's worker id: audiences reported to this year} (双述职)."""
    secretaries = {w.id for w in ctx.subject_rows if w.is_secretary}
    return {wid: n for wid, n in (DutyReport.select(DutyReport.worker, fn.COUNT(fn.DISTINCT(DutyReport.audience)))
                                  .where(DutyReport.worker.in_(ids), DutyReport.year == ctx.year,
                                         DutyReport.date <= ctx.as_of)
                                  .group_by(DutyReport.worker).tuples()) if wid in secretaries}


def _visits_and_demands(ctx, ids):
    """({worker id: receptions and home visits as staff}, {worker id: [(date, answered, closed)]} of
    the demands they took that were not refused), this year up to the as-of date (one query)."""
    memo = ctx.__dict__.setdefault("_appraisal_memo", {})
    if "visits" not in memo:
        visits: dict = {}
        demands_of: dict = {}
        for wid, kind, date, demand, answered, closed, refused in (
                Visit.select(Visit.staff, Visit.kind, Visit.date, Visit.demand, Visit.answered_date,
                             Visit.closed_date, Visit.refused_reason)
                .where(Visit.staff.in_(ids), Visit.date >= ctx.year_start, Visit.date <= ctx.as_of).tuples()):
            if kind in ("reception", "home_visit"):
                visits[wid] = visits.get(wid, 0) + 1
            if demand and not refused:
                demands_of.setdefault(wid, []).append((date, answered, closed))
        memo["visits"] = (visits, demands_of)
    return memo["visits"]


def _visits(ctx, ids) -> dict:
    return _visits_and_demands(ctx, ids)[0]


def _demand_days(ctx, town) -> dict:
    """The label's ``{d}``: ``service.demand_response`` ``max_days`` in force in the town."""
    return {"d": int(ctx.rule_params("service.demand_response", town)["max_days"])}


def _demands_late(ctx, ids) -> dict:
    """{worker id: demands not answered or closed within ``max_days`` of the town's
    ``service.demand_response`` (第11条)}."""
    demands_of = _visits_and_demands(ctx, ids)[1]
    out: dict = {}
    for w in ctx.subject_rows:
        max_days = _demand_days(ctx, ctx.community(w.community_id).town)["d"]
        n_late = 0
        for date, answered, closed in demands_of.get(w.id, []):
            done = min([d for d in (answered, closed) if d is not None], default=None)
            if (done is not None and (done - date).days > max_days) or \
                    (done is None and (ctx.as_of - date).days > max_days):
                n_late += 1
        if n_late:
            out[w.id] = n_late
    return out


#: 绩效考核 of each community worker in post: training days (第7条) and the training
#: requirement met, certificate, secretary's filing and dual report (第8条), receptions and
#: visits kept as staff, demands answered late as staff (第11条).
WORKER_APPRAISAL_ITEMS = [
    Base("base"),
    PerCount("per_training_day", _training_days, cap="max_training_points", code="training_days",
             label=("培训 {n} 天", "{n} training days")),
    When(_training_met, "training_requirement_met", code="training_met",
         label=("培训达到第7条要求", "training requirement of clause 7 met")),
    When(_certified, "certificate", code="certificate",
         label=("持有社会工作者职业水平证书", "holds a social-worker certificate")),
    When(_secretary_filed, "secretary_filed", code="secretary_filed", label=("书记已备案", "secretary filed")),
    PerCount("per_duty_report", _duty_reports, code="dual_report",
             label=("述职 {n} 次（双述职）", "{n} reports given (dual report)")),
    PerCount(1, _visits, every="visits_per_point", cap="max_visit_points", code="visits",
             label=("接待走访 {n} 次", "{n} receptions and visits")),
    PerCount("per_demand_late", _demands_late, code="demands_late", fields=_demand_days,
             label=("诉求超过 {d} 天未答复 {n} 件", "{n} demands not answered within {d} days")),
]


# ---------------------------------------------------------------- in-service performance (第17条)

def grade(points, p) -> str:
    points = to_decimal(points)
    if points >= to_decimal(p["good_min"]):
        return "good"
    if points >= to_decimal(p["fair_min"]):
        return "fair"
    return "poor"


def _posts_held(ctx, ids) -> dict:
    """{member id: responsibility zones (党员责任区) and duty posts (设岗定责) held}."""
    posts: dict = {}
    for mid, n in (ResponsibilityZone.select(ResponsibilityZone.member, fn.COUNT(ResponsibilityZone.id))
                   .where(ResponsibilityZone.member.in_(ids)).group_by(ResponsibilityZone.member).tuples()):
        posts[mid] = posts.get(mid, 0) + n
    for mid, n in (DutyPost.select(DutyPost.member, fn.COUNT(DutyPost.id))
                   .where(DutyPost.member.in_(ids), (DutyPost.since.is_null()) | (DutyPost.since <= ctx.as_of))
                   .group_by(DutyPost.member).tuples()):
        posts[mid] = posts.get(mid, 0) + n
    return posts


def _grade_label(total, p) -> str:
    zh, en = GRADE_LABELS[grade(total, p)]
    return tr(zh, en)


#: 在职党员 at their residence community (第17条): community activities attended,
#: volunteer hours, commitments kept, pairings (结对帮扶), responsibility zones and posts
#: (党员责任区、设岗定责); grade 好 / 一般 / 差 by thresholds.
IN_SERVICE_ITEMS = [
    Base("base"),
    PerCount("per_activity", attended("present", org_community=True), code="activities",
             label=("参加社区活动 {n} 次", "{n} community activities attended")),
    PerCount(1, volunteer_hours, every="volunteer_hours_per_point", cap="max_volunteer_points",
             code="volunteer_hours", label=("志愿服务 {n} 小时", "{n} volunteer hours")),
    PerCount("per_commitment_kept", commitments_kept, code="commitments_kept",
             label=("践行承诺 {n} 项", "{n} commitments kept")),
    PerCount("per_pairing", pairing_counts, code="pairings", label=("结对帮扶 {n} 户", "{n} households paired")),
    PerCount("per_post", _posts_held, code="posts", label=("认领责任区或岗位 {n} 个", "{n} zones or posts held")),
]


SCORERS = [
    ItemScorer("member-points", "党员积分", "member points", MEMBER_POINTS_ITEMS, subjects="member",
               classes=MEMBER_POINTS_CLASSES, where=_member_points_kept),
    Scorer("community-score", "先锋社区评分", "community score (pioneer community)", score_community,
           subjects="community"),
    ItemScorer("worker-appraisal", "社区工作者绩效考核", "community worker appraisal", WORKER_APPRAISAL_ITEMS,
               subjects="worker"),
    ItemScorer("in-service-performance", "在职党员社区表现", "in-service members' community performance",
               IN_SERVICE_ITEMS, subjects="member", classes=("in_service",), klass=_grade_label),
]


@hookimpl
def dangjian_register_scorers(register):
    for s in SCORERS:
        register(s)
