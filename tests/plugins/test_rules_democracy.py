"""democracy.four_two and democracy.affairs_published (clause 14)."""
from __future__ import annotations

import pytest

from core.models import FourTwoDecision
from core.rules import CommunityRef, Context
from plugins import rules_democracy as rdem
from tests import factories as f


def _run(rule_id, communities, as_of, year=None):
    rule = next(r for r in rdem.RULES if r.id == rule_id)
    refs = [CommunityRef(c.id, c.code, c.name, c.town.name, c.town_id) for c in communities]
    as_of = f.D(as_of)
    ctx = Context(rule=rule, year=year or as_of.year, as_of=as_of, communities=refs)
    return {x.subject: x for x in rule.evaluate(ctx)}


def _decision(c, code, *dates):
    kw = {s: f.D(d) for s, d in zip(FourTwoDecision.STAGES, dates)}
    return FourTwoDecision.create(code=code, community=c, title=f"决策{code}", **kw)


@pytest.fixture
def comm(dangjian_db):
    return f.make_community("KS001")


def test_four_two_stages(comm):
    _decision(comm, "D1", "2026-01-05", "2026-01-10", "2026-01-20", "2026-02-01", "2026-02-03", "2026-05-01")
    _decision(comm, "D2", "2026-01-05", "2026-01-10", "2026-01-08", "2026-02-01", "2026-02-03", "2026-05-01")
    _decision(comm, "D3", "2026-01-05", None, "2026-01-20", "2026-02-01", "2026-02-03", "2026-05-01")
    _decision(comm, "D4", "2026-03-05", "2026-03-10", "2026-03-20", None, None, None)  # under way
    _decision(comm, "D5", "2025-11-05", "2026-01-10", "2026-01-20", "2026-02-01", "2026-02-03", "2026-05-01")
    _decision(comm, "D6", "2026-01-05", "2026-01-05", "2026-01-05", "2026-01-05", "2026-01-05", "2026-01-05")
    _decision(comm, "D7", None, "2026-02-10", "2026-02-20", "2026-03-01", "2026-03-03", "2026-04-01")
    _decision(comm, "D8", "2026-08-01", None, None, None, None, None)  # after the as-of date
    out = _run("democracy.four_two", [comm], "2026-06-30")
    assert out["D1"].status == "pass"
    assert out["D2"].status == "fail" and out["D2"].evidence["out_of_order"] == ["reviewed"]
    assert out["D3"].status == "fail" and out["D3"].evidence["missing"] == ["consulted"]
    assert out["D4"].status == "warn"
    assert out["D5"].status == "pass"  # begun in 2025, stages in 2026: a subject of both years
    assert out["D6"].status == "pass"  # same-day stages are in order
    assert out["D7"].status == "fail"  # first stage missing: dated by its earliest stage, proposal skipped
    assert "D8" not in out
    dec = _run("democracy.four_two", [comm], "2026-12-31")
    assert dec["D4"].status == "fail"
    assert dec["D8"].status == "fail" and dec["D8"].evidence["missing"][0] == "consulted"
    assert "D5" in _run("democracy.four_two", [comm], "2025-12-31")


def test_four_two_across_the_year_boundary(comm):
    """Proposed in December and finished in January: a subject of both years (warn, then pass).
    Proposed in October and abandoned: warn in its year, fail the next (unfinished on 1 January).
    The 90 days of grace at 31 December counted on both sides."""
    _decision(comm, "DEC", "2025-12-10", "2025-12-20", "2026-01-05", "2026-01-10", "2026-01-12", "2026-01-20")
    _decision(comm, "OCT", "2025-10-15", "2025-10-20", None, None, None, None)
    _decision(comm, "D90", "2025-10-02", None, None, None, None, None)  # 90 days before 12-31
    _decision(comm, "D89", "2025-10-03", None, None, None, None, None)  # 89 days
    _decision(comm, "OLD", "2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06")
    y2025 = _run("democracy.four_two", [comm], "2025-12-31")
    assert y2025["DEC"].status == "warn"
    assert y2025["OCT"].status == "warn"
    assert y2025["D90"].status == "fail" and y2025["D89"].status == "warn"
    assert y2025["OLD"].status == "pass"
    mid_2025 = _run("democracy.four_two", [comm], "2025-11-30")
    assert mid_2025["D90"].status == "warn"  # before 31 December of its year
    y2026 = _run("democracy.four_two", [comm], "2026-06-30")
    assert y2026["DEC"].status == "pass"
    assert y2026["OCT"].status == "fail"
    assert y2026["D89"].status == "fail"
    assert "OLD" not in y2026  # finished in 2025: not a subject of 2026


