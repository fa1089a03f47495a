"""Plugin discovery from all three sources, and isolation of broken plugins."""
import json
import textwrap
from decimal import Decimal

import pytest

from core import config, plugins
from core.cli import main

GOOD = textwrap.dedent('''
    from decimal import Decimal
    from core import hookimpl, Rule

    @hookimpl
    def dangjian_funding_split(town, community, year, amount):
        if town == "巴城镇":
            return {"city": Decimal("0"), "town": amount}
        if town == "玉山镇":
            return {"city": amount, "town": Decimal("0")}   # overrides the built-in 50/50

    @hookimpl
    def dangjian_register_rules(register):
        register(Rule(id="town.extra", clause=16, title_zh="镇规则", title_en="town rule",
                      evaluate=lambda ctx: [], towns=["巴城镇"]))
''')
BROKEN_IMPORT = "import no_such_module_anywhere\n"
BAD_SIGNATURE = textwrap.dedent('''
    from core import hookimpl

    @hookimpl
    def dangjian_funding_split(town, community, year, amount, colour):
        return None
''')
RAISES = textwrap.dedent('''
    from core import hookimpl

    @hookimpl
    def dangjian_town_params(town):
        raise RuntimeError("boom")

    @hookimpl
    def dangjian_register_rules(register):
        register("not a rule")
''')


@pytest.fixture
def plugin_dir(tmp_path):
    d = tmp_path / "town_plugins"
    d.mkdir()
    (d / "good_town.py").write_text(GOOD, encoding="utf-8")
    (d / "broken_import.py").write_text(BROKEN_IMPORT, encoding="utf-8")
    (d / "bad_signature.py").write_text(BAD_SIGNATURE, encoding="utf-8")
    (d / "raises.py").write_text(RAISES, encoding="utf-8")
    (d / "_private.py").write_text("raise SystemExit('never loaded')\n", encoding="utf-8")
    return d


@pytest.fixture
def entry_point_dist(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "ep_town_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "ep_town_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ep-town-plugin\nVersion: 1.0\n")
    (site / "ep_town_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[dangjian]\nzhoushi = ep_town_plugin\nbroken_ep = ep_missing_module\n")
    (site / "ep_town_plugin.py").write_text(textwrap.dedent('''
        from core import hookimpl

        @hookimpl
        def dangjian_town_params(town):
            if town == "周市镇":
                return {"train.staff": {"min_days": 6}}
    '''))
    monkeypatch.syspath_prepend(str(site))
    return site


def load_with(tmp_path, plugin_dir):
    cfgfile = tmp_path / "city.toml"
    cfgfile.write_text(f'plugin_dirs = ["{plugin_dir}"]\n', encoding="utf-8")
    cfg = config.load(cfgfile)
    return plugins.load(cfg)


def test_all_three_sources_and_broken_plugins_reported(dangjian_env, tmp_path, plugin_dir, entry_point_dist):
    m = load_with(tmp_path, plugin_dir)
    by_name = {i.name: i for i in m.infos}
    assert by_name["plugins.funding_split_examples"].source == "built-in"
    assert by_name["zhoushi"].source == "entry point" and by_name["zhoushi"].ok
    assert by_name["good_town"].source == "file" and by_name["good_town"].ok
    assert "import failed" in by_name["broken_ep"].errors[0]
    assert "import failed" in by_name["broken_import"].errors[0]
    assert "do not match the specs" in by_name["bad_signature"].errors[0]
    assert "_private" not in by_name
    # the raising plugin loaded, but its bad registration is reported by name
    assert any("expects a core.Rule" in e for e in by_name["raises"].errors)
    # a hook that raises is isolated: the others still answer
    assert m.town_params("周市镇") == {"train.staff": {"min_days": 6}}
    assert any("boom" in e for e in by_name["raises"].errors)


def test_funding_split_firstresult_order(dangjian_env, tmp_path, plugin_dir):
    m = plugins.load(config.load())
    assert m.funding_split("玉山镇", "C1", 2026, Decimal("15000")) == {"city": Decimal("7500.00"),
                                                                       "town": Decimal("7500.00")}
    assert m.funding_split("巴城镇", "C1", 2026, Decimal("15000")) is None
    m = load_with(tmp_path, plugin_dir)
    # the town plugin (loaded later) is asked before the built-in
    assert m.funding_split("玉山镇", "C1", 2026, Decimal("15000")) == {"city": Decimal("15000"), "town": Decimal("0")}
    assert m.funding_split("昆山开发区", "C1", 2026, Decimal("15000"))["city"] == Decimal("7500.00")


def test_town_only_rule_registration(dangjian_env, tmp_path, plugin_dir):
    m = load_with(tmp_path, plugin_dir)
    reg = m.registry
    assert reg.rule_for("town.extra", "巴城镇").plugin == "good_town"
    assert reg.rule_for("town.extra", "玉山镇") is None
    assert any(r.id == "town.extra" and r.towns == ["巴城镇"] for r in reg.replacements)


def test_plugins_command_lists_sources_and_errors(dangjian_env, tmp_path, plugin_dir, entry_point_dist, capsys):
    cfgfile = tmp_path / "city.toml"
    cfgfile.write_text(f'plugin_dirs = ["{plugin_dir}"]\n', encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'p.db'}"
    rc = main(["--db", db, "--config", str(cfgfile), "plugins", "--format", "json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    names = {p["name"]: p for p in data["plugins"]}
    assert names["good_town"]["source"] == "file"
    assert names["zhoushi"]["source"] == "entry point"
    assert names["broken_import"]["errors"]
    rc = main(["--db", db, "--config", str(cfgfile), "plugins"])
    out = capsys.readouterr().out
    assert rc == 0  # a plugin has errors: a warning, the command computes nothing from plugins
    assert "broken_import" in out and "import failed" in out and "built-in" in out


def test_missing_plugin_dir_reported(dangjian_env, tmp_path):
    m = load_with(tmp_path, tmp_path / "nowhere")
    assert any("does not exist" in e for _, e in m.errors())


def test_trace_prints_hook_calls(dangjian_env, monkeypatch, capsys):
    monkeypatch.setenv("DANGJIAN_TRACE_PLUGINS", "1")
    m = plugins.load(config.load())
    m.funding_split("玉山镇", "C1", 2026, Decimal("100"))
    assert "funding_split_examples.dangjian_funding_split" in capsys.readouterr().err


def test_unknown_hook_name_fails_check_pending(dangjian_env, tmp_path):
    d = tmp_path / "p"
    d.mkdir()
    (d / "typo.py").write_text("from core import hookimpl\n\n@hookimpl\ndef dangjian_fundng_split(town):\n    return 1\n")
    m = load_with(tmp_path, d)
    info = m.info("typo")
    assert info.errors and "do not match the specs" in info.errors[0]
    assert "typo" not in [p for p, _ in m.pm.list_name_plugin()]
