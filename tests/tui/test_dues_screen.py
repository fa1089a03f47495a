"""Dues grid: mark a whole month paid with the calculator's proposals; mark one cell;
open a payment; delete asks for confirmation (80x24)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import models as m
from tests.tui.ledger_fixtures import TODAY, open_screen, run, screen_text, settle, small_city


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    return small_city()


async def _t_mark_month_with_proposals(city):
    from tui.screens.dues import DuesScreen

    async with open_screen(DuesScreen()) as (app, pilot):
        screen = app.screen
        text = screen_text(app)
        assert "城中第一支部" in text
        for name in ("张伟", "王芳", "陈静"):
            assert name in text
        assert "10.00" in text and "40.00" in text  # 2000 x 0.5 %, 4000 x 1 %
        # the cursor starts on the current month (June)
        assert screen._cell()[1] == "2026-06"
        await pilot.press("left")  # May
        assert screen._cell()[1] == "2026-05"
        await pilot.press("w")
        await settle(pilot)
        pays = list(m.DuesPayment.select().where(m.DuesPayment.month == "2026-05"))
        assert len(pays) == 5
        by_name = {p.member.name: p for p in pays}
        assert by_name["张伟"].due == Decimal("10.00") and by_name["张伟"].paid == Decimal("10.00")
        assert by_name["王芳"].due == Decimal("40.00") and by_name["王芳"].paid == Decimal("40.00")
        assert all(p.paid_date == dt.date(2026, 6, 15) for p in pays)
        assert m.AuditLog.select().where(m.AuditLog.table == "dues_payment").count() == 5
        # a second "w" on the same month changes nothing
        await pilot.press("w")
        await settle(pilot)
        assert m.DuesPayment.select().count() == 5
        # one cell: June for the highlighted member
        await pilot.press("right", "p")
        await settle(pilot)
        june = list(m.DuesPayment.select().where(m.DuesPayment.month == "2026-06"))
        assert len(june) == 1
        assert "已" in screen_text(app)


async def _t_delete_payment_asks_first(city):
    from tui.screens.dues import DuesScreen
    from tui.widgets.confirm import ConfirmDialog

    members = sorted(city["members"], key=lambda x: x.name)
    first = members[0]
    m.DuesPayment.create(member=first, month="2026-06", due=Decimal("40"), paid=Decimal("40"),
                         paid_date=dt.date(2026, 6, 1))
    async with open_screen(DuesScreen()) as (app, pilot):
        screen = app.screen
        assert screen._cell()[0]["id"] == first.id and screen._cell()[1] == "2026-06"
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert m.DuesPayment.select().count() == 1
        await pilot.press("ctrl+d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert m.DuesPayment.select().count() == 0


def test_mark_month_with_proposals(city):
    run(_t_mark_month_with_proposals, city)


def test_delete_payment_asks_first(city):
    run(_t_delete_payment_asks_first, city)
