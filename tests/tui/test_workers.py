"""Workers screen: list, a worker's trainings, add a training through the form (80x24)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from core import models as m
from tests.tui.ledger_fixtures import TODAY, run, open_screen, screen_text, settle, small_city


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    return small_city()


async def _t_add_training(city):
    from tui.screens.workers import WorkersScreen
    from tui.widgets.form import FormScreen

    async with open_screen(WorkersScreen()) as (app, pilot):
        text = screen_text(app)
        assert "赵敏" in text and "孙丽" in text
        assert "党组织书记" in text
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert "新增培训：赵敏" in screen_text(app)
        # keyboard only: the title has the focus (the worker is fixed)
        await pilot.press(*"dangke")
        assert form.query_one("#f-title").value == "dangke"
        form.query_one("#f-title").value = "社区书记示范培训"  # Chinese comes from the IME
        await pilot.press("tab", "enter")  # open the level list
        await pilot.pause()
        await pilot.press("down", "enter")  # the first level: 市级及以上
        await pilot.pause()
        assert form.query_one("#f-level").value == "city"
        await pilot.press("tab", "ctrl+a")
        form.query_one("#f-start_date").value = ""
        await pilot.press(*"2026-05-10", "tab", *"3")
        assert form.query_one("#f-start_date").value == "2026-05-10"
        assert form.query_one("#f-days").value == "3"
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        t = m.Training.get(m.Training.title == "社区书记示范培训")
        assert t.worker_id == city["w1"].id and t.level == "city" and t.days == Decimal("3.0")
        assert t.start_date == dt.date(2026, 5, 10)
        text = screen_text(app)
        assert "社区书记示范培训" in text
        assert "市级及以上" in text
        # an audit row was written by core.records
        assert m.AuditLog.select().where((m.AuditLog.table == "training") & (m.AuditLog.action == "create")).count() == 1


async def _t_bad_days_shows_error_beside_field_and_writes_nothing(city):
    from tui.screens.workers import WorkersScreen
    from tui.widgets.form import FormScreen

    async with open_screen(WorkersScreen()) as (app, pilot):
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        form.query_one("#f-title").value = "错误天数"
        form.query_one("#f-level").value = "town"
        form.query_one("#f-start_date").value = "2026-05-10"
        form.query_one("#f-days").value = "-2"
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        err = str(form.query_one("#err-days").render())
        assert "应大于0" in err
        # beside the field: the error shares the row of the days input
        assert form.query_one("#err-days").region.y == form.query_one("#f-days").region.y
        assert "应大于0" in screen_text(app)
        assert m.Training.select().count() == 0
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)


async def _t_search_by_initials_and_masking(city):
    from core import access
    from tui.screens.workers import WorkersScreen

    access.set_current(access.Principal("staff", "town", "玉山镇", False, False))
    async with open_screen(WorkersScreen()) as (app, pilot):
        text = screen_text(app)
        assert city["w1"].id_number not in text  # masked
        assert city["w1"].id_number[:6] in text
        app.screen.query_one("#workers-search").value = "sl"
        await settle(pilot)
        text = screen_text(app)
        assert "孙丽" in text and "赵敏" not in text


def test_add_training(city):
    run(_t_add_training, city)


def test_bad_days_shows_error_beside_field_and_writes_nothing(city):
    run(_t_bad_days_shows_error_beside_field_and_writes_nothing, city)


def test_search_by_initials_and_masking(city):
    run(_t_search_by_initials_and_masking, city)