def test_affairs_published_each_quarter(dangjian_db):
    a = f.make_community("KS001")
    b = f.make_community("KS002")
    for d in ("2026-03-31", "2026-04-01", "2026-07-15"):
        f.make_publication(a, 2026, "party_affairs", d)
    f.make_publication(b, 2026, "party_affairs", "2026-02-01")
    f.make_publication(b, 2026, "funding", "2026-05-01")  # another kind
    out = _run("democracy.affairs_published", [a, b], "2026-09-30")
    assert out["KS001"].status == "pass"
    assert out["KS002"].status == "fail" and out["KS002"].evidence["quarters_missed"] == ["2026Q2", "2026Q3"]
    assert _run("democracy.affairs_published", [b], "2026-03-31")["KS002"].status == "pass"
    early = _run("democracy.affairs_published", [a, b], "2026-03-30")
    assert {x.status for x in early.values()} == {"pass"}


def test_part_b_rules_through_run_check_and_cli(dangjian_db, capsys):
    """Every rule of clauses 11–14 runs through the engine: one finding per subject, clause numbers, exit code."""
    from core.cli import main
    from core.rules import run_check

    a = f.make_community("KS001", town="玉山镇")
    b = f.make_community("KS002", town="巴城镇")
    br = f.make_org(a, "branch", code="BA")
    f.make_org(b, "branch", code="BB")
    f.make_members(3, br)
    f.make_member(br, management_class="floating_out")
    f.make_member(None, a, management_class="floating_in", registered_date=f.D("2026-01-02"))
    f.make_member(br, mobility_impaired=True)
    _decision(a, "D1", "2026-01-05", "2026-01-10", "2026-01-20", "2026-02-01", "2026-02-03", "2026-05-01")
    ids = ["service.opinion_meetings", "service.reception_weekly", "service.visit_weekly",
           "service.schedule_published", "service.demand_response", "member.floating_in_placed",
           "member.immobile_visited", "member.floating_out_contact", "orglife.three_meetings_one_lesson",
           "orglife.democratic_evaluation", "orglife.absence_without_leave", "dues.on_time",
           "democracy.four_two", "democracy.affairs_published"]
    res = run_check(year=2026, as_of="2026-06-30", rule_ids=ids, store=False)
    by_rule = {}
    for x in res.findings:
        by_rule.setdefault(x.rule, []).append(x)
    assert not [x for x in res.findings if x.status == "error"], [x.message for x in res.findings if x.status == "error"]
    expected = {"service.opinion_meetings": 2, "service.reception_weekly": 2, "service.visit_weekly": 2,
                "service.schedule_published": 2, "service.demand_response": 2, "member.floating_in_placed": 1,
                "member.immobile_visited": 1, "member.floating_out_contact": 1,
                "orglife.three_meetings_one_lesson": 2, "orglife.democratic_evaluation": 2,
                "orglife.absence_without_leave": 3, "dues.on_time": 5, "democracy.four_two": 1,
                "democracy.affairs_published": 2}
    assert {k: len(v) for k, v in by_rule.items()} == expected
    assert {x.clause for x in by_rule["dues.on_time"]} == {13}
    assert {x.town for x in by_rule["service.visit_weekly"]} == {"玉山镇", "巴城镇"}
    # the CLI: fails → exit 1, scoped to one community
    code = main(["check", "--year", "2026", "--as-of", "2026-06-30", "--community", "KS002",
                 "--rule", "democracy.affairs_published", "--format", "json"])
    out = capsys.readouterr().out
    import json
    data = json.loads(out)
    assert code == 1 and len(data) == 1 and data[0]["subject"] == "KS002" and data[0]["status"] == "fail"
