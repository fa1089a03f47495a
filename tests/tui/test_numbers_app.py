"""Numbers in the app (80x24, by keys): a count with thousands separators (1,234), money with
separators and two decimals, right-aligned under its header (12,345.50) — the same text
``dangjian report funding`` prints."""
from __future__ import annotations

import datetime as dt

import pytest
from rich.cells import cell_len

from core import models as m
from tests import factories as f
from tests.tui.ledger_fixtures import TODAY, run, screen_text, settle, small_city

pytestmark = pytest.mark.timeout(180)

SERVICES = 1234


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    c = small_city()
    f.make_allocation(c["c1"], 2026, "12345.5", "town_finance", "2026-03-01")
    m.ServiceRecord.insert_many([{"community": c["c1"].id, "target_group": "elderly", "free": True,
                                  "date": dt.date(2026, 1, 1) + dt.timedelta(days=i % 150), "content": f"服务{i}"}
                                 for i in range(SERVICES)]).execute()
    return c


async def _menu(app, pilot, name: str) -> None:
    names = [n for n, _t in app.menu_entries()]
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press(*["down"] * names.index(name), "enter")
    await settle(pilot)


def _line(text: str, *words: str) -> str:
    return next(ln for ln in text.splitlines() if all(w in ln for w in words))


def _right_edge(line: str, word: str) -> int:
    """The terminal column just after ``word`` in ``line`` (Chinese counts 2)."""
    return cell_len(line[:line.index(word) + len(word)])


async def _t_counts_and_money_in_the_app(city):
    from core import kinds
    from tui.app import DangjianApp

    app = DangjianApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # 其他台账 → 服务记录: the count of records
        await _menu(app, pilot, "records")
        order = [k.name for k in kinds.all_kinds()]
        await pilot.press("home", *["down"] * order.index("services"), "enter")
        await settle(pilot)
        text = screen_text(app)
        assert f"服务记录：{SERVICES:,} 条" in text, text
        # 经费: the allocation in money's format, right-aligned under 已拨, the member count under 党员
        await _menu(app, pilot, "funding")
        text = screen_text(app)
        head, row = _line(text, "社区", "已拨", "其他"), _line(text, "城中社区")
        assert "12,345.50" in row, text
        assert _right_edge(row, "12,345.50") == _right_edge(head, "已拨"), text
        assert _right_edge(row, " 5 ") - 1 == _right_edge(head, "党员"), text  # 5 members, right-aligned
        # its allocations below: the same amount, right-aligned under 金额
        await pilot.press("enter")
        await settle(pilot)
        text = screen_text(app)
        assert _right_edge(_line(text, "2026-03-01"), "12,345.50") == _right_edge(_line(text, "日期", "金额"), "金额")
        assert "下限 15,000.00" in text, text
        # the funding report in the app: the same amount, right-aligned in its column
        await _menu(app, pilot, "report:funding")
        text = screen_text(app)
        head, row = _line(text, "社区名称", "已划拨"), _line(text, "城中社区")
        assert "12,345.50" in row and "15,000.00" in row, text
        assert _right_edge(row, "12,345.50") == _right_edge(head, "已划拨"), text
        assert _right_edge(row, "15,000.00") == _right_edge(head, "保障标准"), text
    return text


def test_counts_and_money_in_the_app(city, capsys):
    run(_t_counts_and_money_in_the_app, city)
    from core.cli import main

    capsys.readouterr()
    assert main(["report", "funding", "--year", "2026"]) == 0
    out = capsys.readouterr().out
    assert "12,345.50" in _line(out, "城中社区")  # what the app shows is what the report prints
