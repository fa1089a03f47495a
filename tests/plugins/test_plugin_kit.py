"""The plugin kit for town IT: docs/plugins.md's example plugin, the worked 巴城镇
example, and the ``plugin_kit`` fixture itself (SPEC §4, DESIGN.md hooks)."""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
EXAMPLES = ROOT / "plugins" / "examples"


def doc_example(name: str) -> str:
    """The code block after ``<!-- example:NAME -->`` in docs/plugins.md."""
    text = DOCS.read_text(encoding="utf-8")
    m = re.search(r"<!-- example:" + re.escape(name) + r" -->\s*```python\n(.*?)```", text, re.S)
    assert m, f"docs/plugins.md has no example {name}"
    return m.group(1)


# ---------------------------------------------------------------- a plugin written only from the docs

def test_plugin_from_docs_loads_and_changes_results_for_its_town_only(plugin_kit, tmp_path):
    plugin = tmp_path / "my_town.py"
    plugin.write_text(doc_example("my_town.py"), encoding="utf-8")
    before = plugin_kit.points("member-points")
    kit = plugin_kit.load(plugin)
    assert kit.errors() == []
    after = kit.points("member-points")
    # 巴城镇: base 70 + 3 per meeting attended (张伟: 4 assemblies, 4 lectures, 12 group meetings)
    assert after["张伟"] == Decimal(70 + 3 * 20)
    assert after["张伟"] != before["张伟"]
    # 玉山镇 keeps the city's scheme
    for name in ("陈静", "杨军", "黄磊"):
        assert after[name] == before[name]
    # the town rule exists only in 巴城镇
    findings = kit.check(rule_ids=["mytown.min_members"])
    assert [(f.community, f.status) for f in findings] == [("BC01", "pass")]
    # the town's parameter, the split and the validation
    assert kit.town_params("巴城镇")["train.staff"] == {"min_days": 6}
    assert kit.town_params("玉山镇").get("train.staff") is None
    assert kit.funding_split("巴城镇", "BC01", "15000.00") == {"city": Decimal("4500.00"), "town": Decimal("10500.00")}
    assert kit.funding_split("玉山镇", "YS01", "15000.00") == {"city": Decimal("7500.00"), "town": Decimal("7500.00")}
    assert kit.validate("meetings", {"topic": "", "organization": "BC01-ZB"}) == ["巴城镇要求填写会议主题"]
    assert kit.validate("meetings", {"topic": "", "organization": "YS01-ZB"}) == []  # not its town
    assert kit.validate("meetings", {"topic": "学习"}) == []
    # through the CLI: `dangjian plugins` shows the replacement, `score` uses it
    code, out, err = kit.cli("plugins")
    assert code == 0 and "my_town" in out and "mytown.min_members" in out
    code, out, err = kit.cli("score", "member-points", "--year", "2025", "--town", "巴城镇", "--format", "json")
    assert code == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["张伟"]["points"] == 130 and rows["张伟"]["plugin"] == "my_town"
    code, out, err = kit.cli("score", "--list")
    assert "my_town" in out and "巴城镇" in out


def test_ten_line_test_from_docs_runs(plugin_kit, tmp_path):
    """The ten-line test shown in docs/plugins.md works as written."""
    plugin = tmp_path / "my_town.py"
    plugin.write_text(doc_example("my_town.py"), encoding="utf-8")
    kit = plugin_kit.load(str(plugin))
    assert kit.errors() == []
    assert kit.points("member-points")["张伟"] != kit.points("member-points", plugin=False)["张伟"]
    assert kit.points("member-points")["陈静"] == kit.points("member-points", plugin=False)["陈静"]


# ---------------------------------------------------------------- the worked 巴城镇 example

def test_bacheng_example_is_not_loaded_by_default(plugin_kit):
    from plugins import DEFAULT_PLUGINS

    assert not any("bacheng" in p for p in DEFAULT_PLUGINS)
    assert "bacheng.pairing_coverage" not in plugin_kit.manager.registry.rule_ids()
    assert (EXAMPLES / "town_example_bacheng.py").is_file()


