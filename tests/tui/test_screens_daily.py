"""Daily use of the screens: changes show on every screen you return to, lists follow the year,
cut text ends in "…", the scope tree and the palette reach the whole scope, help and start-up."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.tui.helpers import aio, make_app, screen_text, settle

pytestmark = pytest.mark.timeout(90)


# ---------------------------------------------------------------- changes reach every screen


@aio
async def test_meetings_list_shows_saved_attendance_on_return(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_screen("meetings", reset=True)
        await settle(pilot)
        assert "学习" in screen_text(app)
        await pilot.press("enter")  # the attendance sheet of the one meeting
        await settle(pilot)
        assert type(app.screen).__name__ == "AttendanceScreen"
        await pilot.press("a", "ctrl+s")  # everybody present, save
        await settle(pilot, 5)
        await pilot.press("escape")
        await settle(pilot, 5)
        assert type(app.screen).__name__ == "MeetingsScreen"
        row = next(line for line in screen_text(app).splitlines() if "学习" in line)
        present = int(row.split()[-3])
        assert present > 1, row  # not the 1 present read before the save, without F5


@aio
async def test_dashboard_shows_a_check_run_elsewhere_and_marks_later_changes(tui_db):
    from core import models as m
    from core import records

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "尚未运行检查" in screen_text(app)
        app.open_screen("compliance", reset=True)
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot, 6)
        await pilot.press("f6")
        await settle(pilot, 5)
        text = screen_text(app)
        assert "尚未运行检查" not in text and "合规检查（" in text
        assert "记录在检查后有改动" not in text
        # a record changes after the run (a save from a screen): the dashboard says so on return
        app.open_screen("visits", reset=True)
        await settle(pilot)
        visit = m.Visit.get()

        app.screen.run_db(lambda: records.update(m.Visit, visit.id, {"answered_date": dt.date(2026, 6, 14)},
                                                 visit.version), group="save")
        await settle(pilot, 5)
        await pilot.press("f6")
        await settle(pilot, 5)
        assert "记录在检查后有改动" in screen_text(app)


# ---------------------------------------------------------------- lists follow the year


@aio
async def test_visits_follow_the_year(tui_db):
    from core import models as m
    from core.db import write_tx

    with write_tx():
        m.Visit.create(community=tui_db["c1"], kind="reception", date=dt.date(2025, 5, 2), demand="去年的诉求")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_screen("visits", reset=True)
        await settle(pilot)
        text = screen_text(app)
        assert "楼道灯坏了" in text and "去年的诉求" not in text and "2026年" in text
        await pilot.press("f7")
        await settle(pilot)
        text = screen_text(app)
        assert "去年的诉求" in text and "楼道灯坏了" not in text
        assert "2025年接访走访 1 条" in text


# ---------------------------------------------------------------- cut text


@aio
async def test_cut_cells_end_in_ellipsis_and_v_shows_the_row(tui_db):
    from core import models as m
    from core.db import write_tx

    long = "小区东门外的路灯已经坏了三个月，晚上出行很不方便，希望尽快修好并定期检查"
    with write_tx():
        m.Visit.create(community=tui_db["c1"], kind="reception", date=dt.date(2026, 5, 2), demand=long)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_screen("visits", reset=True)
        await settle(pilot)
        line = next(x for x in screen_text(app).splitlines() if "小区东门" in x)
        assert "…" in line and long not in line
        await pilot.press("v")
        await settle(pilot)
        assert type(app.screen).__name__ == "RowDetail"
        assert "希望尽快修好并定期检查" in screen_text(app).replace("\n", "").replace(" ", "").replace("│", "")


@aio
async def test_top_bar_keeps_year_and_scope_with_a_long_title(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_screen("report:orglife", reset=True)
        await settle(pilot, 5)
        top = screen_text(app).splitlines()[0]
        assert "2026年" in top and "全市" in top


@aio
async def test_report_scrolls_sideways_to_december(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_screen("report:orglife", reset=True)
        await settle(pilot, 5)
        assert "12月" not in screen_text(app)
        for _ in range(14):
            await pilot.press("right")
        await settle(pilot)
        assert "12月" in screen_text(app)


# ---------------------------------------------------------------- scope tree, palette


@aio
async def test_scope_tree_groups_communities_under_their_town_and_filters(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        lines = screen_text(app).splitlines()
        town = next(i for i, x in enumerate(lines) if "巴城镇" in x)
        assert "湖滨社区" in lines[town + 1]  # under its own town
        await pilot.press(*"城东")
        await settle(pilot)
        text = screen_text(app)
        assert "城东社区" in text and "湖滨社区" not in text
        await pilot.press(*"zzz")
        await settle(pilot)
        assert "无匹配" in screen_text(app)


@aio
async def test_palette_jumps_outside_the_current_scope_and_speaks_chinese(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.set_scope("玉山镇", "KS001")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"湖滨")
        await settle(pilot, 5)
        await pilot.pause(0.5)
        text = screen_text(app)
        assert "湖滨社区" in text
        await pilot.press("enter")
        await settle(pilot, 5)
        assert app.community == "BC001"
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"qqqqqq")
        await pilot.pause(1.0)
        await settle(pilot)
        text = screen_text(app)
        assert "无匹配" in text and "No matches" not in text


@aio
async def test_dues_branch_chooser_is_a_filtered_tree(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_screen("dues", reset=True)
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert type(app.screen).__name__ == "TreePicker"
        await pilot.press(*"湖滨", "enter")
        await settle(pilot, 5)
        assert type(app.screen).__name__ == "DuesScreen"
        assert "湖滨支部" in screen_text(app)


# ---------------------------------------------------------------- empty database, start-up, help


@aio
async def test_empty_database_says_what_to_do(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", "2026-06-15")
    from core import config, plugins

    config.load(None)
    plugins.load()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "dangjian demo" in text and "import communities" in text


@aio
async def test_start_notice_once_per_database(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert any("单用户模式" in n.message for n in app._notifications)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not any("单用户模式" in n.message for n in app._notifications)
        assert "单用户模式" in screen_text(app).splitlines()[0]  # the top bar still says so


@aio
async def test_question_mark_opens_grouped_help_but_types_in_inputs(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"
        text = str(app.screen.query_one("#help-text").render())
        assert text.index("本页按键") < text.index("全局按键")
        assert text.index("运行检查") < text.index("上一年")
        if "通用按键" in text:
            assert text.index("全局按键") < text.index("通用按键")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        from textual.widgets import Input

        app.screen.query_one(Input).focus()
        await pilot.press("question_mark")
        await settle(pilot)
        assert type(app.screen).__name__ == "MembersScreen"


@aio
async def test_plugin_failure_shows_a_red_banner(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(0.6)  # the plugins load 0.3 s after the first paint, in a worker
        await settle(pilot)
        app.set_plugin_problems([("bacheng", "ImportError: no module")])
        await settle(pilot)
        text = screen_text(app)
        assert "插件出错" in text.splitlines()[0]
        assert "bacheng" in text


@aio
async def test_a_score_row_lists_its_items_once_and_no_json(tui_db):
    """Enter on a row of a scorer's screen: the row's columns in words, then the items once
    (not the 明细 column again, not the record as JSON)."""
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        app.open_screen("scorer:member-points", reset=True)
        for _ in range(20):
            await pilot.pause(0.3)
            if getattr(app.screen, "data", None):
                break
        screen = app.screen
        assert screen.data and screen.data["rows"], screen_text(app)
        screen._open(None, 0)
        await settle(pilot)
        assert type(app.screen).__name__ == "RowDetail"
        text = app.screen.text
        assert text.count("明细") == 1 and "{" not in text and "得分：" in text, text
