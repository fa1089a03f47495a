"""Built-in rules of clauses 6–9 (第6–9条): community workers (社区工作者).

Workers "in post" and the posts they hold are those at the as-of date
(``core.rules.workers_in_post``), so a past year's check uses the posts held
then.  Each rule reads the whole scope in one or two queries.

- 第6条 ``worker.college_graduate``, ``worker.backup_pool``,
  ``worker.age_structure`` (info), ``worker.one_shoulder`` (info)
- 第7条 ``train.leader``, ``train.staff``, ``train.degree_encouraged``,
  ``train.secretary_quals_trend``
- 第8条 ``worker.certificate``, ``worker.secretary_filed``, ``worker.dual_report``
- 第9条 ``pay.secretary_floor``
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from core import format_money, hookimpl, Rule, tr


def _workers(ctx, on=None):
    from core import workers_in_post

    return workers_in_post(ctx.community_ids, on or ctx.as_of) if ctx.communities else []


def _by_community(workers):
    out = defaultdict(list)
    for w in workers:
        out[w.community_id].append(w)
    return out


def _pct(fr: Fraction) -> str:
    return f"{float(fr) * 100:.1f}%"


def _posts_label(posts, lang):
    from core import enums

    return ("、" if lang == "zh" else ", ").join(enums.POST.label(p, lang) for p in sorted(posts)) or tr("无职务", "no post")


# ------------------------------------------------------------------ 第6条

def _flag_count_rule(flag: str, zh_ok: str, en_ok: str, zh_bad: str, en_bad: str):
    def evaluate(ctx):
        by_c = _by_community(_workers(ctx))
        for c in ctx.communities:
            need = ctx.params(c.town)["min_count"]
            having = [w for w in by_c.get(c.id, []) if getattr(w, flag)]
            ev = {"count": len(having), "required": need, "worker_ids": [w.id for w in having],
                  "workers_in_post": len(by_c.get(c.id, []))}
            if len(having) >= need:
                yield ctx.finding(c.code, "pass", tr(zh_ok, en_ok, n=len(having)), ev, community=c)
            else:
                yield ctx.finding(c.code, "fail", tr(zh_bad, en_bad, n=len(having), k=need), ev, community=c)
    return evaluate


_college_graduate = _flag_count_rule(
    "college_graduate", "在岗大学生社区工作者{n}名", "{n} college-graduate worker(s) in post",
    "在岗大学生社区工作者{n}名，至少需要{k}名（一社区一名大学生）",
    "{n} college-graduate worker(s) in post; at least {k} needed (one graduate per community)")
_backup_pool = _flag_count_rule(
    "backup_talent", "后备人才{n}名", "{n} backup-talent person(s)",
    "后备人才{n}名，至少需要{k}名", "{n} backup-talent person(s); at least {k} needed")


def _age_structure(ctx):
    by_c = _by_community(_workers(ctx))
    for c in ctx.communities:
        lo, hi = ctx.params(c.town)["age_range"]
        ages = [a for a in (w.age_on(ctx.as_of) for w in by_c.get(c.id, [])) if a is not None]
        if not ages:
            yield ctx.finding(c.code, "info", tr("无在岗社区工作者", "no workers in post"),
                              {"workers": 0, "age_range": [lo, hi]}, community=c)
            continue
        mean = Fraction(sum(ages), len(ages))
        inside = sum(1 for a in ages if lo <= a <= hi)
        share = Fraction(inside, len(ages))
        yield ctx.finding(c.code, "info", tr("在岗{n}人，平均年龄{m:.1f}岁，{lo}–{hi}岁占{s}",
                                             "{n} in post, mean age {m:.1f}, aged {lo}–{hi}: {s}",
                                             n=len(ages), m=float(mean), lo=lo, hi=hi, s=_pct(share)),
                          {"workers": len(ages), "mean_age": round(float(mean), 2), "in_range": inside,
                           "share": f"{share.numerator}/{share.denominator}", "age_range": [lo, hi]}, community=c)


def _one_shoulder(ctx):
    by_c = _by_community(_workers(ctx))
    for c in ctx.communities:
        ws = by_c.get(c.id, [])
        secs = [w.id for w in ws if "secretary" in w.posts]
        dirs = [w.id for w in ws if "director" in w.posts]
        both = sorted(set(secs) & set(dirs))
        ev = {"secretary_ids": secs, "director_ids": dirs, "one_shoulder": bool(both)}
        if both:
            msg = tr("书记兼居委会主任（一肩挑）", "the secretary is also the committee director (one shoulder)")
        elif not secs:
            msg = tr("无在岗书记", "no secretary in post")
        else:
            msg = tr("书记与居委会主任分设", "secretary and director are different people")
        yield ctx.finding(c.code, "info", msg, ev, community=c)


# ------------------------------------------------------------------ 第7条

def _trainings(ctx, worker_ids):
    """{worker id: [(training id, level, days, start)]} in the year up to the as-of date (one query)."""
    from core import Training, Worker

    out = defaultdict(list)
    if not worker_ids:
        return out
    q = (Training.select(Training.id, Training.worker, Training.level, Training.days, Training.start_date)
         .join(Worker, on=(Training.worker == Worker.id))
         .where(Worker.community.in_(ctx.community_ids), Training.start_date >= ctx.year_start,
                Training.start_date <= ctx.as_of))
    wanted = set(worker_ids)
    for tid, wid, level, days, start in q.tuples():
        if wid in wanted:
            out[wid].append((tid, level, Decimal(days), start))
    return out


def _training_rule(leaders: bool):
    def evaluate(ctx):
        from core import yearly_status

        ws = [w for w in _workers(ctx) if w.is_leader == leaders]
        tr_by_w = _trainings(ctx, [w.id for w in ws])
        for w in ws:
            c = ctx.community(w.community_id)
            p = ctx.params(c.town)
            items = tr_by_w.get(w.id, [])
            days = sum((d for _, _, d, _ in items), Decimal(0))
            if leaders:
                need_n = p["min_city_trainings"]
                n = sum(1 for _, lvl, _, _ in items if lvl == "city")
            else:
                need_n = p["min_trainings"]
                n = sum(1 for _, lvl, _, _ in items if lvl in ("city", "town", "street"))
            need_days = Decimal(str(p["min_days"]))
            ev = {"worker_id": w.id, "posts": sorted(w.posts), "trainings": n, "required_trainings": need_n,
                  "days": str(days.normalize()) if days else "0", "required_days": p["min_days"],
                  "training_ids": sorted(t[0] for t in items), "year": ctx.year}
            ok = n >= need_n and days >= need_days
            who = _posts_label(w.posts, ctx.lang)
            if ok:
                yield ctx.finding(w.id_number, "pass",
                                  tr("{who}：本年培训{n}次、{d}天", "{who}: {n} training(s), {d} day(s) this year",
                                     who=who, n=n, d=ev["days"]), ev, community=c)
                continue
            lack = []
            if n < need_n:
                lack.append(tr("市级及以上培训{n}次，至少{k}次", "{n} city-level training(s), at least {k} needed",
                               n=n, k=need_n) if leaders else
                            tr("集中培训{n}次，至少{k}次", "{n} training(s), at least {k} needed", n=n, k=need_n))
            if days < need_days:
                lack.append(tr("培训{d}天，不少于{k}天", "{d} training day(s), at least {k} needed",
                               d=ev["days"], k=p["min_days"]))
            status = yearly_status(ctx)
            sep = "；" if ctx.lang == "zh" else "; "
            due = "" if status == "fail" else tr("（12-31前完成）", " (due by 12-31)")
            colon = "：" if ctx.lang == "zh" else ": "
            yield ctx.finding(w.id_number, status, who + colon + sep.join(lack) + due, ev, community=c)
    return evaluate


def _degree_encouraged(ctx):
    from core import enums

    for w in _workers(ctx):
        c = ctx.community(w.community_id)
        p = ctx.params(c.town)
        target = p["target_education"]
        age = w.age_on(ctx.as_of)
        ev = {"worker_id": w.id, "age": age, "education": w.education, "max_age": p["max_age"],
              "target_education": target}
        subject = w.id_number
        if age is None or age > p["max_age"]:
            yield ctx.finding(subject, "pass", tr("{a}岁，不在鼓励范围（{k}岁以下）", "aged {a}: outside the "
                                                  "encouraged group ({k} or younger)", a=age, k=p["max_age"]),
                              ev, community=c)
        elif w.education is not None and enums.EDUCATION_RANK.get(w.education, -1) >= enums.EDUCATION_RANK[target]:
            yield ctx.finding(subject, "pass", tr("{a}岁，学历{e}", "aged {a}, education {e}", a=age,
                                                  e=enums.EDUCATION.label(w.education, ctx.lang)), ev, community=c)
        else:
            edu = enums.EDUCATION.label(w.education, ctx.lang) if w.education else tr("未登记", "not recorded")
            yield ctx.finding(subject, "warn", tr("{a}岁，学历{e}：鼓励参加{t}及以上学历教育",
                                                  "aged {a}, education {e}: encouraged to study for a {t} degree "
                                                  "or higher", a=age, e=edu, t=enums.EDUCATION.label(target, ctx.lang)),
                              ev, community=c)


def _secretary_shares(secretaries, on, min_rank):
    from core import enums

    n = len(secretaries)
    edu = sum(1 for w in secretaries if w.education and enums.EDUCATION_RANK.get(w.education, -1) >= min_rank)
    cert = sum(1 for w in secretaries if w.certificate not in (None, "none")
               and w.certificate_date is not None and w.certificate_date <= on)
    return n, edu, cert


def _secretary_quals_trend(ctx):
    from core import enums

    prev_on = dt.date(ctx.year - 1, 12, 31)
    now = [w for w in _workers(ctx) if w.is_secretary]
    before = [w for w in _workers(ctx, prev_on) if w.is_secretary]
    groups = [(t, {c.id for c in ctx.communities if c.town == t}) for t in ctx.towns]
    if ctx.covers_city:
        groups.append((None, {c.id for c in ctx.communities}))
    for town, cids in groups:
        p = ctx.params(town)
        min_rank = enums.EDUCATION_RANK[p["min_education"]]
        n1, e1, c1 = _secretary_shares([w for w in now if w.community_id in cids], ctx.as_of, min_rank)
        n0, e0, c0 = _secretary_shares([w for w in before if w.community_id in cids], prev_on, min_rank)

        def share(k, n):
            return Fraction(k, n) if n else None
        se1, sc1, se0, sc0 = share(e1, n1), share(c1, n1), share(e0, n0), share(c0, n0)
        ev = {"as_of": ctx.as_of.isoformat(), "previous_as_of": prev_on.isoformat(),
              "secretaries": n1, "with_education": e1, "with_certificate": c1,
              "previous_secretaries": n0, "previous_with_education": e0, "previous_with_certificate": c0}
        subject = town or "city"
        if n1 == 0:
            yield ctx.finding(subject, "pass", tr("无在岗书记", "no secretaries in post"), ev, town=town)
            continue

        def improved(s_now, s_prev):
            return s_now == 1 or s_prev is None and s_now > 0 or s_prev is not None and s_now > s_prev
        ok_e, ok_c = improved(se1, se0), improved(sc1, sc0)
        text = tr("书记{n}人：大专以上{pe}（上年{qe}），持证{pc}（上年{qc}）",
                  "{n} secretaries: college or higher {pe} (last year {qe}), certified {pc} (last year {qc})",
                  n=n1, pe=_pct(se1), qe=_pct(se0) if se0 is not None else "-", pc=_pct(sc1),
                  qc=_pct(sc0) if sc0 is not None else "-")
        if ok_e and ok_c:
            yield ctx.finding(subject, "pass", text, ev, town=town)
        else:
            yield ctx.finding(subject, "warn", text + tr("；比例未逐年提高", "; the shares did not rise"), ev,
                              town=town)


# ------------------------------------------------------------------ 第8条

def _certificate(ctx):
    from core import enums

    for w in _workers(ctx):
        c = ctx.community(w.community_id)
        p = ctx.params(c.town)
        age = w.age_on(ctx.as_of)
        ev = {"worker_id": w.id, "age": age, "max_age": p["max_age"], "from_year": p["from_year"],
              "certificate": w.certificate,
              "certificate_date": w.certificate_date.isoformat() if w.certificate_date else None}
        subject = w.id_number
        if ctx.year < p["from_year"]:
            yield ctx.finding(subject, "pass", tr("{y}年起要求持证，本年免", "required from {y}; exempt this year",
                                                  y=p["from_year"]), ev, community=c)
        elif age is not None and age > p["max_age"]:
            yield ctx.finding(subject, "pass", tr("{a}岁，超过{k}岁，免于持证要求",
                                                  "aged {a}, over {k}: exempt", a=age, k=p["max_age"]),
                              ev, community=c)
        elif w.certificate not in (None, "none") and w.certificate_date and w.certificate_date <= ctx.as_of:
            yield ctx.finding(subject, "pass", tr("持{l}（{d}）", "holds {l} ({d})",
                                                  l=enums.CERTIFICATE.label(w.certificate, ctx.lang),
                                                  d=w.certificate_date.isoformat()), ev, community=c)
        elif w.certificate not in (None, "none") and w.certificate_date is None:
            yield ctx.finding(subject, "fail", tr("{a}岁，证书未登记取证日期", "aged {a}: the certificate has "
                                                  "no date recorded", a=age), ev, community=c)
        else:
            yield ctx.finding(subject, "fail", tr("{a}岁，{k}岁以下须持社会工作者职业水平证书",
                                                  "aged {a}: workers aged {k} or younger must hold a social-worker "
                                                  "certificate", a=age, k=p["max_age"]), ev, community=c)


def _secretaries(ctx):
    return [w for w in _workers(ctx) if w.is_secretary]


def _secretary_filed(ctx):
    for w in _secretaries(ctx):
        c = ctx.community(w.community_id)
        ev = {"worker_id": w.id, "filing_date": w.filing_date.isoformat() if w.filing_date else None}
        if w.filing_date and w.filing_date <= ctx.as_of:
            yield ctx.finding(w.id_number, "pass", tr("{d}备案", "filed on {d}",
                                                                   d=w.filing_date.isoformat()), ev, community=c)
        else:
            yield ctx.finding(w.id_number, "fail", tr("书记未备案", "the secretary is not filed"),
                              ev, community=c)


def _dual_report(ctx):
    from core import DutyReport, enums, Worker, yearly_status

    secs = _secretaries(ctx)
    given = defaultdict(dict)
    if secs:
        q = (DutyReport.select(DutyReport.id, DutyReport.worker, DutyReport.audience, DutyReport.date)
             .join(Worker, on=(DutyReport.worker == Worker.id))
             .where(Worker.community.in_(ctx.community_ids), DutyReport.year == ctx.year,
                    DutyReport.date <= ctx.as_of))
        for rid, wid, aud, d in q.tuples():
            given[wid][aud] = (rid, d)
    for w in secs:
        c = ctx.community(w.community_id)
        have = given.get(w.id, {})
        missing = [a for a in ("street_committee", "members_public") if a not in have]
        ev = {"worker_id": w.id, "year": ctx.year,
              "reports": {a: {"id": r, "date": d.isoformat()} for a, (r, d) in have.items()},
              "missing": missing}
        if not missing:
            yield ctx.finding(w.id_number, "pass", tr("已向街道党工委和党员群众双述职",
                                                                   "reported to both the street committee and "
                                                                   "the members"), ev, community=c)
        else:
            status = yearly_status(ctx)
            labels = ("、" if ctx.lang == "zh" else " and ").join(enums.REPORT_AUDIENCE.label(a, ctx.lang) for a in missing)
            due = "" if status == "fail" else tr("（12-31前完成）", " (due by 12-31)")
            yield ctx.finding(w.id_number, status,
                              tr("{y}年未向{m}述职", "no {y} report to {m}", y=ctx.year, m=labels) + due,
                              ev, community=c)


# ------------------------------------------------------------------ 第9条

def _pay_floor(ctx):
    from core import UrbanWage, Worker, WorkerPay

    secs = _secretaries(ctx)
    if not secs:
        return
    wage_year = ctx.year - 1
    wage = UrbanWage.get_or_none(UrbanWage.year == wage_year)
    pay = {wid: (pid, amt) for pid, wid, amt in
           WorkerPay.select(WorkerPay.id, WorkerPay.worker, WorkerPay.base_pay)
           .join(Worker, on=(WorkerPay.worker == Worker.id))
           .where(WorkerPay.year == ctx.year, Worker.community.in_(ctx.community_ids)).tuples()}
    for w in secs:
        c = ctx.community(w.community_id)
        subject = w.id_number
        multiple = ctx.params(c.town)["multiple"]
        ev = {"worker_id": w.id, "year": ctx.year, "wage_year": wage_year, "multiple": multiple}
        if wage is None:
            yield ctx.finding(subject, "error", tr("缺少{y}年城镇职工平均工资，无法判断（请导入 wages）",
                                                   "the urban average wage for {y} is missing: cannot decide "
                                                   "(import wages)", y=wage_year), ev, community=c)
            continue
        floor = Fraction(str(multiple)) * Fraction(Decimal(wage.amount))
        floor_yuan = Decimal(floor.numerator) / Decimal(floor.denominator)
        ev.update(wage=str(Decimal(str(wage.amount)).quantize(Decimal("0.01"))), floor=str(floor_yuan.quantize(Decimal("0.01"))), wage_id=wage.id)
        if w.id not in pay:
            yield ctx.finding(subject, "fail", tr("缺少{y}年基本报酬数据", "no base pay recorded for {y}",
                                                  y=ctx.year), ev, community=c)
            continue
        pid, amount = pay[w.id]
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
        ev.update(base_pay=str(amount), pay_id=pid)
        if Fraction(Decimal(amount)) >= floor:
            yield ctx.finding(subject, "pass", tr("基本报酬{p}元，不低于{m}倍上年平均工资{f}元",
                                                  "base pay {p} yuan, at least {m} × last year's average wage = "
                                                  "{f}", p=format_money(amount), m=multiple, f=format_money(floor_yuan)), ev, community=c)
        else:
            yield ctx.finding(subject, "fail", tr("基本报酬{p}元，低于{m}倍上年平均工资{f}元",
                                                  "base pay {p} yuan, below {m} × last year's average wage = "
                                                  "{f}", p=format_money(amount), m=multiple, f=format_money(floor_yuan)), ev, community=c)


def _rule(id, clause, zh, en, fn, subjects, params, dzh, den):
    return Rule(id=id, clause=clause, title_zh=zh, title_en=en, evaluate=fn, subjects=subjects, params=params,
                description_zh=dzh, description_en=den)


RULES = [
    _rule("worker.college_graduate", 6, "一社区一名大学生", "a college graduate in each community",
          _college_graduate, "community", {"min_count": 1},
          "在岗社区工作者中至少 min_count 名大学生（一社区一名大学生）。",
          "at least min_count worker in post with the college-graduate flag."),
    _rule("worker.backup_pool", 6, "社区后备人才库", "backup talent pool", _backup_pool, "community",
          {"min_count": 1}, "至少 min_count 名后备人才。", "at least min_count backup-talent person."),
    _rule("worker.age_structure", 6, "社区工作者年龄结构", "age structure of workers", _age_structure, "community",
          {"age_range": [35, 45]}, "信息：在岗社区工作者平均年龄及 age_range 岁（含）所占比例。",
          "info: mean age of workers in post and the share aged within age_range (inclusive)."),
    _rule("worker.one_shoulder", 6, "书记主任一肩挑", "secretary also director (one shoulder)", _one_shoulder,
          "community", {}, "信息：书记是否兼任居委会主任。", "info: whether the secretary is also the director."),
    _rule("train.leader", 7, "书记主任年度培训", "training of secretaries and directors", _training_rule(True),
          "worker", {"min_city_trainings": 1, "min_days": 7},
          "书记、主任本年至少 min_city_trainings 次市级及以上培训，各级培训累计不少于 min_days 天；年内未完成为提醒，年末未完成为不符合。",
          "secretaries and directors: at least min_city_trainings city-level training and min_days days of "
          "training in the year; unmet before 31 December is a warning, after it a failure."),
    _rule("train.staff", 7, "其他社区工作者年度培训", "training of other workers", _training_rule(False), "worker",
          {"min_trainings": 1, "min_days": 5},
          "其他在岗社区工作者本年至少 min_trainings 次区镇、街道或市级培训，累计不少于 min_days 天。",
          "other workers: at least min_trainings training (town, street or city) and min_days days in the year."),
    _rule("train.degree_encouraged", 7, "鼓励学历教育", "degree study encouraged", _degree_encouraged, "worker",
          {"max_age": 40, "target_education": "bachelor"},
          "max_age 岁以下（含）且学历低于 target_education 的为提醒，其余通过。",
          "a worker aged max_age or younger with education below target_education is a warning; others pass."),
    _rule("train.secretary_quals_trend", 7, "书记学历与持证比例逐年提高", "secretaries' qualifications rise",
          _secretary_quals_trend, "town", {"min_education": "college"},
          "每个区镇及全市：在岗书记中 min_education 及以上学历比例、持证比例均较上年 12 月 31 日（不是上年同一日）提高，"
          "或已达100%；学历视为不变，证书按取证日期计。",
          "per town and for the city: the shares of secretaries with min_education or higher and with a "
          "certificate each rose against 31 December of the previous year (not the same day of the previous "
          "year), or are already 100 %; education is taken as constant, certificates by their date."),
    _rule("worker.certificate", 8, "社会工作者职业水平证书", "social-worker certificate", _certificate, "worker",
          {"from_year": 2015, "max_age": 45},
          "from_year 年起，max_age 岁以下（含，按截止日周岁）的社区工作者须持有截止日前取得的证书；年龄更大者免。",
          "from from_year on, a worker aged max_age or younger on the as-of date holds a certificate dated on or "
          "before it; older workers are exempt."),
    _rule("worker.secretary_filed", 8, "书记备案", "secretary filed", _secretary_filed, "worker", {},
          "在岗书记有备案日期。", "a secretary in post has a filing date."),
    _rule("worker.dual_report", 8, "书记双述职", "secretary's dual report", _dual_report, "worker", {},
          "在岗书记本年向街道党工委和党员群众各述职一次；年内未完成为提醒。",
          "a secretary in post reported in the year to the street committee and to the members; unmet before "
          "31 December is a warning."),
    _rule("pay.secretary_floor", 9, "书记基本报酬", "secretary's base pay", _pay_floor, "worker",
          {"multiple": 1.2},
          "书记本年基本报酬不低于上年度城镇职工平均工资的 multiple 倍；缺少上年工资数据为错误，缺少报酬数据为不符合。",
          "the secretary's base pay for the year is at least multiple × the previous year's urban average wage; "
          "a missing wage figure is an error, missing pay a failure."),
]


@hookimpl
def dangjian_register_rules(register):
    for rule in RULES:
        register(rule)
