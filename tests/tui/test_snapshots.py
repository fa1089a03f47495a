"""Snapshot tests of the main screens in Chinese at 80x24 (pytest-textual-snapshot).

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
