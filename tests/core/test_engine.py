"""The rule engine: one finding per subject, errors isolated, scope filters, stored runs, explain."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from core import Rule, access, plugins
from core.errors import AccessDenied, UserError
from core.models import CheckRun, StoredFinding
from core.findings import find_run, run_findings
from core.rules import clause_text, explain, resolve_dates, run_check
from tests import factories as f

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def city(dangjian_db):
    a = f.make_community("YS001", town="玉山镇")
    b = f.make_community("YS002", town="玉山镇")
    c = f.make_community("BC001", town="巴城镇")
    return a, b, c


def _add(rule):
    plugins.get().registry.add_rule(rule, "tests")
    return rule


def per_community(status="pass"):
    def ev(ctx):
        for c in ctx.communities:
            yield ctx.finding(c.code, status, "ok", {"n": 1}, community=c)
    return ev


def test_resolve_dates(monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-11-28")
    assert resolve_dates(None, None) == (2026, dt.date(2026, 11, 28))
    assert resolve_dates(2025, None) == (2025, dt.date(2025, 12, 31))
    assert resolve_dates(None, dt.date(2024, 3, 1)) == (2024, dt.date(2024, 3, 1))


def test_one_finding_per_subject_for_every_builtin_rule(city, monkeypatch):
    """Every built-in rule yields exactly one finding per subject, never two."""
    a, b, c = city
    br = f.make_org(a, "branch")
    f.make_members(5, br)
    f.make_worker(a, posts=("secretary", "director"))
    f.make_worker(b, posts=("other",))
    res = run_check(as_of=AS_OF, store=False)
    seen = {}
    for x in res.findings:
        key = (x.rule, x.town, x.community, x.subject)
        assert key not in seen, key
        seen[key] = x
    # every community rule covers every community
    reg = plugins.get().registry
    for rid in reg.rule_ids():
        if reg.rules[rid].subjects == "community":
            got = {x.community for x in res.findings if x.rule == rid}
            assert got == {"YS001", "YS002", "BC001"}, rid


def test_raising_rule_gives_error_and_others_run(city):
    def boom(ctx):
        yield ctx.finding("x", "pass", "partial")
        raise RuntimeError("kaput")
    _add(Rule("zz.boom", 5, "坏规则", "bad rule", boom, subjects="community"))
    _add(Rule("zz.good", 5, "好规则", "good rule", per_community(), subjects="community"))
    res = run_check(as_of=AS_OF, rule_ids=["zz.boom", "zz.good"], store=False)
    errs = [x for x in res.findings if x.rule == "zz.boom"]
    # one error per community it ran for, none of its partial results kept
    assert {x.status for x in errs} == {"error"}
    assert {x.community for x in errs} - {None} == {"YS001", "YS002", "BC001"}
    assert all("zz.boom" in x.message and "kaput" in x.message for x in errs)
    assert errs[0].evidence["plugin"] == "tests"
    assert len([x for x in res.findings if x.rule == "zz.good"]) == 3
    assert res.exit_code == 2


def test_plugin_load_error_is_an_error_finding(city):
    """A plugin serving the whole city that failed to load: every finding is an error naming it
    (never the city's rules in its place)."""
    pm = plugins.get()
    pm._record(plugins.Failure("brokentown", "load", "import failed: SyntaxError", "brokentown.py:3", None,
                               at_load=True))
    res = run_check(as_of=AS_OF, rule_ids=["worker.one_shoulder"], store=False)
    assert res.findings and {x.status for x in res.findings} == {"error"}
    assert all("brokentown" in x.message for x in res.findings)
    assert res.exit_code == 2


def test_scope_filters(city):
    _add(Rule("zz.good", 5, "好", "good", per_community(), subjects="community"))
    r = run_check(as_of=AS_OF, rule_ids=["zz.good"], town="玉山镇", store=False)
    assert {x.community for x in r.findings} == {"YS001", "YS002"}
    r = run_check(as_of=AS_OF, rule_ids=["zz.good"], community="BC001", store=False)
    assert [x.community for x in r.findings] == ["BC001"] and r.findings[0].town == "巴城镇"
    with pytest.raises(UserError, match="不存在镇|未知区镇|unknown town"):
        run_check(as_of=AS_OF, town="不存在镇", store=False)
    with pytest.raises(UserError, match="XX999"):
        run_check(as_of=AS_OF, community="XX999", store=False)
    with pytest.raises(UserError, match="no.such"):
        run_check(as_of=AS_OF, rule_ids=["no.such"], store=False)
    with pytest.raises(UserError):
        run_check(as_of=AS_OF, town="巴城镇", community="YS001", store=False)


def test_principal_scope(city):
    _add(Rule("zz.good", 5, "好", "good", per_community(), subjects="community"))
    clerk = access.Principal("clerk", "community", "YS002", full_personal_data=False)
    r = run_check(as_of=AS_OF, rule_ids=["zz.good"], principal=clerk, store=False)
    assert [x.community for x in r.findings] == ["YS002"]
    with pytest.raises(AccessDenied):
        run_check(as_of=AS_OF, community="BC001", principal=clerk, store=False)
    town = access.Principal("t", "town", "巴城镇")
    r = run_check(as_of=AS_OF, rule_ids=["zz.good"], principal=town, store=False)
    assert [x.community for x in r.findings] == ["BC001"]


def test_town_only_variant_runs_for_its_town(city):
    _add(Rule("zz.v", 5, "通用", "general", per_community("pass"), subjects="community"))
    _add(Rule("zz.v", 5, "巴城", "town", per_community("warn"), subjects="community", towns=["巴城镇"]))
    r = run_check(as_of=AS_OF, rule_ids=["zz.v"], store=False)
    assert {x.community: x.status for x in r.findings} == {"YS001": "pass", "YS002": "pass", "BC001": "warn"}
    r = run_check(as_of=AS_OF, rule_ids=["zz.v"], town="玉山镇", store=False)
    assert {x.status for x in r.findings} == {"pass"}


def test_stored_runs_and_find_run(city):
    a, b, c = city
    _add(Rule("zz.good", 5, "好", "good", per_community(), subjects="community"))
    _add(Rule("zz.bad", 5, "坏", "bad", per_community("fail"), subjects="community"))
    r1 = run_check(as_of=AS_OF, rule_ids=["zz.good", "zz.bad"])
    assert r1.run_id and StoredFinding.select().where(StoredFinding.run == r1.run_id).count() == 6
    run = CheckRun.get_by_id(r1.run_id)
    counts = json.loads(run.counts)
    assert sorted(counts.pop("by_rule")) == [[5, "zz.bad", "fail", 3], [5, "zz.good", "pass", 3]]
    assert counts == {"pass": 3, "fail": 3} and run.year == 2026 and run.as_of == AS_OF
    assert run.rules == "zz.bad,zz.good" and run.town is None and run.community is None
    assert find_run(None) is None  # a run limited to some rules is partial: never used
    r2 = run_check(as_of=AS_OF)  # whole rule set, whole city
    r3 = run_check(as_of=AS_OF, town="巴城镇")
    got = find_run({a.id})
    assert got.id == r2.run_id  # the town run of 巴城镇 does not cover YS001
    findings = run_findings(got.id, communities=["YS001"])
    assert findings and {x.community for x in findings} == {"YS001"}
    assert find_run({c.id}).id == r3.run_id
    got = find_run({a.id, b.id})
    findings = run_findings(got.id, town="玉山镇", rule="zz.bad")
    assert got.id == r2.run_id and {x.status for x in findings} == {"fail"}
    assert find_run({a.id}, 2019) is None
    assert run_check(as_of=AS_OF, store=False).run_id is None
    assert isinstance(findings[0].evidence, dict)


def test_explain(city, tmp_path, monkeypatch):
    info = explain("pay.secretary_floor")
    assert info["clause"] == 9 and "1.2倍" in info["clause_text"]
    assert info["params"] == [{"name": "multiple", "value": 1.2, "origin": "default"}]
    assert info["plugin"] == "plugins.rules_workers" and info["passes"]
    assert clause_text(19).startswith("19.")
    cfg = tmp_path / "city.toml"
    cfg.write_text('[params."pay.secretary_floor"]\nmultiple = 1.3\n'
                   '[towns."巴城镇".params."pay.secretary_floor"]\nmultiple = 1.5\n', encoding="utf-8")
    from core import config

    config.load(str(cfg))
    assert explain("pay.secretary_floor")["params"][0]["value"] == 1.3
    p = explain("pay.secretary_floor", town="巴城镇")["params"][0]
    assert p["value"] == 1.5 and p["origin"].startswith("town config")
    with pytest.raises(UserError):
        explain("no.such")


def test_run_of_a_scoped_user(city):
    a, b, c = city
    _add(Rule("zz.good", 5, "好", "good", per_community(), subjects="community"))
    clerk = access.Principal("clerk", "town", "玉山镇")
    r = run_check(as_of=AS_OF, rule_ids=None, principal=clerk)
    got = find_run({b.id})
    assert got.id == r.run_id and (got.town, got.street, got.community) == ("玉山镇", None, None)
    assert {x.community for x in run_findings(got.id, communities=["YS002"])} == {"YS002"}
    assert find_run({a.id, b.id}).id == r.run_id
    assert find_run({c.id}) is None  # outside that user's run
    assert find_run(None) is None  # no whole-city run yet
    with pytest.raises(AccessDenied):  # a town outside the user's scope is refused, not checked empty
        run_check(as_of=AS_OF, town="巴城镇", principal=clerk, store=False)


def test_restricted_users_own_run_is_their_last_run(dangjian_db):
    """A community user's check (scope 'user=CODE') is found again for that user."""
    from core import access, rules
    from core.access import Principal
    from tests import factories as f

    c1 = f.make_community("C001", town="玉山镇")
    f.make_community("C002", town="玉山镇")
    p = Principal("staff1", "community", "C001", full_personal_data=False)
    access.set_current(p)
    try:
        res = rules.run_check(year=2025, principal=p)
    finally:
        access.set_current(None)
    assert res.run_id
    from core.findings import find_run

    run = find_run(p.scope_community_ids(), 2025)
    assert run is not None and run.id == res.run_id
    # a city-wide viewer does not take a community user's partial run as the city's
    assert find_run(None, 2025) is None
    # but it covers that community when asked for it
    assert find_run({c1.id}, 2025).id == res.run_id


def test_old_runs_are_pruned_per_scope(dangjian_db, tmp_path):
    from core import config, rules
    from core.models import CheckRun, StoredFinding
    from tests import factories as f

    cfg = tmp_path / "keep.toml"
    cfg.write_text("[check]\nkeep_runs = 2\n", encoding="utf-8")
    config.load(cfg)
    f.make_community("C001", town="玉山镇")
    f.make_community("C002", town="巴城镇")
    ids = [rules.run_check(year=2025).run_id for _ in range(3)]
    town_run = rules.run_check(year=2025, town="巴城镇").run_id
    kept = [r.id for r in CheckRun.select().order_by(CheckRun.id)]
    assert kept == ids[1:] + [town_run]  # the oldest city run went; the town's is its own scope
    assert not StoredFinding.select().where(StoredFinding.run == ids[0]).exists()
    assert StoredFinding.select().where(StoredFinding.run == ids[2]).exists()


def test_keep_runs_zero_keeps_all(dangjian_db, tmp_path):
    from core import config, rules
    from core.models import CheckRun
    from tests import factories as f

    cfg = tmp_path / "keep.toml"
    cfg.write_text("[check]\nkeep_runs = 0\n", encoding="utf-8")
    config.load(cfg)
    f.make_community("C001")
    for _ in range(3):
        rules.run_check(year=2025)
    assert CheckRun.select().count() == 3
