"""One home per concept: what is owed in dues (core.dues), a rule's parameters
(core.rules.params_for), the overdue demands (core.read.visits) — and the old second
homes are gone, not kept as wrappers."""
from __future__ import annotations

import datetime as dt
import inspect
import json
import textwrap

import pytest

from core.view import View

from core import access
from core.read import dashboard, dues, visits
from tests import factories as f

# ---------------------------------------------------------------- dues: the screen, `report dues` and `check` agree

JAN_TO_MAY = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]


@pytest.fixture
def branch(dangjian_db):
    c = f.make_community("KS001", town="玉山镇", name="城中社区")
    br = f.make_org(c, "branch", code="ZB01", name="城中第一支部")
    kw = dict(dues_class="employed", monthly_income="4000.00", joined_date="2005-01-01", full_date="2006-01-01")
    m = {n: f.make_member(br, name=n, **kw) for n in ("甲", "乙", "丁")}
    m["丙"] = f.make_member(br, name="丙", dues_class="employed", monthly_income="4000.00",
                           joined_date="2026-03-05", full_date=None)  # probationary: owes from March
    m["戊"] = f.make_member(br, name="戊", management_class="in_service", **kw)  # relationship elsewhere
    m["己"] = f.make_member(br, name="己", management_class="floating_out", **kw)
    for month in JAN_TO_MAY:
        f.make_dues(m["乙"], month, "40", paid_date=f"{month}-10")
        f.make_dues(m["丁"], month, "40", paid_date=f"{month}-10")
    f.make_dues(m["丁"], "2026-06", "40", paid_date="2026-06-01")  # June paid on its first day
    f.make_dues(m["丙"], "2026-03", "40", paid="20", paid_date="2026-03-10")  # part-paid
    return br, m


def _owed_three_ways(br, members) -> tuple[dict, dict, dict, int]:
    """{name: months owed and not settled} as the dues screen's query, `report dues` and
    `check` (dues.on_time) say, and the screen's count of month-payments owed."""
    from core import reports, rules

    names = {x.id: n for n, x in members.items()}
    grid = dues.dues_grid(View.of(), br.id, 2026)
    screen = {r["name"]: list(r["arrears"]) for r in grid["members"]}
    table = reports.run_report("dues", year=2026)
    report = {n: [] for n in members}
    report.update({r["name"]: list(r["months"]) for r in table.records})
    result = rules.run_check(year=2026, rule_ids=["dues.on_time"], store=False)
    check = {n: [] for n in members}
    for x in result.findings:
        check[names[x.evidence["member_id"]]] = list(x.evidence.get("unpaid_months", []))
    return screen, report, check, grid["owed"]


@pytest.mark.parametrize("day", ["2026-06-01", "2026-06-15", "2026-06-30"])
def test_dues_screen_report_and_check_agree_on_what_is_owed(branch, monkeypatch, day):
    monkeypatch.setenv("DANGJIAN_TODAY", day)
    br, members = branch
    june = ["2026-06"] if day == "2026-06-30" else []  # a month is owed once its last day has come
    want = {"甲": JAN_TO_MAY + june, "乙": june, "丙": ["2026-03", "2026-04", "2026-05"] + june, "丁": [],
            "戊": [], "己": JAN_TO_MAY + june}
    screen, report, check, owed = _owed_three_ways(br, members)
    assert screen == report == check == want
    assert owed == sum(len(v) for v in want.values())


def test_dues_screen_shows_the_same_count(branch, monkeypatch):
    """The count in the dues screen's bar is the one the query gives (甲 5 + 丙 3 + 己 5 on the 15th)."""
    from tests.tui.ledger_fixtures import open_screen, run, screen_text

    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-15")

    async def go():
        from tui.screens.dues import DuesScreen

        async with open_screen(DuesScreen()) as (app, pilot):
            assert app.screen.grid["owed"] == 13
            assert "欠交 13 个月次" in screen_text(app)

    run(go)


# ---------------------------------------------------------------- parameters: a town plugin, then a town config

TOWN_PARAMS_PLUGIN = textwrap.dedent('''
    from core import hookimpl

    @hookimpl
    def dangjian_town_params(town):
        if town == "巴城镇":
            return {"service.demand_response": {"max_days": 20}, "train.staff": {"min_days": 6}}
        return None
''')

