"""Funding: floor, allocated, gap and split per community; add an allocation (80x24)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core import models as m
from tests import factories as f
from tests.tui.ledger_fixtures import TODAY, open_screen, run, screen_text, settle, small_city


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    c = small_city()
    f.make_allocation(c["c1"], 2026, "15000", "town_finance", "2026-03-01")
    f.make_allocation(c["c2"], 2026, "5000", "city_finance", "2026-03-01")
    f.make_allocation(c["c2"], 2026, "9000", "donation", "2026-03-02")  # does not count
    return c


async def _t_floor_gap_split_and_new_allocation(city):
    from tui.screens.funding import FundingScreen
    from tui.widgets.form import FormScreen

    async with open_screen(FundingScreen()) as (app, pilot):
        screen = app.screen
        rows = {r["code"]: r for r in screen.rows}
        assert rows["KS001"]["floor"] == Decimal("15000.00") and rows["KS001"]["gap"] == 0
        assert rows["KS002"]["allocated"] == Decimal("5000.00") and rows["KS002"]["gap"] == Decimal("10000.00")
        assert rows["KS002"]["other"] == Decimal("9000.00")
        # 玉山镇: the built-in example splits 50/50
        assert rows["KS001"]["city_share"] == Decimal("7500.00")
        text = screen_text(app)
        assert "城南社区" in text and "10,000" in text and "未达下限 1 个" in text
        await pilot.press("down", "enter")
        await settle(pilot)
        assert "城南社区 2026年划拨" in screen_text(app)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#f-community").value == "KS002"
        form.query_one("#f-amount").value = "10000"
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        assert m.FundingAllocation.select().where(m.FundingAllocation.community == city["c2"]).count() == 3
        rows = {r["code"]: r for r in app.screen.rows}
        assert rows["KS002"]["gap"] == 0
        assert "未达下限 0 个" in screen_text(app)


def test_floor_gap_split_and_new_allocation(city):
    run(_t_floor_gap_split_and_new_allocation, city)