def test_bacheng_example_from_its_plugin_folder(plugin_kit):
    city = plugin_kit.city
    before = {r.name: r for r in plugin_kit.score("member-points")}
    kit = plugin_kit.load(EXAMPLES)
    assert kit.errors() == []
    after = {r.name: r for r in kit.score("member-points")}
    # 张伟: base 80, 20 meetings attended × 2, 6 volunteer hours × 1
    zw = after["张伟"]
    assert [i["code"] for i in zw.items] == ["base", "attended", "volunteer"]
    assert zw.points == Decimal(80 + 40 + 6) == sum(i["points"] for i in zw.items)
    assert zw.scorer.plugin == "town_example_bacheng"
    # 李娜: absent once without leave → −5
    assert any(i["code"] == "absent" and i["points"] == Decimal(-5) for i in after["李娜"].items)
    for name in ("陈静", "杨军", "黄磊"):  # 玉山镇 untouched
        assert after[name].points == before[name].points
        assert after[name].scorer.plugin == "plugins.scorers_default"
    # the extra rule: one finding, for the 巴城镇 community only; 0 pairings < 3 → fail (year over)
    findings = kit.check(rule_ids=["bacheng.pairing_coverage"])
    assert [(f.community, f.status) for f in findings] == [("BC01", "fail")]
    # town params: stricter reception share for 巴城镇 only
    from core.rules import params_for

    assert params_for("service.reception_weekly", "巴城镇")["min_share"] == 0.95
    assert params_for("service.reception_weekly", "玉山镇")["min_share"] == 0.9
    # config still tunes the town scorer's weights
    assert city.year == 2025


