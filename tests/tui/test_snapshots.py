"""Snapshot tests of the main screens in Chinese at 80x24, and 120x40 where the layout widens (pytest-textual-snapshot).

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""
from __future__ import annotations

import pytest

from tests.tui.helpers import make_app, settle

pytestmark = pytest.mark.timeout(120)
SIZE = (80, 24)


def _app():
    app = make_app()
    app.NOTIFICATION_TIMEOUT = 0.01  # keep toasts out of the pictures
    return app


async def _clear(pilot):
    await settle(pilot)
    pilot.app.clear_notifications()
    await settle(pilot)


def test_dashboard(tui_db, snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_clear)


def test_members(tui_db, snap_compare):
    async def go(pilot):
        await _clear(pilot)
        await pilot.press("f3")
        await settle(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=go)


def test_members_search_initials(tui_db, snap_compare):
    async def go(pilot):
        await _clear(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press(*"zw")
        await settle(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=go)


def test_member_page(tui_db, snap_compare):
    async def go(pilot):
        await _clear(pilot)
        pilot.app.open_member(tui_db["members"][0])
        await settle(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=go)


def test_org_tree(tui_db, snap_compare):
    async def go(pilot):
        await _clear(pilot)
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("ctrl+e")
        await settle(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=go)


def test_help(tui_db, snap_compare):
    async def go(pilot):
        await _clear(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=go)


WIDE = (120, 40)


def _open(name, *keys, rounds: int = 3):
    async def go(pilot):
        await _clear(pilot)
        pilot.app.open_screen(name, reset=True)
        await settle(pilot, rounds)
        if keys:
            await pilot.press(*keys)
            await settle(pilot, 6)
        pilot.app.clear_notifications()
        await settle(pilot)

    return go


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["80x24", "120x40"])
def test_compliance_matrix(tui_db, snap_compare, size):
    import datetime as dt

    from core import models as m

    async def go(pilot):
        await _open("compliance", "ctrl+r")(pilot)
        m.CheckRun.update(started_at=dt.datetime(2026, 6, 15, 9, 30)).execute()  # a fixed time in the picture
        await pilot.press("f5")
        await settle(pilot, 4)

    assert snap_compare(_app(), terminal_size=size, run_before=go)


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["80x24", "120x40"])
def test_visits(tui_db, snap_compare, size):
    assert snap_compare(_app(), terminal_size=size, run_before=_open("visits"))


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["80x24", "120x40"])
def test_orglife_report(tui_db, snap_compare, size):
    assert snap_compare(_app(), terminal_size=size, run_before=_open("report:orglife", rounds=6))


def test_dashboard_wide(tui_db, snap_compare):
    assert snap_compare(_app(), terminal_size=WIDE, run_before=_clear)


def test_scope_tree(tui_db, snap_compare):
    async def go(pilot):
        await _clear(pilot)
        await pilot.press("f9")
        await settle(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=go)
