"""Compliance: rules x communities; drill from a failing cell to its findings, to the
record behind a finding (opened in the form) and to the clause text (80x24)."""
from __future__ import annotations

import pytest

from core import models as m
from tests.tui.ledger_fixtures import TODAY, open_screen, run, screen_text, settle, small_city


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    return small_city()


async def _t_drill_to_record_and_clause(city):
    from core import rules
    from tui.screens.compliance import ComplianceScreen, FindingDetailScreen, FindingsScreen
    from tui.widgets.form import FormScreen

    result = rules.run_check(year=2025)  # a year that has ended: yearly quotas fail, not warn
    assert result.run_id
    async with open_screen(ComplianceScreen(), year=2025) as (app, pilot):
        screen = app.screen
        text = screen_text(app)
        assert "城中社" in text and "城南社" in text
        assert "不符" in text
        matrix = screen.matrix
        rules_order = [r["rule"] for r in matrix["rules"]]
        comms = [c["code"] for c in matrix["communities"]]
        row, col = rules_order.index("train.staff"), comms.index("KS002") + 1
        assert matrix["colour"][("train.staff", "KS002")] == "red"
        grid = screen.query_one("#comp-grid")
        grid.cursor_coordinate = (row, col)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FindingsScreen)
        for _ in range(30):  # the list (with names looked up) loads in a worker
            if "孙丽" in screen_text(app):
                break
            await pilot.pause(0.2)
        text = screen_text(app)
        assert "第7条" in text and "不符合" in text
        import re

        assert re.search(r"孙丽 \d{6}\*{8}", text), text  # the person by name beside the masked number
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, FindingDetailScreen)
        text = screen_text(app)
        assert "孙丽" in text  # the worker behind the finding
        assert city["w2"].id_number not in text or app.principal.full_personal_data
        clause = str(detail.query_one("#fd-clause").render())
        assert "条款原文" in clause and "社区工作者培训" in clause
        # the evidence as labelled lines in words, not JSON
        evidence = clause.split("条款原文")[0]
        assert "依据：" in evidence and "{" not in evidence and "：" in evidence.split("依据：", 1)[1], evidence
        await pilot.press("ctrl+k")  # the clause text scrolls into view
        await pilot.press("enter")  # Enter on the records list
        await pilot.press("ctrl+l", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.kind == "workers" and form.record_id == city["w2"].id
        assert form.query_one("#f-name").value == "孙丽"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is detail


async def _t_no_run_yet_then_recheck(city):
    from tui.screens.compliance import ComplianceScreen

    async with open_screen(ComplianceScreen()) as (app, pilot):
        assert "尚无检查结果" in screen_text(app)
        await pilot.press("ctrl+r")
        await settle(pilot, rounds=8)
        assert m.CheckRun.select().count() == 1
        text = screen_text(app)
        assert "不符" in text and "检查时间" in text


def test_drill_to_record_and_clause(city):
    run(_t_drill_to_record_and_clause, city)


def test_no_run_yet_then_recheck(city):
    run(_t_no_run_yet_then_recheck, city)


async def _t_cut_text_ends_in_ellipsis_and_shows_whole(city):
    from core import Rule, plugins, rules
    from tui.screens.compliance import ComplianceScreen, FindingDetailScreen, FindingsScreen

    long = "这条说明很长：" + "、".join(f"第{i}项记录需要补充" for i in range(1, 12)) + "。全文到此"

    def wordy(ctx):
        for c in ctx.communities:
            yield ctx.finding(c.code, "fail", long, {"n": 1}, community=c)
    plugins.get().registry.add_rule(Rule("zz.wordy", 5, "说明很长的规则", "wordy rule", wordy), "tests")
    rules.run_check(year=2025)
    async with open_screen(ComplianceScreen(), year=2025) as (app, pilot):
        screen = app.screen
        rules_order = [r["rule"] for r in screen.matrix["rules"]]
        screen.query_one("#comp-grid").cursor_coordinate = (rules_order.index("zz.wordy"), 1)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FindingsScreen)
        for _ in range(30):
            if "这条说明很长" in screen_text(app):
                break
            await pilot.pause(0.2)
        line = next(x for x in screen_text(app).splitlines() if "这条说明很长" in x)
        assert line.rstrip().endswith("…") and "全文到此" not in line, line
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FindingDetailScreen)
        assert "全文到此" in screen_text(app).replace("\n", "")


def test_cut_text_ends_in_ellipsis_and_shows_whole(city):
    run(_t_cut_text_ends_in_ellipsis_and_shows_whole, city)


async def _t_a_wide_view_by_town(city, monkeypatch):
    """More communities than a grid can show: one column per town, its communities' counts added
    up; Enter on a town shows its communities, Esc goes back up to the towns, Esc again back."""
    from core import rules
    from core.read import compliance
    from tests import factories as f
    from tui.screens.compliance import ComplianceScreen, FindingsScreen

    f.make_community("BC001", town="巴城镇", name="湖滨社区")
    monkeypatch.setattr(compliance, "GRID_MAX_COMMUNITIES", 2)
    rules.run_check(year=2025)
    async with open_screen(ComplianceScreen(), year=2025) as (app, pilot):
        screen = app.screen
        grid = screen.grid
        assert grid["by_town"] and [c["code"] for c in grid["communities"] if c["kind"] == "town"] == ["#巴城镇",
                                                                                                     "#玉山镇"]
        text = screen_text(app)
        assert "3个社区按区镇汇总" in text and "玉山镇" in text and "城中社" not in text
        matrix = screen.matrix
        for r in matrix["rules"]:  # a town's cell: its communities' counts added up
            want: dict = {}
            for code in ("KS001", "KS002"):
                for st, n in matrix["cells"].get((r["rule"], code), {}).items():
                    want[st] = want.get(st, 0) + n
            assert grid["cells"].get((r["rule"], "#玉山镇"), {}) == want, r["rule"]
        row = [r["rule"] for r in grid["rules"]].index("train.staff")
        col = [c["code"] for c in grid["communities"]].index("#玉山镇") + 1
        table = screen.query_one("#comp-grid")
        table.cursor_coordinate = (row, col)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen and screen.town == "玉山镇"
        text = screen_text(app)
        assert "城中社" in text and "城南社" in text and "湖滨" not in text and "Esc 返回各区镇" in text
        assert table.cursor_coordinate.row == row
        await pilot.press("right", "enter")  # a community's cell opens its findings, as before
        await settle(pilot)
        assert isinstance(app.screen, FindingsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.town == "玉山镇"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.town is None and "城中社" not in screen_text(app)
        assert table.cursor_coordinate == (row, col)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is not screen


def test_a_wide_view_by_town(city, monkeypatch):
    run(_t_a_wide_view_by_town, city, monkeypatch)