TOWN_CONFIG = textwrap.dedent('''
    [towns."巴城镇".params."service.demand_response"]
    max_days = 25

    [towns."巴城镇".params."train.staff"]
    min_days = 8
''')


@pytest.fixture
def two_towns(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-15")
    ks = f.make_community("KS001", town="玉山镇", name="城中社区")
    bc = f.make_community("BC001", town="巴城镇", name="湖滨社区")
    worker = f.make_worker(bc, posts=("other",), name="孙丽")
    f.make_training(worker, level="town", start="2026-03-01", days=7)
    # a demand 21 days old on 06-15: late after 15 or 20 days, not after 25
    f.make_visit(bc, "reception", "2026-05-25", demand="路灯不亮", staff=worker)
    f.make_visit(ks, "reception", "2026-05-25", demand="楼道堆物")
    return {"KS001": ks, "BC001": bc, "worker": worker}


def _what_is_shown(capsys, towns) -> dict:
    """The demand deadline and the staff training days every screen and report shows for 巴城镇."""
    from core import reports, scoring
    from core.cli import main
    from core.rules import params_for, run_check

    me = access.current()
    bc_view = View.of(me, "巴城镇", None)
    out: dict = {"params": (params_for("service.demand_response", "巴城镇")["max_days"],
                            params_for("train.staff", "巴城镇")["min_days"])}
    # the dashboard (its query), the visits screen (its queries)
    dash = dashboard.dashboard(bc_view, 2026)
    out["dashboard"] = (dash["demands"]["max_days"], dash["demands"]["count"])
    visit = next(r for r in visits.visit_rows(bc_view))
    out["visits"] = (visits.demand_days(bc_view), visit["deadline"], visit["overdue"],
                     visits.overdue_demands(bc_view, limit=0)["count"])
    # `dangjian check --explain` and the findings of `dangjian check`
    main(["check", "--explain", "service.demand_response", "--town", "巴城镇", "--format", "json"])
    info = json.loads(capsys.readouterr().out)
    out["explain"] = [(p["value"], p["origin"].split(" (")[0]) for p in info["params"]]
    findings = run_check(year=2026, town="巴城镇", rule_ids=["service.demand_response", "train.staff"],
                         store=False).findings
    ev = {x.rule: x.evidence for x in findings}
    out["check"] = (ev["service.demand_response"]["max_days"], ev["train.staff"]["required_days"])
    # `dangjian report training` and the worker appraisal
    table = reports.run_report("training", year=2026, town="巴城镇")
    out["report"] = table.records[0]["days_required"], table.records[0]["met"]
    result = scoring.run_scorer("worker-appraisal", year=2026, town="巴城镇")[0]
    out["score"] = [i["label"] for i in result.items if i["code"] == "demands_late"]
    # 玉山镇 is not touched
    out["玉山镇"] = (visits.demand_days(bc_view, "玉山镇"), params_for("train.staff", "玉山镇")["min_days"])
    return out


def _expected(max_days: int, min_days: int, origin: str) -> dict:
    """What is shown for 巴城镇 with these thresholds: the demand of 05-25 is 21 days old on
    06-15, the worker trained 7 days; 玉山镇 keeps the city's 15 and 5."""
    late = 21 > max_days
    return {"params": (max_days, min_days), "dashboard": ({"巴城镇": max_days}, int(late)),
            "visits": (max_days, dt.date(2026, 5, 25) + dt.timedelta(days=max_days), late, int(late)),
            "explain": [(max_days, origin)], "check": (max_days, min_days),
            "report": (str(min_days), 7 >= min_days),
            "score": [f"诉求超过 {max_days} 天未答复 1 件"] if late else [], "玉山镇": (15, 5)}


def test_a_town_plugin_then_a_town_config_change_every_threshold_shown(two_towns, capsys, monkeypatch, tmp_path):
    from core import config, plugins

    assert _what_is_shown(capsys, two_towns) == _expected(15, 5, "default")

    folder = tmp_path / "town_plugins"
    folder.mkdir()
    (folder / "bacheng_params.py").write_text(TOWN_PARAMS_PLUGIN, encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_PLUGIN_DIRS", str(folder))
    plugins.reset()
    plugins.load()
    assert _what_is_shown(capsys, two_towns) == _expected(20, 6, "town plugin bacheng_params")

    cfg = tmp_path / "city.toml"
    cfg.write_text(TOWN_CONFIG, encoding="utf-8")
    monkeypatch.setenv("DANGJIAN_CONFIG", str(cfg))
    config.load()
    plugins.reset()
    plugins.load()
    # the town config wins over the town plugin
    assert _what_is_shown(capsys, two_towns) == _expected(25, 8, "town config")


# ---------------------------------------------------------------- the old second homes are gone

def test_the_old_names_are_gone_not_kept_as_wrappers():
    import importlib
    import pkgutil

    import core.read
    from core import rules, scoring

    # the read side is core.read, one module per domain: the two modules by screen group are gone
    for name in ("core.queries", "core.ledger_queries"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(name)
    read = [importlib.import_module(f"core.read.{m.name}") for m in pkgutil.iter_modules(core.read.__path__)]
    gone = [(m, n) for m in read for n in ("latest_run", "_fallback_propose", "propose_dues", "last_run_id",
                                          "overdue_count", "org_subtree_ids", "as_view", "_view")]
    gone += [(scoring, "current_stored_run"),
             (scoring, "NO_RULE"), (rules, "find_run"), (rules, "last_run"), (rules, "store_run"),
             (rules, "_scope_label"), (rules, "on_roster"), (rules, "RELATIONSHIP_CLASSES"),
             (rules, "relationship_members"), (rules, "relationship_member_counts")]
    assert [f"{m.__name__}.{n}" for m, n in gone if hasattr(m, n)] == []


def test_no_screen_or_query_reads_rule_parameters_itself():
    """demand_days and the dashboard read no config of their own, swallow nothing: every
    threshold comes through core.rules.params_for (and its resolve_params)."""
    import re
    from pathlib import Path

    import core
    from core.read import meetings

    src = (inspect.getsource(visits.demand_days) + inspect.getsource(visits.overdue_demands)
           + inspect.getsource(meetings.meetings_due) + inspect.getsource(dashboard.dashboard))
    assert "config" not in src and "except Exception" not in src and "15" not in src
    root = Path(core.__file__).resolve().parent.parent
    reads = sorted(p.relative_to(root).as_posix() for p in (root / "core" / "read").glob("*.py"))
    assert "core/read/visits.py" in reads
    files = reads + ["core/scoring.py", "core/findings.py",
             "plugins/reports_default.py", "plugins/scorers_default.py", "plugins/rules_dues.py",
             "tui/screens/dashboard.py", "tui/screens/compliance.py", "tui/screens/dues.py"]
    for name in files:
        text = (root / name).read_text(encoding="utf-8")
        assert not re.search(r"(config\.get\(\)|cfg)\.rule_params\(", text), name
        assert not re.search(r"CheckRun\.(select|get|create)", text) or name == "core/findings.py", name
    rules_src = inspect.getsource(__import__("core.rules", fromlist=["x"]).resolve_params)
    assert "except" not in rules_src
    scoring_src = (root / "core/scoring.py").read_text(encoding="utf-8")
    assert "except Exception:\n" not in scoring_src.split("def scoring_params")[1].split("def ")[0]


def test_the_roster_conditions_live_only_in_core_roster():
    """No module but core/roster.py (and the write path, which sets them) spells the roster
    flag, the transfer-out date or the relationship classes in a query -- peewee or SQL."""
    import re
    from pathlib import Path

    import core

    root = Path(core.__file__).resolve().parent.parent
    allowed = {"core/roster.py", "core/models.py", "core/migrations.py", "core/demo.py", "core/enums.py",
               "core/records.py", "core/importing/engine.py", "core/validators.py", "core/kinds.py"}
    patterns = [r"Member\.active\b", r"\bMb\.active\b", r"\bm\.active\s*=", r"\bactive\s*=\s*\?",
                r"Member\.left_date\b", r"RELATIONSHIP_CLASSES\s*=",
                r"\(\s*['\"]resident['\"]\s*,\s*['\"]floating_out['\"]\s*\)", r"def on_roster\("]
    offenders = []
    for path in sorted(root.glob("*/**/*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] not in ("core", "plugins", "tui") or rel in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{rel}: {p}" for p in patterns if re.search(p, text)]
    assert offenders == []
