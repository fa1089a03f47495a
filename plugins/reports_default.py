"""Built-in reports, run by ``dangjian report NAME``.

Tables in every format (table / md / csv / xlsx / html / json):
``training`` (ledger per worker, 第7条), ``dues`` (arrears with the calculator's
proposed monthly amount, 第13条), ``orglife`` (三会一课 calendar per branch and
month, 第13条), ``points`` (member points, 第13条), ``scores`` (community scores
and classes, 第16、22条), ``roster`` (community workers, 第6–9条),
``town-summary`` (for leaders' assessment, 第20条).

Printable HTML only: ``funding-notice`` (经费公示, 第19条) and ``ledger``
(年度党建工作台账, the community's annual book, 第21条).

Every query is set-based over the scope (no query per member); ID numbers and
phones are shown as the user's view shows them (``ctx.view``: masked unless the
user may see them), ages instead of birth dates.  Counts, amounts and scores go into
the rows as ``Count``, ``Money`` and ``Score`` (shown ``1,234``, ``15,000.00``, ``82.20``
and right-aligned in table, md, html and the app; plain numbers in csv, xlsx and json);
the printable pages format them the same way.
"""
from __future__ import annotations

import html
from decimal import Decimal

from peewee import fn

from core import (Attendance, cell_text, Commitment, Community, COMMUNITY_CLASSES, community_funding, Count,
                  dues_arrears, dues_months_owed, dues_proposal, dues_settled_sql, DuesObligations, DuesPayment,
                  DutyReport, enums, Evaluation, Expenditure, format_count, format_money, FourTwoDecision,
                  FundingAllocation, get_lang, hookimpl, ids, in_relationship, LeaderContactPoint, Meeting, Member,
                  member_ids_at, members_at, Money, Organization, Publication, relationship_member_counts, Report,
                  right_aligned, ROSTER_CLASS, ROSTER_COMMUNITY, ROSTER_ORG, Score, score_table, ServiceRecord,
                  Street, tr, Training, UserError, Visit, VolunteerHours, Worker, WorkerPost, workers_in_post)

ZERO = Decimal("0.00")


def _lab(choice, code) -> str:
    return choice.label(code, get_lang()) if code else ""


def _money(v):
    """An amount as a table cell (``Money``), ``""`` for none."""
    if v is None or v == "":
        return ""
    return Money(v)


def _yes(v) -> str:
    return tr("是", "yes") if v else tr("否", "no")


def _posts_text(posts) -> str:
    order = {c: i for i, c in enumerate(enums.POST.codes)}
    return "、".join(_lab(enums.POST, p) for p in sorted(posts, key=lambda p: order.get(p, 99)))


# ================================================================ training (第7条)

def run_training(ctx):


    workers = workers_in_post(ctx.community_ids, ctx.as_of)
    wids = Worker.select(Worker.id).where(Worker.community.in_(ctx.community_ids))
    by_worker: dict = {}
    if workers:
        rows = (Training.select(Training.worker, Training.title, Training.level, Training.start_date, Training.days)
                .where(Training.worker.in_(wids), Training.start_date >= ctx.year_start,
                       Training.start_date <= ctx.as_of)
                .order_by(Training.worker, Training.start_date).tuples())
        for wid, title, level, start, days in rows:
            by_worker.setdefault(wid, []).append((title, level, start, Decimal(str(days or 0))))
    headers = [tr("区镇", "town"), tr("社区", "community"), tr("姓名", "name"), tr("公民身份号码", "ID number"),
               tr("职务", "posts"), tr("培训次数", "trainings"), tr("市级及以上", "city level"), tr("累计天数", "days"),
               tr("应达天数", "days required"), tr("达标", "met"), tr("培训明细", "trainings held")]
    out, records = [], []
    for w in sorted(workers, key=lambda w: (ctx.community(w.community_id).town,
                                            ctx.community(w.community_id).code, w.name)):
        ref = ctx.community(w.community_id)
        ts = by_worker.get(w.id, [])
        days = sum((t[3] for t in ts), Decimal(0))
        n_city = sum(1 for t in ts if t[1] == "city")
        if w.is_leader:
            p = ctx.rule_params("train.leader", ref.town)
            need_days = Decimal(str(p["min_days"]))
            met = n_city >= int(p["min_city_trainings"]) and days >= need_days
        else:
            p = ctx.rule_params("train.staff", ref.town)
            need_days = Decimal(str(p["min_days"]))
            met = len(ts) >= int(p["min_trainings"]) and days >= need_days
        detail = "; ".join(f"{t[2]} {_lab(enums.TRAINING_LEVEL, t[1])} {t[0]} {format(t[3].normalize(), 'f')}"
                           + tr("天", " d") for t in ts)
        row = [ref.town, ref.code, w.name, ctx.view.mask_id(w.id_number), _posts_text(w.posts) or _lab(enums.POST, "other"),
               Count(len(ts)), Count(n_city), format(days.normalize(), "f"), format(need_days.normalize(), "f"),
               tr("达标", "met") if met else tr("未达标", "not met"), detail]
        out.append(row)
        rec = dict(zip(["town", "community", "name", "id_number", "posts", "trainings", "city_level", "days",
                        "days_required"], row[:9]))
        rec["met"] = met
        rec["detail"] = [{"title": t[0], "level": t[1], "start": t[2], "days": t[3]} for t in ts]
        records.append(rec)
    return ctx.table(headers, out, title=tr("社区工作者培训台账 {y}", "community worker training ledger {y}", y=ctx.year),
                     records=records)


# ================================================================ dues (第13条)

