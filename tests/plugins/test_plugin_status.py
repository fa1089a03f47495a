"""The plugin status kept in the database (core.plugin_status, table plugin_failure): the last
failure of each plugin's hook per town, with file:line, time and command, from any command —
a scorer, a report or a funding split that raises, a plugin that does not load — listed by
``dangjian plugins`` (another process) and gone once that hook runs again without failing."""
from __future__ import annotations

import json

from tests.plugins.test_loud_failures import (BC, RAISING_REPORT, RAISING_SCORER, RAISING_SPLIT, SYNTAX_ERROR, YS,
                                              _config, _install, _json, city, run)

__all__ = ["city"]  # the fixture, shared with the loud-failure tests


def _kept(capsys, cfg, name=None):
    code, out, _err = run(capsys, cfg, "plugins", "--format", "json")
    assert code == 0
    rows = json.loads(out)["stored_failures"]
    return [r for r in rows if name is None or r["plugin"] == name]


def _rows():
    from core.models import PluginFailure as P

    return sorted((r.plugin, r.hook, r.town) for r in P.select())


def test_a_raising_scorer_is_kept_and_listed_by_another_command(city, capsys, tmp_path):
    folder, name = city, "raising_scorer"
    _install(folder, name, RAISING_SCORER, True)
    cfg = _config(tmp_path, folder, name, [BC])
    code, _out, _err = run(capsys, cfg, "score", "member-points", "--year", "2026", "--format", "json")
    assert code == 2
    kept = _kept(capsys, cfg, name)
    assert len(kept) == 1
    k = kept[0]
    assert k["hook"] == "scorer member-points" and k["towns"] == [BC] and "scorer exploded" in k["message"]
    assert k["where"].endswith(f"{name}.py:5")  # the line that raised
    assert k["command"] == "score member-points --year 2026"
    assert len(k["at"]) == 19 and k["user"] and not k["at_load"]
    # the table says it too, with the command that ran into it
    code, out, err = run(capsys, cfg, "plugins")
    assert code == 0 and "最近的插件故障" in out and "dangjian score member-points" in out and f"{name}.py:5" in out
    assert "正常；最近有故障" in out and "警告" in err
    # still failing: one row, the time of the last failure
    first = kept[0]["at"]
    run(capsys, cfg, "score", "member-points")
    again = _kept(capsys, cfg, name)
    assert len(again) == 1 and again[0]["at"] >= first and again[0]["command"] == "score member-points"


def test_a_hook_that_runs_again_without_failing_clears_its_town_only(city, capsys, tmp_path):
    folder, name = city, "raising_split"
    _install(folder, name, RAISING_SPLIT, False)
    cfg = _config(tmp_path, folder)
    code, _out, _err = run(capsys, cfg, "report", "funding", "--format", "csv")
    assert code == 2
    kept = _kept(capsys, cfg, name)
    assert [(k["hook"], k["towns"], k["command"]) for k in kept] == [("dangjian_funding_split", [BC],
                                                                     "report funding")]
    assert kept[0]["where"].endswith(f"{name}.py:7")
    (folder / f"{name}.py").write_text(RAISING_SPLIT.replace('raise ZeroDivisionError("split exploded")',
                                                             "return None"), encoding="utf-8")
    code, _out, _err = run(capsys, cfg, "report", "funding", "--town", YS, "--format", "csv")
    assert code == 0 and _kept(capsys, cfg, name)  # 玉山镇 ran fine: 巴城镇's failure stays
    code, _out, _err = run(capsys, cfg, "report", "funding", "--town", BC, "--format", "csv")
    assert code == 0 and _kept(capsys, cfg, name) == []  # the split ran for 巴城镇 without failing


