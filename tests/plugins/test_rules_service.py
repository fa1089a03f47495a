"""service.* rules of clause 11, on both sides of each threshold."""
from __future__ import annotations

import datetime as dt

import pytest

from core.rules import CommunityRef, Context, weeks_ended
from plugins import rules_service as rs
from tests import factories as f


def _run(rule_id, communities, as_of, year=None):
    rule = next(r for r in rs.RULES if r.id == rule_id)
    refs = [CommunityRef(c.id, c.code, c.name, c.town.name, c.town_id) for c in communities]
    as_of = f.D(as_of)
    ctx = Context(rule=rule, year=year or as_of.year, as_of=as_of, communities=refs)
    return {x.subject: x for x in rule.evaluate(ctx)}


@pytest.fixture
def two(dangjian_db):
    a = f.make_community("KS001")
    b = f.make_community("KS002")
    return a, b, f.make_org(a, "branch"), f.make_org(b, "branch")


def test_opinion_meetings_quarter_missing(two):
    a, b, oa, ob = two
    for d in ("2026-02-01", "2026-05-01", "2026-08-01"):
        f.make_meeting(oa, "opinion", d)
    f.make_meeting(ob, "opinion", "2026-02-01")
    f.make_meeting(ob, "assembly", "2026-05-01")  # not an opinion forum
    out = _run("service.opinion_meetings", [a, b], "2026-09-30")
    assert out["KS001"].status == "pass"
    assert out["KS002"].status == "fail" and out["KS002"].evidence["quarters_missed"] == ["2026Q2", "2026Q3"]
    # before Q2 ends, KS002 is fine
    assert _run("service.opinion_meetings", [b], "2026-06-29")["KS002"].status == "pass"
    assert _run("service.opinion_meetings", [b], "2026-06-30")["KS002"].status == "fail"
    # a whole year: 4 quarters, KS001 lacks Q4
    out = _run("service.opinion_meetings", [a], "2026-12-31")
    assert out["KS001"].status == "fail" and out["KS001"].evidence["quarters_missed"] == ["2026Q4"]


def _weeks(as_of):
    return weeks_ended(2026, f.D(as_of))


def test_reception_weekly_90_percent(two):
    a, b, *_ = two
    as_of = "2026-10-04"  # Sunday: 2026 starts Thursday; first full-in-year Sunday 01-04
    weeks = _weeks(as_of)
    assert len(weeks) == 40
    sec = f.make_worker(a, posts=("secretary",), post_start="2020-01-01")
    staff = f.make_worker(a, posts=("other",))
    # KS001: 36 of 40 weeks = 90 % exactly → pass; KS002: 35 of 40 → fail
    for i, w in enumerate(weeks[:36]):
        f.make_visit(a, "reception", w.start + dt.timedelta(days=2), staff=sec if i % 2 else staff)
    for w in weeks[:35]:
        f.make_visit(b, "reception", w.start)
    out = _run("service.reception_weekly", [a, b], as_of)
    assert out["KS001"].status == "pass", out["KS001"].message
    assert out["KS001"].evidence["weeks_held"] == 36
    assert out["KS001"].evidence["weeks_missed"] == [w.label for w in weeks[36:]]
    assert len(out["KS001"].evidence["weeks_not_by_secretary"]) == 18
    assert out["KS002"].status == "fail" and out["KS002"].evidence["weeks_held"] == 35
    assert out["KS002"].evidence["weeks_not_by_secretary_count"] == 35


def test_reception_by_former_secretary_not_counted_as_secretary(two):
    a, *_ = two
    former = f.make_worker(a, posts=("secretary",), post_start="2020-01-01", post_end="2026-01-31")
    weeks = _weeks("2026-02-15")
    for w in weeks:
        f.make_visit(a, "reception", w.start, staff=former)
    ev = _run("service.reception_weekly", [a], "2026-02-15")["KS001"].evidence
    assert ev["weeks_not_by_secretary"] == [w.label for w in weeks if w.start > f.D("2026-01-31")]