def run_dues(ctx):

    months = dues_months_owed(ctx.year, ctx.as_of)
    members = list(
        members_at(ctx.community_ids, ctx.as_of, Member.id_number, Member.name, Member.dues_class,
                          Member.monthly_income, Member.joined_date, Organization.name.alias("org"),
                          Organization.community.alias("cid"), relationship=True)
        .order_by(Member.id).dicts())
    ids = member_ids_at(ctx.community_ids, ctx.as_of, relationship=True)
    obligations = DuesObligations(ctx.year, ctx.as_of, community_ids=ctx.community_ids,
                                  member_ids=[m["id"] for m in members])
    pay: dict = {}
    if members and months:
        # months settled (core.dues), counted per member in SQL; only members short of their months are read in detail
        first, last = months[0], months[-1]
        full = dict(DuesPayment.select(DuesPayment.member, fn.COUNT(DuesPayment.id))
                    .where(DuesPayment.member.in_(ids), DuesPayment.month >= first, DuesPayment.month <= last,
                           dues_settled_sql(ctx.as_of))
                    .group_by(DuesPayment.member).tuples())
        # a member who joined this year may have paid months before joining, and one whose roster
        # changed owes only some months: read in detail too
        short = [m["id"] for m in members
                 if full.get(m["id"], 0) < len(months) or m["joined_date"].year == ctx.year
                 or obligations.moved(m["id"])]
        short_set = set(short)
        members = [m for m in members if m["id"] in short_set]
        for i in range(0, len(short), 500):
            chunk = short[i:i + 500]
            for mid, month, due, paid, paid_date in (
                    DuesPayment.select(DuesPayment.member, DuesPayment.month, DuesPayment.due, DuesPayment.paid,
                                       DuesPayment.paid_date)
                    .where(DuesPayment.member.in_(chunk), DuesPayment.month >= first, DuesPayment.month <= last)
                    .tuples()):
                pay.setdefault(mid, {})[month] = (Decimal(str(due or 0)), Decimal(str(paid or 0)), paid_date)
    headers = [tr("区镇", "town"), tr("社区", "community"), tr("党组织", "organization"), tr("姓名", "name"),
               tr("公民身份号码", "ID number"), tr("党费类别", "dues class"), tr("月收入", "monthly income"),
               tr("测算月缴", "proposed monthly"), tr("欠缴月份", "months in arrears"), tr("欠缴月数", "months"),
               tr("欠缴金额", "amount owed")]
    rows, records = [], []
    for m in members:
        proposed = dues_proposal(m["dues_class"], m["monthly_income"])
        paid = pay.get(m["id"], {})
        owed_months = dues_arrears(ctx.year, ctx.as_of, m["joined_date"], paid,
                                   obligations.months(m["id"], m["joined_date"]))
        owed = Decimal(0)
        for month in owed_months:
            row = paid.get(month)
            if row is None:
                owed += proposed or Decimal(0)
            else:  # what was paid by the as-of date counts
                owed += row[0] - (row[1] if row[2] is not None and row[2] <= ctx.as_of else Decimal(0))
        if not owed_months:
            continue
        ref = ctx.community(m["cid"])
        r = [ref.town, ref.code, m["org"], m["name"], ctx.view.mask_id(m["id_number"]), _lab(enums.DUES_CLASS, m["dues_class"]),
             _money(m["monthly_income"]), _money(proposed), "、".join(x[5:] for x in owed_months),
             Count(len(owed_months)), _money(owed)]
        rows.append(r)
        records.append({"town": ref.town, "community": ref.code, "organization": m["org"], "name": m["name"],
                        "id_number": r[4], "dues_class": m["dues_class"], "monthly_income": m["monthly_income"],
                        "proposed_monthly": proposed, "months": owed_months, "amount_owed": owed.quantize(ZERO)})
    rows.sort(key=lambda r: (r[0], r[1], r[2] or "", r[3]))
    records.sort(key=lambda r: (r["town"], r["community"], r["organization"] or "", r["name"]))
    return ctx.table(headers, rows, title=tr("党费欠缴与测算 {y}（截至 {d}）", "dues arrears and proposed amounts {y} (as of {d})",
                                             y=ctx.year, d=ctx.as_of), records=records)


# ================================================================ orglife (第13条, 三会一课)

ABBR = {"assembly": ("大会", "A"), "committee_meeting": ("支委", "C"), "group_meeting": ("小组", "G"),
        "lecture": ("党课", "L")}


def _abbr(code):
    zh, en = ABBR[code]
    return tr(zh, en)


def run_orglife(ctx):

    orgs = list(Organization.select(Organization.id, Organization.code, Organization.name, Organization.kind,
                                    Organization.parent, Organization.community)
                .where(Organization.community.in_(ctx.community_ids),
                       Organization.kind.in_(["branch", "group"])).tuples())
    branches = [o for o in orgs if o[3] == "branch"]
    groups_of: dict = {}
    for o in orgs:
        if o[3] == "group" and o[4] is not None:
            groups_of.setdefault(o[4], []).append(o[0])
    held: dict = {}
    org_ids = [o[0] for o in orgs]
    if org_ids:
        q = (Meeting.select(Meeting.organization, Meeting.type, Meeting.date)
             .where(Meeting.organization.in_(org_ids), Meeting.type.in_(list(enums.ORG_LIFE_TYPES)),
                    Meeting.date >= ctx.year_start, Meeting.date <= ctx.as_of).tuples())
        for oid, mtype, date in q:
            key = (oid, date.month)
            held.setdefault(key, {}).setdefault(mtype, 0)
            held[key][mtype] += 1
    counts = relationship_member_counts(ctx.community_ids, ctx.as_of, by="organization") if ctx.community_ids else {}
    ended = {p.label: p for p in ctx.months_ended()}
    headers = [tr("区镇", "town"), tr("社区", "community"), tr("支部", "branch"), tr("正式党员", "formal members")]
    headers += [f"{m:02d}" + tr("月", "") for m in range(1, 13)]
    headers += [tr("缺项月数", "months with gaps")]
    rows, records = [], []
    for bid, code, name, _kind, _parent, cid in sorted(branches, key=lambda b: (ctx.community(b[5]).town, b[1])):
        ref = ctx.community(cid)
        p = ctx.rule_params("orglife.three_meetings_one_lesson", ref.town)
        groups = groups_of.get(bid, [])
        n_formal = counts.get(bid, 0) + sum(counts.get(g, 0) for g in groups)
        need_committee = n_formal >= int(p["committee_meeting_min_members"])
        lecture_monthly = p["lecture_period"] == "month"
        cells, gaps, rec_months = [], 0, {}
        for month in range(1, 13):
            label = f"{ctx.year}-{month:02d}"
            got = dict(held.get((bid, month), {}))
            group_counts = [held.get((g, month), {}).get("group_meeting", 0) for g in groups]
            if sum(group_counts):
                got["group_meeting"] = got.get("group_meeting", 0) + sum(group_counts)
            missing = []
            if label in ended:
                if need_committee and not got.get("committee_meeting"):
                    missing.append("committee_meeting")
                if groups and any(n == 0 for n in group_counts):
                    missing.append("group_meeting")
                q_months = range(month - 2, month + 1)
                if month % 3 == 0:
                    if not any(held.get((bid, x), {}).get("assembly") for x in q_months):
                        missing.append("assembly")
                    if not lecture_monthly and not any(held.get((bid, x), {}).get("lecture") for x in q_months):
                        missing.append("lecture")
                if lecture_monthly and not got.get("lecture"):
                    missing.append("lecture")
            parts = [f"{_abbr(t)}{got[t]}" for t in enums.ORG_LIFE_TYPES if got.get(t)]
            if missing:
                gaps += 1
                parts.append(tr("缺", "missing ") + "、".join(_abbr(t) for t in missing))
            cells.append(" ".join(parts))
            rec_months[label] = {"held": got, "missing": missing, "ended": label in ended}
        rows.append([ref.town, ref.code, name, Count(n_formal), *cells, Count(gaps)])
        records.append({"town": ref.town, "community": ref.code, "branch": code, "name": name,
                        "formal_members": n_formal, "months": rec_months, "months_with_gaps": gaps})
    legend = tr("大会=党员大会 支委=支委会 小组=党小组会 党课=党课；数字为次数，“缺”标出未开的会",
                "A=general assembly C=branch committee G=Party group L=lecture; numbers are meetings held, "
                "'missing' marks what was due and not held")
    t = ctx.table(headers, rows, title=tr("三会一课 {y}（{l}）", "three meetings and one lesson {y} ({l})",
                                          y=ctx.year, l=legend), records=records)
    return t


