"""Meetings: create one through the form, then mark attendance for the whole branch in a
few keys (all present, one on leave with a reason, one absent) at 80x24."""
from __future__ import annotations

import datetime as dt

import pytest

from core import models as m
from tests.tui.ledger_fixtures import TODAY, open_screen, run, screen_text, settle, small_city


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    return small_city()


async def _t_create_meeting_and_mark_attendance(city):
    from tui.screens.meetings import AttendanceScreen, MeetingsScreen, ReasonDialog
    from tui.widgets.form import FormScreen

    async with open_screen(MeetingsScreen()) as (app, pilot):
        assert "没有会议" in screen_text(app)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#f-organization").value = "ZB01"
        form.query_one("#f-type").value = "assembly"
        form.query_one("#f-date").value = "2026-06-10"
        form.query_one("#f-topic").value = "学习党章"
        await pilot.press("f10")
        await settle(pilot)
        sheet = app.screen
        assert isinstance(sheet, AttendanceScreen)
        meeting = m.Meeting.get(m.Meeting.topic == "学习党章")
        assert meeting.type == "assembly" and meeting.date == dt.date(2026, 6, 10)
        text = screen_text(app)
        for name in ("张伟", "王芳", "李娜", "刘洋", "陈静"):  # branch and its group
            assert name in text
        assert "未登记 5" in text
        order = [r["name"] for r in sheet.rows]
        await pilot.press("a")  # everybody present
        await pilot.press("down")
        await pilot.press("l")  # second member on leave: asks the reason
        await settle(pilot)
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press(*"chuchai")  # typed keys reach the input
        app.screen.query_one("#reason-input").value = "出差"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is sheet
        await pilot.press("down", "x")  # third member absent
        text = screen_text(app)
        assert "出席 3  请假 1  缺席 1" in text
        assert "出差" in text
        await pilot.press("ctrl+s")
        await settle(pilot)
        rows = {a.member.name: a for a in m.Attendance.select().where(m.Attendance.meeting == meeting)}
        assert len(rows) == 5
        assert rows[order[1]].status == "leave" and rows[order[1]].leave_reason == "出差"
        assert rows[order[2]].status == "absent" and rows[order[2]].leave_reason is None
        assert sorted(r.status for r in rows.values()) == ["absent", "leave", "present", "present", "present"]
        assert m.AuditLog.select().where(m.AuditLog.table == "attendance").count() == 5
        assert "未保存" not in screen_text(app)
        # back to the list: the counts are there
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MeetingsScreen)
        text = screen_text(app)
        assert "党员大会" in text and "学习党章" in text


async def _t_leave_without_reason_is_not_set(city):
    from tui.screens.meetings import AttendanceScreen, ReasonDialog

    mt = m.Meeting.create(code="M1", organization=city["branch"], type="lecture", date=dt.date(2026, 6, 1))
    async with open_screen(AttendanceScreen(mt.id)) as (app, pilot):
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press("enter")  # empty reason: refused
        await settle(pilot)
        assert "请假须填写事由" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AttendanceScreen)
        assert app.screen.rows[0]["status"] is None
        assert m.Attendance.select().count() == 0


async def _t_change_saved_sheet_updates_rows(city):
    from tui.screens.meetings import AttendanceScreen
    from tui.widgets.confirm import ConfirmDialog

    mt = m.Meeting.create(code="M2", organization=city["branch"], type="assembly", date=dt.date(2026, 6, 2))
    for mb in city["members"]:
        m.Attendance.create(meeting=mt, member=mb, status="present")
    async with open_screen(AttendanceScreen(mt.id)) as (app, pilot):
        sheet = app.screen
        assert "出席 5" in screen_text(app)
        first = sheet.rows[0]["member_id"]
        await pilot.press("x")
        assert "缺席 1" in screen_text(app)
        await pilot.press("escape")  # unsaved: asks first
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert m.Attendance.select().count() == 5
        a = m.Attendance.get((m.Attendance.meeting == mt) & (m.Attendance.member == first))
        assert a.status == "absent" and a.version == 2
        assert m.AuditLog.select().where((m.AuditLog.table == "attendance") & (m.AuditLog.action == "update")).count() == 1


def test_change_saved_sheet_updates_rows(city):
    run(_t_change_saved_sheet_updates_rows, city)


def test_create_meeting_and_mark_attendance(city):
    run(_t_create_meeting_and_mark_attendance, city)


def test_leave_without_reason_is_not_set(city):
    run(_t_leave_without_reason_is_not_set, city)