def test_a_raising_report_is_kept_until_it_runs_fine(city, capsys, tmp_path):
    folder, name = city, "raising_report"
    _install(folder, name, RAISING_REPORT, False)
    cfg = _config(tmp_path, folder)
    code, _out, _err = run(capsys, cfg, "report", "bc-report", "--format", "csv")
    assert code == 2
    kept = _kept(capsys, cfg, name)
    assert [(k["hook"], k["towns"]) for k in kept] == [("report bc-report", None)]  # the whole city's report
    assert kept[0]["where"].endswith(f"{name}.py:5") and "report exploded" in kept[0]["message"]
    (folder / f"{name}.py").write_text(RAISING_REPORT.replace('raise ValueError("report exploded")',
                                                              "return ctx.table(['a'], [['1']])"), encoding="utf-8")
    code, _out, _err = run(capsys, cfg, "report", "bc-report", "--town", BC, "--format", "csv")
    assert code == 0 and len(_kept(capsys, cfg, name)) == 1  # one town is not the whole city
    code, _out, _err = run(capsys, cfg, "report", "bc-report", "--format", "csv")
    assert code == 0 and _kept(capsys, cfg, name) == []


def test_a_plugin_that_fails_to_load_is_kept_by_any_command_until_it_loads(city, capsys, tmp_path):
    folder, name = city, "syntax_error"
    _install(folder, name, SYNTAX_ERROR, True)
    cfg = _config(tmp_path, folder, name, [BC])
    code, _out, _err = run(capsys, cfg, "users", "list")
    assert code == 0
    assert _rows() == [(name, "load", BC)]
    kept = _kept(capsys, cfg, name)
    assert kept[0]["at_load"] and kept[0]["towns"] == [BC] and kept[0]["where"].endswith(f"{name}.py:5")
    (folder / f"{name}.py").write_text("from core import hookimpl\n", encoding="utf-8")
    code, _out, _err = run(capsys, cfg, "users", "list")
    assert code == 0 and _rows() == []


def test_nothing_is_written_when_all_is_well(city, capsys, tmp_path):
    from core.models import PluginFailure

    cfg = _config(tmp_path, city)
    for argv in (("check", "--format", "json", "--no-store"), ("score", "member-points"), ("report", "funding")):
        code, _out, _err = run(capsys, cfg, *argv)
        assert code in (0, 1)
    assert PluginFailure.select().count() == 0
    assert _kept(capsys, cfg) == []


def test_a_failure_of_the_process_wins_over_its_success(dangjian_db):
    """A hook that failed and also ran fine in one command keeps its failure (the command exited 2)."""
    from core import plugin_status
    from core.plugins import Failure, PluginManager

    m = PluginManager()
    m._record(Failure("p", "dangjian_funding_split", "ValueError()", "p.py:3", [BC]))
    m.ran("p", "dangjian_funding_split", [BC, YS])
    assert plugin_status.save(m, "report funding") == 1
    assert _rows() == [("p", "dangjian_funding_split", BC)]
    m.ran("p", "dangjian_funding_split", None)
    plugin_status.save(m, "report funding")
    assert _rows() == [("p", "dangjian_funding_split", BC)]
    assert plugin_status.save(PluginManager(), "x") == 0  # a fresh process with nothing to say: no write
    fresh = PluginManager()
    fresh.ran("p", "dangjian_funding_split", [BC])
    assert plugin_status.save(fresh, "report funding --town 巴城镇") == 1
    assert _rows() == []


def test_a_failure_to_keep_the_status_is_said_and_the_exit_code_stays(city, capsys, tmp_path, monkeypatch):
    from core import plugin_status

    folder, name = city, "raising_scorer"
    _install(folder, name, RAISING_SCORER, True)
    cfg = _config(tmp_path, folder, name, [BC])

    def refuse(*a, **k):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(plugin_status, "save", refuse)
    code, out, err = run(capsys, cfg, "score", "member-points", "--format", "json")
    assert code == 2 and "插件故障未能记入数据库：database is locked" in err
    assert [r for r in _json(out) if r["town"] == YS]