# ================================================================ points / scores

def run_points(ctx):

    run = ctx.score("member-points")
    headers, rows, records = score_table(run)
    t = ctx.table(headers, rows, title=tr("党员积分 {y}", "member points {y}", y=ctx.year), records=records)
    t.notes = list(run.errors)
    return t


def run_scores(ctx):

    run = ctx.score("community-score")
    headers, rows, records = score_table(run, with_items=False)
    t = ctx.table(headers, rows, title=tr("先锋社区评分与分类 {y}", "community scores and classes {y}", y=ctx.year),
                  records=records)
    t.notes = list(run.errors)
    return t


# ================================================================ roster (第6–9条)

def run_roster(ctx):

    workers = list(Worker.select().where(Worker.community.in_(ctx.community_ids)).order_by(Worker.community,
                                                                                         Worker.name).dicts())
    wids = Worker.select(Worker.id).where(Worker.community.in_(ctx.community_ids))
    posts: dict = {}
    if workers:
        for wid, post in (WorkerPost.select(WorkerPost.worker, WorkerPost.post)
                          .where(WorkerPost.worker.in_(wids), WorkerPost.start_date <= ctx.as_of,
                                 (WorkerPost.end_date.is_null()) | (WorkerPost.end_date > ctx.as_of)).tuples()):
            posts.setdefault(wid, set()).add(post)
    headers = [tr("区镇", "town"), tr("社区", "community"), tr("姓名", "name"), tr("公民身份号码", "ID number"),
               tr("性别", "sex"), tr("年龄", "age"), tr("职务", "posts"), tr("学历", "education"),
               tr("社工证书", "certificate"), tr("取证日期", "certificate date"), tr("入职日期", "hired"),
               tr("大学生", "college graduate"), tr("后备人才", "backup talent"), tr("备案日期", "filed"),
               tr("联系电话", "phone"), tr("在岗状态", "status")]
    rows = []
    for w in workers:
        ref = ctx.community(w["community"])
        birth = w["birth_date"]
        if birth is None:
            try:
                birth = ids.birth_date(w["id_number"])
            except Exception:
                birth = None
        # completed years at the as-of date; a user without full personal data sees the age
        # reached in the year instead (year − birth year: it does not narrow the birthday)
        age = "" if not birth else ids.age_on(birth, ctx.as_of) if ctx.view.full_personal_data \
            else ctx.view.born(birth, ctx.as_of.year)
        rows.append([ref.town, ref.code, w["name"], ctx.view.mask_id(w["id_number"]), _lab(enums.SEX, w["sex"]), age,
                     _posts_text(posts.get(w["id"], set())), _lab(enums.EDUCATION, w["education"]),
                     _lab(enums.CERTIFICATE, w["certificate"]), w["certificate_date"] or "", w["hired_date"] or "",
                     _yes(w["college_graduate"]), _yes(w["backup_talent"]), w["filing_date"] or "",
                     ctx.view.mask_phone(w["phone"]), _lab(enums.WORKER_STATUS, w["status"])])
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return ctx.table(headers, rows, title=tr("社区工作者花名册（{d}）", "community worker roster ({d})", d=ctx.as_of))


# ================================================================ town summary (第20条)