def test_visit_weekly_threshold(two):
    a, b, *_ = two
    weeks = _weeks("2026-03-08")  # 10 weeks
    assert len(weeks) == 10
    for w in weeks[:9]:
        f.make_visit(a, "home_visit", w.end)
    for w in weeks[:8]:
        f.make_visit(b, "home_visit", w.end)
    f.make_visit(b, "reception", weeks[9].end)  # wrong kind
    out = _run("service.visit_weekly", [a, b], "2026-03-08")
    assert out["KS001"].status == "pass"
    assert out["KS002"].status == "fail" and out["KS002"].evidence["weeks_held"] == 8
    assert "weeks_not_by_secretary" not in out["KS001"].evidence


def test_weekly_town_override(two, tmp_path, monkeypatch):
    a, *_ = two
    weeks = _weeks("2026-03-08")
    for w in weeks[:8]:
        f.make_visit(a, "home_visit", w.end)
    cfg = tmp_path / "town.toml"
    cfg.write_text('[towns."玉山镇".params."service.visit_weekly"]\nmin_share = 0.8\n', encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_CONFIG", str(cfg))
    from core import config
    config.reset()
    assert _run("service.visit_weekly", [a], "2026-03-08")["KS001"].status == "pass"


def test_schedule_published(two):
    a, b, *_ = two
    c = f.make_community("KS003")
    f.make_publication(a, 2026, "visit_schedule", "2026-01-31")
    f.make_publication(b, 2026, "visit_schedule", "2026-02-01")
    f.make_publication(c, 2026, "funding", "2026-01-10")  # another kind
    out = _run("service.schedule_published", [a, b, c], "2026-06-30")
    assert out["KS001"].status == "pass"
    assert out["KS002"].status == "fail"
    assert out["KS003"].status == "fail"
    early = _run("service.schedule_published", [c], "2026-01-20")
    assert early["KS003"].status == "warn" and "01-31" in early["KS003"].message


def test_demand_response_15_vs_16_days(two):
    a, b, *_ = two
    c = f.make_community("KS003")
    f.make_visit(a, "reception", "2026-03-01", demand="修路", answered_date="2026-03-16")  # 15 days
    f.make_visit(a, "reception", "2026-03-02", demand="路灯", closed_date="2026-03-10")
    refused = f.make_visit(a, "home_visit", "2026-03-03", demand="无理要求", refused_reason="不属于社区职责")
    late = f.make_visit(b, "reception", "2026-03-01", demand="修路", answered_date="2026-03-17")  # 16 days
    pending = f.make_visit(c, "reception", "2026-06-20", demand="绿化")
    out = _run("service.demand_response", [a, b, c], "2026-07-05")
    assert out["KS001"].status == "pass" and out["KS001"].evidence["on_time"] == 2
    assert out["KS001"].evidence["refused_exempt"] == [refused.id]
    assert out["KS002"].status == "fail" and out["KS002"].evidence["late"][0]["id"] == late.id
    assert out["KS002"].evidence["late"][0]["days"] == 16
    # still open, deadline 07-05 not passed → not late
    assert out["KS003"].status == "pass" and out["KS003"].evidence["still_open"][0]["id"] == pending.id
    out = _run("service.demand_response", [c], "2026-07-06")
    assert out["KS003"].status == "fail" and out["KS003"].evidence["late"][0]["days_open"] == 16
    # an answer after the as-of date is not known then
    f.make_visit(a, "reception", "2026-08-01", demand="x", answered_date="2026-08-05")
    out = _run("service.demand_response", [a], "2026-08-03")
    assert out["KS001"].status == "pass" and out["KS001"].evidence["still_open_count"] == 1


def test_every_community_gets_one_finding(two):
    a, b, *_ = two
    for r in rs.RULES:
        out = _run(r.id, [a, b], "2026-12-31")
        assert set(out) == {"KS001", "KS002"}, r.id
