"""Record forms: create an 'other' record, bad values shown beside the field with nothing
written, delete asks for confirmation, a stale edit is reported and overwrites nothing,
masked ID numbers survive an edit (80x24)."""
from __future__ import annotations

import datetime as dt

import pytest

from core import models as m
from tests import factories as f
from tests.tui.ledger_fixtures import TODAY, open_screen, run, screen_text, settle, small_city


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    return small_city()


async def _t_create_service_record(city):
    from tui.screens.records import RecordsScreen
    from tui.widgets.form import FormScreen

    async with open_screen(RecordsScreen(kind="services")) as (app, pilot):
        assert "没有记录" in screen_text(app)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        await pilot.press(*"KS001")  # the first field (community code) has the focus
        form.query_one("#f-target_group").value = "needy"
        form.query_one("#f-date").value = "2026-06-01"
        form.query_one("#f-content").value = "上门送药"
        form.query_one("#f-free").value = "0"  # 否: low-cost
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        s = m.ServiceRecord.get()
        assert s.community_id == city["c1"].id and s.target_group == "needy" and s.content == "上门送药"
        assert s.free is False
        assert "上门送药" in screen_text(app)


async def _t_bad_values_beside_fields_nothing_written(city):
    from tui.widgets.form import FormScreen

    async with open_screen(FormScreen("evaluations")) as (app, pilot):
        form = app.screen
        form.query_one("#f-member").value = "320583198001011234"  # bad checksum
        form.query_one("#f-year").value = "20x6"
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        err_member = str(form.query_one("#err-member").render())
        err_year = str(form.query_one("#err-year").render())
        assert "校验位" in err_member
        assert "不是整数" in err_year
        assert form.query_one("#err-year").region.y == form.query_one("#f-year").region.y
        assert "必填" in str(form.query_one("#err-result").render())
        text = screen_text(app)
        assert "校验位" in text and "不是整数" in text
        assert m.Evaluation.select().count() == 0
        assert m.AuditLog.select().count() == 0


async def _t_delete_asks_for_confirmation(city):
    from tui.screens.records import RecordsScreen
    from tui.widgets.confirm import ConfirmDialog

    m.ServiceRecord.create(community=city["c1"], target_group="residents", date=dt.date(2026, 5, 1), content="义诊")
    async with open_screen(RecordsScreen(kind="services")) as (app, pilot):
        await pilot.press("ctrl+l", "ctrl+d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "义诊" in screen_text(app)
        await pilot.press("enter")  # the focus is on "no": a stray Enter deletes nothing
        await settle(pilot)
        assert m.ServiceRecord.select().count() == 1
        await pilot.press("ctrl+d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert m.ServiceRecord.select().count() == 0
        assert m.AuditLog.select().where(m.AuditLog.action == "delete").count() == 1
        assert "义诊" not in screen_text(app)


async def _t_stale_edit_reported_not_overwritten(city):
    from core import records
    from tui.widgets.form import FormScreen

    v = f.make_visit(city["c1"], "reception", "2026-06-01", demand="修路")
    async with open_screen(FormScreen("visits", v.id)) as (app, pilot):
        form = app.screen
        assert form.query_one("#f-demand").value == "修路"
        # someone else answers the demand meanwhile
        records.update(m.Visit, v.id, {"answered_date": dt.date(2026, 6, 3)}, 1)
        form.query_one("#f-answered_date").value = "2026-06-05"
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen)
        stale = str(form.query_one("#form-stale").render())
        assert "已被他人修改" in stale
        assert "2026-06-05" in stale and "2026-06-03" in stale  # both values
        assert "已被他人修改" in screen_text(app)
        got = m.Visit.get_by_id(v.id)
        assert got.answered_date == dt.date(2026, 6, 3) and got.version == 2
        # reload takes the current values; saving then works
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert form.query_one("#f-answered_date").value == "2026-06-03"
        form.query_one("#f-closed_date").value = "2026-06-10"
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        got = m.Visit.get_by_id(v.id)
        assert got.closed_date == dt.date(2026, 6, 10) and got.answered_date == dt.date(2026, 6, 3)


async def _t_masked_id_kept_on_edit(city):
    from core import access
    from tui.widgets.form import FormScreen

    access.set_current(access.Principal("staff", "community", "KS001", False, False))
    member = city["members"][0]
    async with open_screen(FormScreen("members", member.id)) as (app, pilot):
        form = app.screen
        shown = form.query_one("#f-id_number").value
        assert "*" in shown and shown != member.id_number
        assert member.id_number not in screen_text(app)
        form.query_one("#f-work_unit").value = "昆山某公司"
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), form.last_result
        got = m.Member.get_by_id(member.id)
        assert got.id_number == member.id_number and got.work_unit == "昆山某公司"


def test_create_service_record(city):
    run(_t_create_service_record, city)


def test_bad_values_beside_fields_nothing_written(city):
    run(_t_bad_values_beside_fields_nothing_written, city)


def test_delete_asks_for_confirmation(city):
    run(_t_delete_asks_for_confirmation, city)


def test_stale_edit_reported_not_overwritten(city):
    run(_t_stale_edit_reported_not_overwritten, city)


def test_masked_id_kept_on_edit(city):
    run(_t_masked_id_kept_on_edit, city)


async def _t_stale_edit_masks_the_other_users_phone(city):
    """A masked user's conflict message shows both phones masked (138****5678), never in full."""
    from core import access, records
    from tui.widgets.form import FormScreen

    access.set_current(access.Principal("staff", "community", "KS001", False, False))
    member = city["members"][0]
    m.Member.update(phone="13700000000").where(m.Member.id == member.id).execute()
    async with open_screen(FormScreen("members", member.id)) as (app, pilot):
        form = app.screen
        assert form.query_one("#f-phone").value == "137****0000"  # first 3 and last 4 digits
        version = m.Member.get_by_id(member.id).version
        records.update(m.Member, member.id, {"phone": "13912345678"}, version)
        form.query_one("#f-phone").value = "13811112222"
        await pilot.press("f10")
        await settle(pilot)
        stale = str(form.query_one("#form-stale").render())
        assert "已被他人修改" in stale
        assert "13912345678" not in stale and "13811112222" not in stale
        assert "139****5678" in stale and "138****2222" in stale
        assert "13912345678" not in screen_text(app)


def test_stale_edit_masks_the_other_users_phone(city):
    run(_t_stale_edit_masks_the_other_users_phone, city)