def run_town_summary(ctx):

    ids_ = ctx.community_ids
    members = relationship_member_counts(ids_, ctx.as_of, formal_only=False) if ids_ else {}
    in_service = {r["community_id"]: r["n"] for r in
                  members_at(ids_, ctx.as_of, classes=("in_service",))
                  .select(ROSTER_COMMUNITY.alias("community_id"), fn.COUNT(Member.id).alias("n"))
                  .group_by(ROSTER_COMMUNITY).dicts()} if ids_ else {}
    workers = workers_in_post(ids_, ctx.as_of) if ids_ else []
    points = dict(LeaderContactPoint.select(LeaderContactPoint.community, fn.COUNT(LeaderContactPoint.id))
                  .where(LeaderContactPoint.community.in_(ids_), LeaderContactPoint.since <= ctx.as_of)
                  .group_by(LeaderContactPoint.community).tuples()) if ids_ else {}
    research = dict(Visit.select(Visit.community, fn.COUNT(Visit.id))
                    .where(Visit.community.in_(ids_), Visit.kind == "leader_research",
                           Visit.date >= ctx.year_start, Visit.date <= ctx.as_of)
                    .group_by(Visit.community).tuples()) if ids_ else {}
    funding = {f.community_id: f for f in community_funding(ctx.communities, ctx.year, ctx.as_of)}
    counts = ctx.finding_counts()
    scores = ctx.score("community-score")
    klass = {r.community: r for r in scores.results}
    class_names = {tr(*COMMUNITY_CLASSES[k]): k for k in COMMUNITY_CLASSES}
    towns: dict = {}
    for ref in ctx.communities:
        t = towns.setdefault(ref.town, {"communities": 0, "members": 0, "in_service": 0, "workers": 0,
                                        "pass": 0, "warn": 0, "fail": 0, "error": 0, "advanced": 0, "ordinary": 0,
                                        "lagging": 0, "points": [], "floor_met": 0, "gap": ZERO,
                                        "contact_points": 0, "research": 0, "codes": set()})
        t["communities"] += 1
        t["codes"].add(ref.code)
        t["members"] += members.get(ref.id, 0)
        t["in_service"] += in_service.get(ref.id, 0)
        t["contact_points"] += points.get(ref.id, 0)
        t["research"] += research.get(ref.id, 0)
        f = funding.get(ref.id)
        if f is not None:
            t["floor_met"] += 1 if f.allocated >= f.floor else 0
            t["gap"] += f.gap
        r = klass.get(ref.code)
        if r is not None:
            k = class_names.get(r.klass)
            if k:
                t[k] += 1
            t["points"].append(r.points)
    for w in workers:
        ref = ctx.community(w.community_id)
        towns[ref.town]["workers"] += 1
    code_town = {c.code: c.town for c in ctx.communities}
    for (code, _rule, status), n in counts.items():
        town = code_town.get(code)
        if town and status in ("pass", "warn", "fail", "error"):
            towns[town][status] += n
    headers = [tr("区镇", "town"), tr("社区数", "communities"), tr("党员数", "members"), tr("在职党员报到", "in-service registered"),
               tr("社区工作者", "workers"), tr("通过", "pass"), tr("提醒", "warn"), tr("不符合", "fail"), tr("错误", "error"),
               tr("达标率", "compliance"), tr("平均得分", "mean score"), tr("先进", "advanced"), tr("一般", "ordinary"),
               tr("后进", "lagging"), tr("经费达标社区", "funding floor met"), tr("经费缺口", "funding gap"),
               tr("领导联系点", "leader contact points"), tr("领导调研", "leader research visits")]
    rows, records = [], []
    for town in sorted(towns):
        t = towns[town]
        decided = t["pass"] + t["warn"] + t["fail"]
        rate = f"{Decimal(t['pass'] * 100) / decided:.1f}%" if decided else ""
        mean = Score(sum(t["points"], Decimal(0)) / len(t["points"])) if t["points"] else ""
        row = [town, *(Count(t[k]) for k in ("communities", "members", "in_service", "workers", "pass", "warn",
                                              "fail", "error")),
               rate, mean, *(Count(t[k]) for k in ("advanced", "ordinary", "lagging")),
               f"{t['floor_met']}/{t['communities']}", _money(t["gap"]), Count(t["contact_points"]),
               Count(t["research"])]
        rows.append(row)
        records.append(dict(zip(["town", "communities", "members", "in_service", "workers", "pass", "warn", "fail",
                                 "error", "compliance", "mean_score", "advanced", "ordinary", "lagging",
                                 "funding_floor_met", "funding_gap", "leader_contact_points",
                                 "leader_research_visits"], row)))
    return ctx.table(headers, rows, title=tr("区镇社区党建工作汇总 {y}（第20条考核用）",
                                             "town summary of community Party building {y} (clause 20 assessment)",
                                             y=ctx.year), records=records)


# ================================================================ HTML helpers

PRINT_STYLE = """
body{font-family:"Noto Serif CJK SC","SimSun","Noto Sans CJK SC",serif;margin:2em;color:#111;line-height:1.5}
table{border-collapse:collapse;margin:.6em 0 1.2em;width:100%}th,td{border:1px solid #555;padding:.25em .5em;
text-align:left;vertical-align:top;font-size:.92em}th{background:#eee}h1{text-align:center;font-size:1.5em}
h2{font-size:1.2em;border-bottom:2px solid #a00;margin-top:1.6em}h3{font-size:1.05em}
.num{text-align:right}.muted{color:#555}.sign{margin-top:3em;text-align:right}
.fail,.error{background:#f8d0d0}.warn{background:#fbe9b7}.pass{background:#d6f0d6}
.page{page-break-after:always}.page:last-child{page-break-after:auto}
nav ol{columns:2}@media print{body{margin:1.2cm}nav{page-break-after:always}a{color:#111;text-decoration:none}}
"""


