"""A town's plugin from a plugin folder: its own parameters, an extra rule, a
rule replaced for its town only, its own funding split — and a broken plugin
that yields error findings without stopping the run."""
from __future__ import annotations

import json
import textwrap

import pytest

from core.cli import main
from tests import factories as f

TOWN_PLUGIN = textwrap.dedent('''
    """巴城镇 implementation measures (worked example for a test)."""
    from decimal import Decimal

    from core import Rule, hookimpl

    @hookimpl
    def dangjian_town_params(town):
        if town == "巴城镇":
            return {"train.staff": {"min_days": 3}}
        return None

    def _extra(ctx):
        for c in ctx.communities:
            yield ctx.finding(c.code, "info", "巴城镇自定指标", {"town": c.town}, community=c)

    def _one_shoulder_bc(ctx):
        for c in ctx.communities:
            yield ctx.finding(c.code, "warn", "巴城镇要求一肩挑", {}, community=c)

    @hookimpl
    def dangjian_register_rules(register):
        register(Rule(id="bacheng.extra", clause=21, title_zh="巴城镇指标", title_en="Bacheng metric",
                      evaluate=_extra, subjects="community", towns=["巴城镇"]))
        register(Rule(id="worker.one_shoulder", clause=6, title_zh="一肩挑（巴城镇）", title_en="one shoulder (Bacheng)",
                      evaluate=_one_shoulder_bc, subjects="community", towns=["巴城镇"]))

    @hookimpl
    def dangjian_funding_split(town, community, year, amount):
        if town != "巴城镇":
            return None
        city = (amount * Decimal("0.3")).quantize(Decimal("0.01"))
        return {"city": city, "town": amount - city}
''')

BROKEN_IMPORT = "import this_module_does_not_exist\n"

BROKEN_RULE = textwrap.dedent('''
    from core import Rule, hookimpl

    def _boom(ctx):
        raise ZeroDivisionError("division by zero in a town rule")

    @hookimpl
    def dangjian_register_rules(register):
        register(Rule(id="broken.rule", clause=13, title_zh="坏", title_en="bad", evaluate=_boom))

    @hookimpl
    def dangjian_town_params(town):
        raise RuntimeError("town params exploded")
''')


@pytest.fixture
def city(dangjian_db, monkeypatch, tmp_path):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-30")
    bc = f.make_community("BC001", town="巴城镇")
    ys = f.make_community("YS001", town="玉山镇")
    bw = f.make_worker(bc, posts=("other",))
    yw = f.make_worker(ys, posts=("other",))
    f.make_training(bw, "town", "2026-03-01", 3)
    f.make_training(yw, "town", "2026-03-01", 3)
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "bacheng.py").write_text(TOWN_PLUGIN, encoding="utf-8")
    return folder, bw, yw


def check_json(capsys, *argv):
    code = main(["check", "--format", "json", "--no-store", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else [], err


def test_town_plugin_params_rules_and_split(city, capsys, monkeypatch):
    folder, bw, yw = city
    monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(folder))
    code, data, err = check_json(capsys)
    by = {(x["rule"], x["subject"]): x for x in data}
    from core.ids import mask  # single-user mode: subjects masked

    # dangjian_town_params: 3 days are enough in 巴城镇, not in 玉山镇
    assert by[("train.staff", mask(bw.id_number))]["status"] == "pass"
    assert by[("train.staff", mask(bw.id_number))]["evidence"]["required_days"] == 3
    assert by[("train.staff", mask(yw.id_number))]["status"] == "warn"
    # an added rule, for its town only
    assert by[("bacheng.extra", "BC001")]["status"] == "info"
    assert ("bacheng.extra", "YS001") not in by
    # a rule replaced for its town only
    assert by[("worker.one_shoulder", "BC001")]["status"] == "warn"
    assert by[("worker.one_shoulder", "BC001")]["message"] == "巴城镇要求一肩挑"
    assert by[("worker.one_shoulder", "YS001")]["status"] == "info"
    # the split: 30 % city in 巴城镇, 50 % in 玉山镇 (built-in example)
    assert by[("funding.floor", "BC001")]["evidence"]["city_share"] == "4500.00"
    assert by[("funding.floor", "BC001")]["evidence"]["town_share"] == "10500.00"
    assert by[("funding.floor", "YS001")]["evidence"]["city_share"] == "7500.00"
    assert not [x for x in data if x["status"] == "error"]
    # the funding report sees the same split
    from types import SimpleNamespace

    from core import config, plugins
    from plugins import reports_funding

    config.load()
    plugins.load()
    ctx = SimpleNamespace(year=2026, as_of=None, town="巴城镇", community=None, principal=None, lang="zh")
    _h, rows = reports_funding.run(ctx)
    assert rows[0][1] == "BC001" and str(rows[0][7]) == "4500.00" and str(rows[0][8]) == "10500.00"
    # --explain names the town plugin as the origin
    main(["check", "--explain", "train.staff", "--town", "巴城镇"])
    out = capsys.readouterr().out
    assert "min_days = 3" in out and "区镇插件" in out
    main(["check", "--explain", "worker.one_shoulder"])
    assert "巴城镇" in capsys.readouterr().out


def test_broken_plugins_give_error_findings_and_the_run_goes_on(city, capsys, monkeypatch):
    folder, bw, yw = city
    (folder / "broken_import.py").write_text(BROKEN_IMPORT, encoding="utf-8")
    (folder / "broken_rule.py").write_text(BROKEN_RULE, encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(folder))
    code, data, err = check_json(capsys)
    assert code == 2
    errors = [x for x in data if x["status"] == "error"]
    msgs = " | ".join(x["message"] for x in errors)
    assert "broken_import" in msgs and "this_module_does_not_exist" in msgs
    assert any(x["rule"] == "broken.rule" and "broken_rule" in x["message"] and "ZeroDivisionError" in x["message"]
               for x in errors)
    assert "town params exploded" in msgs
    # every other rule still ran, the good town plugin included — but the broken plugins serve the
    # whole city (unbound), so none of their results stands: each subject is an error naming a plugin
    rules = {x["rule"] for x in data}
    assert {"funding.floor", "funding.published", "train.staff", "worker.one_shoulder", "bacheng.extra"} <= rules
    assert not [x for x in data if x["status"] != "error"]
    staff = [x for x in data if x["rule"] == "train.staff"]
    assert len(staff) == 2 and all("broken_import" in x["message"] or "broken_rule" in x["message"] for x in staff)