def test_upgrading_a_database_adds_the_table(dangjian_db):
    """A database at the schema before the plugin status (step 5) gets the table on upgrade,
    on SQLite and on PostgreSQL (DANGJIAN_TEST_DB)."""
    from core import db, migrations, plugin_status
    from core.plugins import Failure, PluginManager

    with db.write_tx():
        db.database.execute_sql('DROP TABLE "plugin_failure"')
        migrations.SchemaVersion.update(version=5).execute()
    assert not db.database.table_exists("plugin_failure")
    assert migrations.migrate() == (5, len(migrations.STEPS))
    assert db.database.table_exists("plugin_failure")
    m = PluginManager()
    m._record(Failure("p", "load", "SyntaxError", "p.py:1", None, at_load=True))
    m._record(Failure("q", "scorer member-points", "KeyError()", "q.py:9", [BC, YS]))
    assert plugin_status.save(m, "check") == 3
    got = [(r["plugin"], r["towns"], r["command"]) for r in plugin_status.stored()]
    assert sorted(got, key=str) == sorted([("p", None, "check"), ("q", [BC, YS], "check")], key=str)


def test_a_rule_that_runs_fine_again_clears_its_failure_in_either_process(city, capsys, tmp_path, monkeypatch):
    """check may run its rules in two processes: what ran without failing in the worker is sent
    back with its findings, so the kept failure goes whichever process ran the rule."""
    import pickle

    from core.plugins import PluginManager
    from tests.plugins.test_loud_failures import FIXED_RULE, RAISING_RULE

    folder, name = city, "raising_rule"
    for worker in ("0", "1"):
        monkeypatch.setenv("DANGJIAN_CHECK_WORKER", worker)
        (folder / f"{name}.py").write_text(RAISING_RULE, encoding="utf-8")
        cfg = _config(tmp_path, folder)
        code, _out, _err = run(capsys, cfg, "check", "--format", "json", "--no-store")
        assert code == 2
        assert _rows() == [(name, "rule service.visit_weekly", BC)], worker
        assert _kept(capsys, cfg, name)[0]["command"] == "check"
        (folder / f"{name}.py").write_text(FIXED_RULE, encoding="utf-8")
        code, _out, _err = run(capsys, cfg, "check", "--format", "json", "--no-store")
        assert code in (0, 1) and _rows() == [], worker
    # what a worker sends back, as the parent takes it
    child = PluginManager()
    child.ran("p", "rule x", [BC])
    child.ran("p", "rule y", None)
    parent = PluginManager()
    parent.adopt_ran(pickle.loads(pickle.dumps(child.ran_so_far())))
    assert parent.ran_so_far() == {("p", "rule x"): {BC}, ("p", "rule y"): {None}}


def test_a_kept_failure_is_no_data_for_the_demo(dangjian_db, monkeypatch):
    """`dangjian plugins` with a broken plugin before the first `dangjian demo`: the demo still builds."""
    from core import demo, plugin_status
    from core.plugins import Failure, PluginManager

    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-30")
    m = PluginManager()
    m._record(Failure("p", "load", "SyntaxError", "p.py:1", None, at_load=True))
    plugin_status.save(m, "plugins")
    assert demo.build()["社区"] == 3


def test_two_failures_of_one_hook_in_one_town_keep_the_last(dangjian_db):
    """A validator that raised twice in one import, differently: one row, the last failure."""
    from core import plugin_status
    from core.plugins import Failure, PluginManager

    m = PluginManager()
    m._record(Failure("v", "dangjian_validate_record", "KeyError('a')", "v.py:3", [BC]))
    m._record(Failure("v", "dangjian_validate_record", "KeyError('b')", "v.py:4", [BC]))
    assert plugin_status.save(m, "import members") == 1
    kept = plugin_status.stored()
    assert [(k["message"], k["where"]) for k in kept] == [("KeyError('b')", "v.py:4")]