def esc(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return esc(_yes(v))
    return html.escape(str(v))


def html_table(headers, rows, classes=None) -> str:
    if not rows:
        return f"<p class=\"muted\">{esc(tr('（无记录）', '(none)'))}</p>"
    # numbers in their formats (1,234; 15,000.00), their columns right-aligned
    num = [right_aligned(r[j] for r in rows if j < len(r)) for j in range(len(headers))]
    out = ["<table><thead><tr>", *(("<th class=\"num\">" if num[j] else "<th>") + esc(h) + "</th>"
                                   for j, h in enumerate(headers)), "</tr></thead><tbody>"]
    for i, r in enumerate(rows):
        cls = f' class="{esc(classes[i])}"' if classes and classes[i] else ""
        out.append(f"<tr{cls}>" + "".join(("<td class=\"num\">" if j < len(num) and num[j] else "<td>")
                                          + esc(cell_text(c)) + "</td>" for j, c in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def html_doc(title: str, body: str) -> str:
    lang = "en" if get_lang() == "en" else "zh-CN"
    return (f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<style>{PRINT_STYLE}</style></head><body>{body}</body></html>\n")


# ================================================================ funding notice (第19条)

def run_funding_notice(ctx):

    ids_ = ctx.community_ids
    allocs: dict = {}
    spend: dict = {}
    if ids_:
        for cid, date, source, amount in (FundingAllocation.select(FundingAllocation.community, FundingAllocation.date,
                                                                   FundingAllocation.source, FundingAllocation.amount)
                                          .where(FundingAllocation.community.in_(ids_),
                                                 FundingAllocation.year == ctx.year)
                                          .order_by(FundingAllocation.date).tuples()):
            allocs.setdefault(cid, []).append((date, source, Decimal(str(amount))))
        for cid, date, purpose, amount in (Expenditure.select(Expenditure.community, Expenditure.date,
                                                              Expenditure.purpose, Expenditure.amount)
                                           .where(Expenditure.community.in_(ids_),
                                                  Expenditure.date >= ctx.year_start, Expenditure.date <= ctx.as_of)
                                           .order_by(Expenditure.date).tuples()):
            spend.setdefault(cid, []).append((date, purpose, Decimal(str(amount))))
    floors = {f.community_id: f for f in community_funding(ctx.communities, ctx.year, ctx.as_of)}
    pages = []
    for ref in ctx.communities:
        a = allocs.get(ref.id, [])
        s = spend.get(ref.id, [])
        total_in = sum((x[2] for x in a), Decimal(0))
        total_out = sum((x[2] for x in s), Decimal(0))
        f = floors.get(ref.id)
        title = tr("{c} {y} 年度党组织活动经费公示", "{c}: Party organization funding notice {y}", c=ref.name, y=ctx.year)
        body = [f"<section class=\"page\"><h1>{esc(title)}</h1>",
                f"<p>{esc(tr('区镇：', 'Town: '))}{esc(ref.town)}　{esc(tr('社区编码：', 'Community code: '))}{esc(ref.code)}"
                f"　{esc(tr('截至：', 'As of: '))}{esc(ctx.as_of)}</p>"]
        if f is not None:
            body.append(f"<p>{esc(tr('按第19条，本社区组织关系在社区的党员 {n} 名，活动经费保障标准 {fl} 元；市、区镇财政已划拨 {al} 元。', 'Under clause 19 the community has {n} members whose relationship is here; the funding floor is {fl} yuan; city and town finance have allocated {al} yuan.', n=format_count(f.members), fl=format_money(f.floor), al=format_money(f.allocated)))}</p>")
        body.append(f"<h2>{esc(tr('一、经费来源', '1. Funds received'))}</h2>")
        body.append(html_table([tr("日期", "date"), tr("来源", "source"), tr("金额（元）", "amount (yuan)")],
                               [[d, _lab(enums.FUNDING_SOURCE, src), _money(v)] for d, src, v in a]
                               + ([[tr("合计", "total"), "", _money(total_in)]] if a else [])))
        body.append(f"<h2>{esc(tr('二、经费使用', '2. Spending'))}</h2>")
        body.append(html_table([tr("日期", "date"), tr("用途", "purpose"), tr("金额（元）", "amount (yuan)")],
                               [[d, p, _money(v)] for d, p, v in s]
                               + ([[tr("合计", "total"), "", _money(total_out)]] if s else [])))
        body.append(f"<h2>{esc(tr('三、结余', '3. Balance'))}</h2><p>{esc(format_money(total_in - total_out))} "
                    f"{esc(tr('元', 'yuan'))}</p>")
        body.append(f"<p class=\"muted\">{esc(tr('公示期内如有疑问，请向社区党组织反映。', 'Questions during the notice period may be put to the community Party organization.'))}</p>")
        body.append(f"<p class=\"sign\">{esc(ref.name)}{esc(tr('党组织（盖章）', ' Party organization (seal)'))}"
                    f"<br>{esc(tr('　　年　　月　　日', 'date: ____________'))}</p></section>")
        pages.append("".join(body))
    if not pages:
        pages.append(f"<p>{esc(tr('范围内没有社区', 'no community in scope'))}</p>")
    return html_doc(tr("经费公示 {y}", "funding notice {y}", y=ctx.year), "".join(pages))


# ================================================================ annual ledger (第21条)

def run_ledger(ctx):

    if not ctx.community_filter or len(ctx.communities) != 1:
        raise UserError(tr("台账按社区生成：请选择一个社区（命令行：--community 社区编码）",
                           "the ledger is one community's book: choose a community (on the command line: "
                           "--community CODE)"))
    ref = ctx.communities[0]
    comm = Community.get_by_id(ref.id)
    street = Street.get_or_none(Street.id == comm.street_id) if comm.street_id else None
    y, as_of = ctx.year, ctx.as_of
    sections: list[tuple[str, str, str]] = []  # (anchor, title, html)

    # -- 1 organizations
    orgs = list(Organization.select(Organization.id, Organization.code, Organization.name, Organization.kind,
                                    Organization.parent, Organization.founded, Organization.approval_no)
                .where(Organization.community == ref.id).order_by(Organization.code).tuples())
    org_name = {o[0]: o[2] for o in orgs}
    org_ids = list(org_name)
    sections.append(("orgs", tr("党组织设置", "Party organizations"), html_table(
        [tr("组织编码", "code"), tr("组织名称", "name"), tr("组织类别", "kind"), tr("上级组织", "parent"),
         tr("成立日期", "founded"), tr("批准文号", "approval no.")],
        [[o[1], o[2], _lab(enums.ORG_KIND, o[3]), org_name.get(o[4], ""), o[5] or "", o[6] or ""] for o in orgs])))

    # -- 2 members by class
    # the roster of the as-of date: class and organization as they were then
    members = list(members_at([ref.id], as_of, Member.id_number, Member.name, Member.sex, Member.joined_date,
                                     Member.full_date, ROSTER_ORG.alias("organization"),
                                     ROSTER_CLASS.alias("management_class"), Member.retired,
                                     Member.mobility_impaired, Member.phone, Member.work_unit, Member.placed_date,
                                     Member.certificate_no, Member.contact_person)
                   .order_by(ROSTER_CLASS, Member.name).dicts())
    name_of = {m["id"]: m["name"] for m in members}
    parts = []
    for klass in enums.MEMBER_CLASS.codes:
        group = [m for m in members if m["management_class"] == klass]
        parts.append(f"<h3>{esc(_lab(enums.MEMBER_CLASS, klass))}（{format_count(len(group))}）</h3>")
        parts.append(html_table(
            [tr("姓名", "name"), tr("公民身份号码", "ID number"), tr("性别", "sex"), tr("入党日期", "joined"),
             tr("党员状态", "status"), tr("所在党组织", "organization"), tr("离退休", "retired"),
             tr("行动不便", "mobility-impaired"), tr("联系电话", "phone"), tr("备注", "notes")],
            [[m["name"], ctx.view.mask_id(m["id_number"]), _lab(enums.SEX, m["sex"]), m["joined_date"],
              _lab(enums.MEMBER_STATUS, "full" if m["full_date"] and m["full_date"] <= as_of else "probationary"),
              org_name.get(m["organization"], ""), _yes(m["retired"]), _yes(m["mobility_impaired"]),
              ctx.view.mask_phone(m["phone"]),
              "；".join(x for x in [m["work_unit"] or "",
                                    (tr("编入 ", "placed ") + str(m["placed_date"])) if m["placed_date"] else "",
                                    (tr("活动证 ", "certificate ") + m["certificate_no"]) if m["certificate_no"] else "",
                                    (tr("联系人 ", "contact ") + m["contact_person"]) if m["contact_person"] else ""]
                       if x)] for m in group]))
    sections.append(("members", tr("党员（按类别）", "Members by class"), "".join(parts)))

    # -- 3 workers and trainings
    in_post = {w.id: w for w in workers_in_post([ref.id], as_of)}
    workers = list(Worker.select().where(Worker.community == ref.id).order_by(Worker.name).dicts())
    wname = {w["id"]: w["name"] for w in workers}
    wids = list(wname)
    trainings = list(Training.select(Training.worker, Training.title, Training.level, Training.start_date, Training.days)
                     .where(Training.worker.in_(wids), Training.start_date >= ctx.year_start,
                            Training.start_date <= as_of).order_by(Training.start_date).tuples()) if wids else []
    reports = list(DutyReport.select(DutyReport.worker, DutyReport.audience, DutyReport.date, DutyReport.rating)
                   .where(DutyReport.worker.in_(wids), DutyReport.year == y).order_by(DutyReport.date).tuples()) \
        if wids else []
    html_w = html_table(
        [tr("姓名", "name"), tr("公民身份号码", "ID number"), tr("职务", "posts"), tr("学历", "education"),
         tr("社工证书", "certificate"), tr("大学生", "college graduate"), tr("后备人才", "backup talent"),
         tr("备案日期", "filed"), tr("联系电话", "phone"), tr("在岗状态", "status")],
        [[w["name"], ctx.view.mask_id(w["id_number"]), _posts_text(in_post[w["id"]].posts) if w["id"] in in_post else "",
          _lab(enums.EDUCATION, w["education"]), _lab(enums.CERTIFICATE, w["certificate"]), _yes(w["college_graduate"]),
          _yes(w["backup_talent"]), w["filing_date"] or "", ctx.view.mask_phone(w["phone"]),
          _lab(enums.WORKER_STATUS, w["status"])] for w in workers])
    html_t = html_table([tr("姓名", "name"), tr("培训名称", "title"), tr("培训级别", "level"), tr("开始日期", "start"),
                         tr("天数", "days")],
                        [[wname[t[0]], t[1], _lab(enums.TRAINING_LEVEL, t[2]), t[3], t[4]] for t in trainings])
    html_r = html_table([tr("姓名", "name"), tr("述职对象", "audience"), tr("日期", "date"), tr("评议", "rating")],
                        [[wname[r[0]], _lab(enums.REPORT_AUDIENCE, r[1]), r[2], r[3] or ""] for r in reports])
    sections.append(("workers", tr("社区工作者、培训与述职", "Workers, trainings and reports given"),
                     html_w + f"<h3>{esc(tr('培训', 'Trainings'))}</h3>" + html_t
                     + f"<h3>{esc(tr('述职', 'Reports given'))}</h3>" + html_r))

    # -- 4 meetings with attendance
    meetings = list(Meeting.select(Meeting.id, Meeting.code, Meeting.organization, Meeting.type, Meeting.date,
                                   Meeting.topic)
                    .where(Meeting.organization.in_(org_ids), Meeting.date >= ctx.year_start, Meeting.date <= as_of)
                    .order_by(Meeting.date, Meeting.code).tuples()) if org_ids else []
    att: dict = {}
    mids = [m[0] for m in meetings]
    if mids:
        for mid, member, status, reason in (Attendance.select(Attendance.meeting, Attendance.member, Attendance.status,
                                                              Attendance.leave_reason)
                                            .where(Attendance.meeting.in_(mids)).tuples()):
            att.setdefault(mid, []).append((member, status, reason))
    member_names = dict(name_of)
    missing = {a[0] for rows_ in att.values() for a in rows_} - set(member_names)
    if missing:
        member_names.update(dict(Member.select(Member.id, Member.name).where(Member.id.in_(list(missing))).tuples()))
    mrows = []
    for mid, code, org, mtype, date, topic in meetings:
        a = att.get(mid, [])
        present = [member_names.get(x[0], "?") for x in a if x[1] == "present"]
        leave = [f"{member_names.get(x[0], '?')}（{x[2] or ''}）" for x in a if x[1] == "leave"]
        absent = [member_names.get(x[0], "?") for x in a if x[1] == "absent"]
        mrows.append([date, code, org_name.get(org, ""), _lab(enums.MEETING_TYPE, mtype), topic or "",
                      f"{format_count(len(present))}：" + "、".join(present), "、".join(leave), "、".join(absent)])
    sections.append(("meetings", tr("会议与活动（含出勤）", "Meetings and attendance"), html_table(
        [tr("日期", "date"), tr("会议编号", "code"), tr("党组织", "organization"), tr("会议类型", "type"),
         tr("主题", "topic"), tr("出席", "present"), tr("请假（事由）", "on leave (reason)"), tr("缺席", "absent")], mrows)))

    # -- 5 evaluations
    mem_ids = [m["id"] for m in members]
    evals = list(Evaluation.select(Evaluation.member, Evaluation.result)
                 .where(Evaluation.member.in_(mem_ids), Evaluation.year == y).tuples()) if mem_ids else []
    sections.append(("evaluations", tr("民主评议结果", "Democratic evaluation"), html_table(
        [tr("姓名", "name"), tr("评议结果", "result")],
        sorted([[name_of.get(e[0], ""), _lab(enums.EVALUATION, e[1])] for e in evals]))))

    # -- 6 dues
    dues = list(DuesPayment.select(DuesPayment.member, DuesPayment.month, DuesPayment.due, DuesPayment.paid,
                                   DuesPayment.paid_date)
                .where(DuesPayment.member.in_(mem_ids), DuesPayment.month >= f"{y}-01",
                       DuesPayment.month <= f"{y}-12").tuples()) if mem_ids else []
    by_m: dict = {}
    for mid, month, due, paid, pdate in dues:
        by_m.setdefault(mid, {})[month] = (Decimal(str(due or 0)), Decimal(str(paid or 0)), pdate)
    drows = []
    for m in members:
        if not in_relationship(m["management_class"]):
            continue
        rec = by_m.get(m["id"], {})
        owed = [mo[5:] for mo in dues_arrears(y, as_of, m["joined_date"], rec)]
        drows.append([m["name"], Count(len(rec)), _money(sum((r[0] for r in rec.values()), Decimal(0))),
                      _money(sum((r[1] for r in rec.values()), Decimal(0))), "、".join(owed)])
    sections.append(("dues", tr("党费收缴", "Party dues"), html_table(
        [tr("姓名", "name"), tr("记录月数", "months recorded"), tr("应交（元）", "due (yuan)"),
         tr("实交（元）", "paid (yuan)"), tr("欠缴月份", "months in arrears")], drows)))

    # -- 7 visits and demands
    visits = list(Visit.select(Visit.date, Visit.kind, Visit.staff, Visit.member, Visit.people, Visit.demand,
                               Visit.answered_date, Visit.closed_date, Visit.refused_reason)
                  .where(Visit.community == ref.id, Visit.date >= ctx.year_start, Visit.date <= as_of)
                  .order_by(Visit.date).tuples())
    staff_names = dict(wname)
    sections.append(("visits", tr("接访走访与群众诉求", "Receptions, visits and demands"), html_table(
        [tr("日期", "date"), tr("类型", "kind"), tr("接待人", "staff"), tr("对象", "member visited"), tr("人次", "people"),
         tr("诉求", "demand"), tr("答复日期", "answered"), tr("办结日期", "closed"), tr("不予受理原因", "refused because")],
        [[v[0], _lab(enums.VISIT_KIND, v[1]), staff_names.get(v[2], ""), member_names.get(v[3], ""),
          Count(v[4]) if v[4] is not None else "", v[5] or "",
          v[6] or "", v[7] or "", v[8] or ""] for v in visits])))

    # -- 8 service, commitments, volunteer hours, decisions, publications
    services = list(ServiceRecord.select(ServiceRecord.date, ServiceRecord.target_group, ServiceRecord.free,
                                         ServiceRecord.content)
                    .where(ServiceRecord.community == ref.id, ServiceRecord.date >= ctx.year_start,
                           ServiceRecord.date <= as_of).order_by(ServiceRecord.date).tuples())
    commitments = list(Commitment.select(Commitment.member, Commitment.organization, Commitment.content,
                                         Commitment.fulfilled, Commitment.fulfilled_date)
                       .where(((Commitment.member.in_(mem_ids)) if mem_ids else (Commitment.id < 0))
                              | (Commitment.organization.in_(org_ids) if org_ids else (Commitment.id < 0)),
                              Commitment.year == y).tuples())
    hours = list(VolunteerHours.select(VolunteerHours.member, fn.SUM(VolunteerHours.hours))
                 .where(VolunteerHours.member.in_(mem_ids), VolunteerHours.date >= ctx.year_start,
                        VolunteerHours.date <= as_of).group_by(VolunteerHours.member).tuples()) if mem_ids else []
    decisions = list(FourTwoDecision.select().where(FourTwoDecision.community == ref.id).order_by(FourTwoDecision.code)
                     .dicts())
    decisions = [d for d in decisions if any(d[s] and d[s].year == y for s in FourTwoDecision.STAGES)]
    pubs = list(Publication.select(Publication.kind, Publication.date)
                .where(Publication.community == ref.id, Publication.year == y).order_by(Publication.date).tuples())
    body = (f"<h3>{esc(tr('服务记录', 'Services'))}</h3>" + html_table(
        [tr("日期", "date"), tr("服务对象", "target group"), tr("无偿", "free"), tr("内容", "content")],
        [[s[0], _lab(enums.SERVICE_TARGET, s[1]), _yes(s[2]), s[3]] for s in services])
        + f"<h3>{esc(tr('承诺践诺', 'Commitments'))}</h3>" + html_table(
        [tr("承诺人", "by"), tr("内容", "content"), tr("已兑现", "kept"), tr("兑现日期", "kept on")],
        [[name_of.get(c[0]) or org_name.get(c[1], ""), c[2], _yes(c[3]), c[4] or ""] for c in commitments])
        + f"<h3>{esc(tr('志愿服务时长', 'Volunteer hours'))}</h3>" + html_table(
        [tr("姓名", "name"), tr("小时", "hours")], sorted([[name_of.get(h[0], ""), h[1]] for h in hours]))
        + f"<h3>{esc(tr('四议两公开', 'Four deliberations, two publications'))}</h3>" + html_table(
        [tr("编号", "code"), tr("事项", "title"), tr("提议", "proposed"), tr("商议", "consulted"), tr("审议", "reviewed"),
         tr("决议", "resolved"), tr("决议公开", "published"), tr("结果公开", "result published")],
        [[d["code"], d["title"], *[d[s] or "" for s in FourTwoDecision.STAGES]] for d in decisions])
        + f"<h3>{esc(tr('公开事项', 'Publications'))}</h3>" + html_table(
        [tr("公开类型", "kind"), tr("日期", "date")], [[_lab(enums.PUBLICATION_KIND, p[0]), p[1]] for p in pubs]))
    sections.append(("service", tr("服务、承诺、志愿服务与民主", "Service, commitments, volunteering, democracy"), body))

    # -- 9 funding
    allocs = list(FundingAllocation.select(FundingAllocation.date, FundingAllocation.source, FundingAllocation.amount)
                  .where(FundingAllocation.community == ref.id, FundingAllocation.year == y)
                  .order_by(FundingAllocation.date).tuples())
    spend = list(Expenditure.select(Expenditure.date, Expenditure.purpose, Expenditure.amount)
                 .where(Expenditure.community == ref.id, Expenditure.date >= ctx.year_start, Expenditure.date <= as_of)
                 .order_by(Expenditure.date).tuples())
    tin = sum((Decimal(str(a[2])) for a in allocs), Decimal(0))
    tout = sum((Decimal(str(s[2])) for s in spend), Decimal(0))
    sections.append(("funding", tr("经费划拨与使用", "Funding and spending"),
                     html_table([tr("日期", "date"), tr("来源", "source"), tr("金额（元）", "amount (yuan)")],
                                [[a[0], _lab(enums.FUNDING_SOURCE, a[1]), _money(a[2])] for a in allocs])
                     + html_table([tr("日期", "date"), tr("用途", "purpose"), tr("金额（元）", "amount (yuan)")],
                                  [[s[0], s[1], _money(s[2])] for s in spend])
                     + f"<p>{esc(tr('收入合计 {i} 元，支出合计 {o} 元，结余 {b} 元。', 'received {i}, spent {o}, balance {b} yuan.', i=format_money(tin), o=format_money(tout), b=format_money(tin - tout)))}</p>"))

    # -- 10 findings by clause
    try:
        findings = ctx.findings()
        note = ""
    except UserError as exc:
        findings, note = [], str(exc)
    by_clause: dict = {}
    for f in findings:
        by_clause.setdefault(f.clause or 0, []).append(f)
    parts = [f"<p class=\"muted\">{esc(note)}</p>"] if note else []
    status_lab = {c: enums.FINDING_STATUS.label(c, get_lang()) for c in enums.FINDING_STATUS.codes}
    for clause in sorted(by_clause):
        fs = by_clause[clause]
        counts: dict = {}
        for f in fs:
            counts[f.status] = counts.get(f.status, 0) + 1
        summary = "，".join(f"{status_lab.get(s, s)} {format_count(n)}" for s, n in sorted(counts.items()))
        parts.append(f"<h3>{esc(tr('第{n}条', 'Clause {n}', n=clause))}（{esc(summary)}）</h3>")
        shown = sorted(fs, key=lambda f: ({"error": 0, "fail": 1, "warn": 2, "info": 3, "pass": 4}.get(f.status, 5),
                                          f.rule, f.subject))
        parts.append(html_table([tr("规则", "rule"), tr("结论", "status"), tr("对象", "subject"), tr("说明", "message")],
                                [[f.rule, status_lab.get(f.status, f.status), _subject(ctx, f.subject),
                                  ctx.view.mask_text(f.message)] for f in shown],
                                classes=[f.status for f in shown]))
    sections.append(("findings", tr("检查结论（按条款）", "Findings by clause"), "".join(parts) or html_table([], [])))

    title = tr("{c} {y} 年度党建工作台账", "{c}: annual Party-building ledger {y}", c=ref.name, y=y)
    head = (f"<h1>{esc(title)}</h1><p>{esc(tr('区镇', 'Town'))}：{esc(ref.town)}　"
            + (f"{esc(tr('街道', 'Street'))}：{esc(street.name)}　" if street else "")
            + f"{esc(tr('社区编码', 'Community code'))}：{esc(ref.code)}　{esc(tr('截至', 'As of'))}：{esc(as_of)}</p>"
            + f"<p class=\"muted\">{esc(tr('依据昆组字〔2011〕23号第21条：建立党建工作电子台账制度。本册由电子台账生成。', 'Clause 21 of 昆组字〔2011〕23号: the electronic ledger replaces the paper ledgers. Generated from the electronic ledger.'))}</p>")
    nav = "<nav><h2>" + esc(tr("目录", "Contents")) + "</h2><ol>" + "".join(
        f"<li><a href=\"#{a}\">{esc(t)}</a></li>" for a, t, _ in sections) + "</ol></nav>"
    body = "".join(f"<section id=\"{a}\"><h2>{i}. {esc(t)}</h2>{h}</section>"
                   for i, (a, t, h) in enumerate(sections, start=1))
    return html_doc(title, head + nav + body)


def _subject(ctx, subject: str) -> str:
    """A finding's subject as this user may see it (findings hold full ID numbers)."""
    return ctx.view.mask_text(subject)


REPORTS = [
    Report("training", "社区工作者培训台账", "community worker training ledger", run_training),
    Report("dues", "党费欠缴与测算", "dues arrears and proposed amounts", run_dues),
    Report("orglife", "三会一课日历", "three meetings and one lesson calendar", run_orglife),
    Report("points", "党员积分", "member points", run_points),
    Report("scores", "先锋社区评分与分类", "community scores and classes", run_scores),
    Report("roster", "社区工作者花名册", "community worker roster", run_roster),
    Report("town-summary", "区镇汇总（领导班子考核）", "town summary (leaders' assessment)", run_town_summary),
    Report("funding-notice", "经费公示", "funding notice", run_funding_notice, formats=("html",)),
    Report("ledger", "年度党建工作台账", "annual Party-building ledger", run_ledger, formats=("html",)),
]


@hookimpl
def dangjian_register_reports(register):
    for r in REPORTS:
        register(r)
