"""Visits and demands: open demands past the deadline highlighted; answer one in the form."""
from __future__ import annotations

import datetime as dt

import pytest

from core import models as m
from tests import factories as f
from tests.tui.ledger_fixtures import TODAY, open_screen, run, screen_text, settle, small_city


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    c = small_city()
    c1 = c["c1"]
    # 2026-06-15 today, 15-day limit: a demand of 05-31 is due 06-15 (not late), 05-30 is late
    f.make_visit(c1, "reception", "2026-05-30", demand="路灯不亮", staff=c["w1"])
    f.make_visit(c1, "reception", "2026-05-31", demand="垃圾清运")
    f.make_visit(c1, "home_visit", "2026-05-01", demand="加装电梯", answered_date="2026-05-10")
    f.make_visit(c1, "home_visit", "2026-06-01")
    return c


def _line_with(app, needle):
    for strip in app.screen._compositor.render_strips():
        text = "".join(seg.text for seg in strip)
        if needle in text:
            return strip
    raise AssertionError(f"{needle!r} not on screen")


async def _t_overdue_highlighted(city):
    from tui.screens.visits import VisitsScreen

    async with open_screen(VisitsScreen()) as (app, pilot):
        text = screen_text(app)
        assert "路灯不亮" in text and "垃圾清运" in text and "加装电梯" in text
        assert "逾期 1 条" in text
        late = _line_with(app, "路灯不亮")
        assert "逾期未办" in "".join(s.text for s in late)
        late_style = next(seg.style for seg in late if "路灯" in seg.text)
        ok = _line_with(app, "垃圾清运")
        assert "办理中" in "".join(s.text for s in ok)
        ok_style = next(seg.style for seg in ok if "垃圾" in seg.text)
        assert late_style.bold and not ok_style.bold  # highlighted: bold red
        assert late_style.color != ok_style.color
        assert late_style.color.triplet.red > 200 and late_style.color.triplet.green < 100
        # only open demands
        await pilot.press("ctrl+o")
        await settle(pilot)
        text = screen_text(app)
        assert "加装电梯" not in text and "路灯不亮" in text


async def _t_answer_a_demand(city):
    from tui.screens.visits import VisitsScreen
    from tui.widgets.form import FormScreen

    async with open_screen(VisitsScreen(open_only=True)) as (app, pilot):
        # newest first: 垃圾清运 (05-31) then 路灯不亮 (05-30)
        await pilot.press("down", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#f-demand").value == "路灯不亮"
        form.query_one("#f-answered_date").value = "2026-05-29"  # before the visit: refused
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        assert "早于日期" in screen_text(app)
        assert m.Visit.get(m.Visit.demand == "路灯不亮").answered_date is None
        form.query_one("#f-answered_date").value = "2026-06-14"
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, VisitsScreen)
        assert m.Visit.get(m.Visit.demand == "路灯不亮").answered_date == dt.date(2026, 6, 14)
        text = screen_text(app)
        assert "路灯不亮" not in text and "逾期 0 条" in text


def test_overdue_highlighted(city):
    run(_t_overdue_highlighted, city)


def test_answer_a_demand(city):
    run(_t_answer_a_demand, city)