def test_bacheng_weights_from_town_config(plugin_kit, tmp_path, monkeypatch):
    from core import config

    cfg = tmp_path / "town.toml"
    cfg.write_text('[towns."巴城镇".scoring."member-points"]\nbase = 85\n', encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_CONFIG", str(cfg))
    config.reset()
    kit = plugin_kit.load(EXAMPLES)
    pts = kit.points("member-points")
    assert pts["张伟"] == Decimal(85 + 40 + 6)
    assert pts["陈静"] == kit.points("member-points", plugin=False)["陈静"]


# ---------------------------------------------------------------- every hook through the kit

ALL_HOOKS_PLUGIN = '''
from decimal import Decimal
from core import Report, Rule, Scorer, hookimpl


@hookimpl
def dangjian_register_rules(register):
    register(Rule(id="kit.always", clause=2, title_zh="示例", title_en="example", subjects="community",
                  evaluate=lambda ctx: (ctx.finding(c.code, "info", "ok", community=c) for c in ctx.communities)))


@hookimpl
def dangjian_register_scorers(register):
    register(Scorer("kit-score", "示例评分", "example score", subjects="community",
                    score=lambda ctx: ((c.code, 7, [{"code": "x", "label": "七", "points": 7}])
                                       for c in ctx.communities)))


@hookimpl
def dangjian_register_reports(register):
    register(Report("kit-report", "示例报表", "example report",
                    run=lambda ctx: (["社区"], [[c.code] for c in ctx.communities])))


@hookimpl
def dangjian_register_screens(register):
    def factory():
        from textual.screen import Screen
        return Screen()
    register("kit-screen", "示例", factory)


@hookimpl
def dangjian_register_models(register):
    from peewee import CharField
    from core.db import database
    from core.models import BaseModel

    class KitNote(BaseModel):
        text = CharField()
    register(KitNote)


@hookimpl
def dangjian_funding_split(town, community, year, amount):
    return {"city": amount, "town": Decimal("0.00")} if town == "巴城镇" else None


@hookimpl
def dangjian_town_params(town):
    return {"kit.always": {"n": 1}} if town == "巴城镇" else None


@hookimpl
def dangjian_validate_record(kind, record):
    return ["no"] if record.get("name") == "坏" else []
'''


def test_every_hook_through_the_kit(plugin_kit):
    kit = plugin_kit.write("kit_all", ALL_HOOKS_PLUGIN)
    assert kit.errors() == []
    assert [(f.community, f.status) for f in kit.check(rule_ids=["kit.always"])] == [("BC01", "info"),
                                                                                      ("YS01", "info")]
    assert {r.subject: r.points for r in kit.score("kit-score")} == {"BC01": Decimal(7), "YS01": Decimal(7)}
    # plain tuples get their display fields looked up
    assert {r.subject: r.town for r in kit.score("kit-score")} == {"BC01": "巴城镇", "YS01": "玉山镇"}
    assert kit.report("kit-report").rows == [["BC01"], ["YS01"]]
    screens = kit.screens()
    assert [(s[0], s[3]) for s in screens] == [("kit-screen", "kit_all")]
    models = kit.models()
    assert [m.__name__ for m in models] == ["KitNote"]
    assert kit.funding_split("巴城镇", "BC01", "100.00") == {"city": Decimal("100.00"), "town": Decimal("0.00")}
    assert kit.town_params("巴城镇") == {"kit.always": {"n": 1}}
    assert kit.validate("members", {"name": "坏"}) == ["no"]
    code, out, err = kit.cli("report", "kit-report", "--format", "csv")
    assert code == 0 and "BC01" in out


def test_broken_plugin_is_reported_by_name_and_the_rest_go_on(plugin_kit):
    kit = plugin_kit.write("broken_points", '''
from core import Scorer, hookimpl

def boom(ctx):
    raise RuntimeError("巴城镇 scorer broke")
    yield

@hookimpl
def dangjian_register_scorers(register):
    register(Scorer("member-points", "坏", "broken", boom, towns=["巴城镇"]))
''')
    from core.scoring import run_scorer_full

    run = run_scorer_full("member-points", year=2025)
    assert any("broken_points" in e for e in run.errors)
    assert {r.town for r in run.results} == {"玉山镇"}  # the general scorer still ran
    code, out, err = kit.cli("score", "member-points", "--year", "2025")
    assert code == 2 and "broken_points" in err and "陈静" in out


def test_kit_fixture_tiny_city(dangjian_city):
    from core.models import Community, Member, Worker

    assert Community.select().count() == 2
    assert Member.select().count() == 8 and Worker.select().count() == 4
    assert dangjian_city.members["王强"].management_class == "in_service"
    assert dangjian_city.as_of.isoformat() == "2025-12-31"


@pytest.mark.parametrize("name", ["town_example_bacheng.py", "__init__.py"])
def test_examples_are_packaged(name):
    # hatch ships the whole ``plugins`` package, sub-folders included (pyproject: packages = [... "plugins"])
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"plugins"' in text
    assert (EXAMPLES / name).is_file()


def test_bacheng_rule_counts_in_its_towns_community_score(plugin_kit):
    """The example maps its rule into 群众反映好 through dangjian_town_params, for 巴城镇 only."""
    from core.api import Finding
    from core.scoring import run_scorer

    kit = plugin_kit.load(EXAMPLES)
    fs = [Finding("service.demand_response", 11, "pass", t, c, c, "x") for t, c in (("巴城镇", "BC01"), ("玉山镇", "YS01"))]
    fs += [Finding("bacheng.pairing_coverage", 11, "fail", t, c, c, "x") for t, c in (("巴城镇", "BC01"), ("玉山镇", "YS01"))]
    r = {x.community: x for x in run_scorer("community-score", year=kit.city.year, as_of=kit.city.as_of, findings=fs)}
    assert r["BC01"].extra["群众反映好"] == Decimal("50.00")  # mean of pass (1) and the town rule's fail (0)
    assert r["YS01"].extra["群众反映好"] == Decimal("100.00")  # the mapping is 巴城镇's only
