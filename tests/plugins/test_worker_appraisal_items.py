"""``worker-appraisal`` is an ItemScorer: the same results, item for item, as the scorer it
replaced, written out by hand below (``_by_hand``, as it was), over the small demo city at
several as-of dates, in both languages, and with a town whose demand deadline and training
requirement differ from the city's (the label quotes the town's deadline)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from peewee import fn

from core import DutyReport, Scorer, Training, Visit, scope_worker_ids, to_decimal, tr, workers_in_post


def _capped(points: Decimal, cap) -> Decimal:
    if cap is None or cap == "":
        return points
    cap = to_decimal(cap)
    return min(points, cap) if points >= 0 else max(points, -abs(cap))


def _by_hand(ctx):
    """绩效考核 of each community worker in post: training (第7条), certificate,
    secretary's filing and dual report (第8条), visits kept as staff, demands
    answered late as staff (第11条)."""
    workers = workers_in_post(ctx.community_ids, ctx.as_of)
    if not workers:
        return
    wids = scope_worker_ids(ctx)
    tr_rows = (Training.select(Training.worker, Training.level, fn.COUNT(Training.id), fn.SUM(Training.days))
               .where(Training.worker.in_(wids), Training.start_date >= ctx.year_start,
                      Training.start_date <= ctx.as_of)
               .group_by(Training.worker, Training.level).tuples())
    trainings: dict = {}
    for wid, level, n, days in tr_rows:
        trainings.setdefault(wid, {})[level] = (n, to_decimal(days or 0))
    reports: dict = {}
    for wid, n in (DutyReport.select(DutyReport.worker, fn.COUNT(fn.DISTINCT(DutyReport.audience)))
                   .where(DutyReport.worker.in_(wids), DutyReport.year == ctx.year,
                          DutyReport.date <= ctx.as_of)
                   .group_by(DutyReport.worker).tuples()):
        reports[wid] = n
    visits: dict = {}
    vrows = (Visit.select(Visit.staff, Visit.kind, Visit.date, Visit.demand, Visit.answered_date, Visit.closed_date,
                          Visit.refused_reason)
             .where(Visit.staff.in_(wids), Visit.date >= ctx.year_start, Visit.date <= ctx.as_of).tuples())
    demands_of: dict = {}
    for wid, kind, date, demand, answered, closed, refused in vrows:
        if kind in ("reception", "home_visit"):
            visits[wid] = visits.get(wid, 0) + 1
        if demand and not refused:
            demands_of.setdefault(wid, []).append((date, answered, closed))
    for w in workers:
        ref = ctx.community(w.community_id)
        p = ctx.params(ref.town)
        items = [ctx.item("base", tr("基础分", "base points"), p["base"])]
        t = trainings.get(w.id, {})
        n_all = sum(v[0] for v in t.values())
        days = sum((v[1] for v in t.values()), Decimal(0))
        if days:
            pts = _capped(days * to_decimal(p["per_training_day"]), p.get("max_training_points"))
            items.append(ctx.item("training_days", tr("培训 {d} 天", "{d} training days", d=format(days.normalize(), "f")),
                                  pts, float(days)))
        rule_id = "train.leader" if w.is_leader else "train.staff"
        rp = ctx.rule_params(rule_id, ref.town)
        if w.is_leader:
            met = t.get("city", (0, 0))[0] >= int(rp["min_city_trainings"]) and days >= to_decimal(rp["min_days"])
        else:
            met = n_all >= int(rp["min_trainings"]) and days >= to_decimal(rp["min_days"])
        if met:
            items.append(ctx.item("training_met", tr("培训达到第7条要求", "training requirement of clause 7 met"),
                                  p["training_requirement_met"]))
        if w.certificate and w.certificate != "none" and (w.certificate_date is None or w.certificate_date <= ctx.as_of):
            items.append(ctx.item("certificate", tr("持有社会工作者职业水平证书", "holds a social-worker certificate"),
                                  p["certificate"]))
        if w.is_secretary:
            if w.filing_date and w.filing_date <= ctx.as_of:
                items.append(ctx.item("secretary_filed", tr("书记已备案", "secretary filed"), p["secretary_filed"]))
            n = reports.get(w.id, 0)
            if n:
                items.append(ctx.item("dual_report", tr("述职 {n} 次（双述职）", "{n} reports given (dual report)", n=n),
                                      to_decimal(p["per_duty_report"]) * n, n))
        n = visits.get(w.id, 0)
        if n:
            per = to_decimal(p["visits_per_point"])
            pts = _capped(Decimal(n) / per if per else Decimal(0), p.get("max_visit_points"))
            items.append(ctx.item("visits", tr("接待走访 {n} 次", "{n} receptions and visits", n=n), pts, n))
        max_days = int(ctx.rule_params("service.demand_response", ref.town)["max_days"])
        n_late = 0
        for date, answered, closed in demands_of.get(w.id, []):
            done = min([d for d in (answered, closed) if d is not None], default=None)
            if (done is not None and (done - date).days > max_days) or \
                    (done is None and (ctx.as_of - date).days > max_days):
                n_late += 1
        if n_late:
            items.append(ctx.item("demands_late", tr("诉求超过 {d} 天未答复 {n} 件", "{n} demands not answered within {d} days",
                                                     d=max_days, n=n_late),
                                  to_decimal(p["per_demand_late"]) * n_late, n_late))
        yield ctx.result(w.id_number, items, community=ref, name=w.name)


TOWN_CONFIG = '''
[towns."玉山镇".params."service.demand_response"]
max_days = 5

[towns."玉山镇".params."train.staff"]
min_days = 2
min_trainings = 1
'''


@pytest.fixture
def demo_city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-30")
    from core import demo

    demo.build()


def _both(monkeypatch, as_of):
    """(ItemScorer results, hand-written results) as plain tuples."""
    import datetime as dt

    from core import plugins
    from core.scoring import run_scorer

    def plain(results):
        return [(r.subject, r.points, r.items, r.community, r.town, r.name) for r in results]

    reg = plugins.get().registry
    item_scorer = reg.scorers["worker-appraisal"]
    assert type(item_scorer).__name__ == "ItemScorer"
    got = plain(run_scorer("worker-appraisal", as_of=dt.date.fromisoformat(as_of)))
    hand = Scorer("worker-appraisal", "社区工作者绩效考核", "community worker appraisal", _by_hand, subjects="worker")
    hand.plugin = item_scorer.plugin
    monkeypatch.setitem(reg.scorers, "worker-appraisal", hand)
    want = plain(run_scorer("worker-appraisal", as_of=dt.date.fromisoformat(as_of)))
    monkeypatch.setitem(reg.scorers, "worker-appraisal", item_scorer)
    return got, want


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("as_of", ["2025-03-31", "2025-12-31", "2026-06-30"])
def test_the_item_scorer_gives_what_the_hand_written_one_gave(demo_city, monkeypatch, as_of, lang):
    from core import i18n

    i18n.set_lang(lang)
    got, want = _both(monkeypatch, as_of)
    assert got == want
    codes = {i["code"] for r in got for i in r[2]}
    assert {"base", "visits", "certificate", "secretary_filed", "demands_late"} <= codes
    if as_of == "2025-12-31":  # every item of the scheme occurs in the demo that year
        assert codes == {"base", "training_days", "training_met", "certificate", "secretary_filed",
                         "dual_report", "visits", "demands_late"}


def test_a_towns_own_deadline_and_training_requirement(demo_city, monkeypatch, tmp_path):
    from core import config, plugins

    cfg = tmp_path / "town.toml"
    cfg.write_text(TOWN_CONFIG, encoding="utf-8")
    config.load(str(cfg))
    plugins.reset()
    got, want = _both(monkeypatch, "2026-06-30")
    assert got == want
    labels = [i["label"] for r in got for i in r[2] if i["code"] == "demands_late"]
    assert labels and all("超过 5 天" in label for label in labels)
    # 2 days and one training meet 玉山镇's own requirement by mid-year; the city's (5 days) would not
    assert any(i["code"] == "training_met" for r in got for i in r[2])
