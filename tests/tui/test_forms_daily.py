"""Daily form work, keyboard only (80x24): people and organizations chosen from a picker
by name, initials or code; form messages (not import messages); Esc with unsaved changes
asks; an error beside a field goes when the field is fixed; members added and edited
from the members screen and the member page; the records screen's members list;
where the focus starts."""
from __future__ import annotations

import datetime as dt

import pytest

from core import models as m
from tests.tui.ledger_fixtures import TODAY, open_screen, run, screen_text, settle, small_city

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def city(dangjian_db, monkeypatch):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    return small_city()


def _focused_id(app) -> str:
    return getattr(app.focused, "id", None) or ""


# ---------------------------------------------------------------- pickers


async def _t_member_chosen_by_name_saves_the_reference(city):
    from tui.screens.records import RecordsScreen
    from tui.widgets.form import FormScreen

    zhang = city["members"][0]
    async with open_screen(RecordsScreen(kind="evaluations")) as (app, pilot):
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert _focused_id(app) == "f-member"
        assert "回车选择" in screen_text(app)  # the field says how it is filled
        await pilot.press(*"张伟", "enter")  # the picker opens with the name typed
        await settle(pilot)
        assert type(app.screen).__name__ == "RefPicker"
        text = screen_text(app)
        assert "选择党员" in text and "张伟" in text and "王芳" not in text
        await pilot.press("enter")  # one match: taken
        await settle(pilot)
        assert app.screen is form
        shown = form.query_one("#f-member").value
        assert shown.startswith("张伟") and "*" in shown and zhang.id_number not in screen_text(app)
        assert zhang.id_number[:6] in shown
        await pilot.press("tab", *"2025", "tab", "enter")
        await pilot.pause()
        await pilot.press("down", "enter")  # the first result
        await pilot.pause()
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), str(form.query_one("#form-errors").render())
        ev = m.Evaluation.get()
        assert ev.member_id == zhang.id and ev.year == 2025


def test_member_chosen_by_name_saves_the_reference(city):
    run(_t_member_chosen_by_name_saves_the_reference, city)


async def _t_org_chosen_with_arrow_keys_and_shown_with_code(city):
    from tui.screens.records import RecordsScreen
    from tui.widgets.form import FormScreen

    async with open_screen(RecordsScreen(kind="meetings")) as (app, pilot):
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        await pilot.press(*"HY01", "tab")  # meeting code, then the organization
        assert _focused_id(app) == "f-organization"
        assert "^o 选择" in screen_text(app)  # ctrl+o in the footer on a picker field
        await pilot.press("ctrl+o")
        await settle(pilot)
        text = screen_text(app)
        assert "选择党组织" in text and "第一小组" in text and "城中第一支部" in text
        assert "ZB01" in text and "XZ01" in text  # the codes are listed
        await pilot.press("down", *"c")  # typing in the list goes on with the search
        await settle(pilot)
        assert app.screen.query_one("#picker-text").value == "c"
        await pilot.press("backspace")
        await settle(pilot)
        await pilot.press("down", "down", "enter")  # by code: XZ01, then ZB01
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#f-organization").value == "城中第一支部  ZB01"
        assert "城中第一支部  ZB01" in screen_text(app)
        form.query_one("#f-type").value = "assembly"
        form.query_one("#f-date").value = "2026-06-01"
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), str(form.query_one("#form-errors").render())
        assert m.Meeting.get(m.Meeting.code == "HY01").organization_id == city["branch"].id
        # editing it shows the name with the code, and an unchanged field keeps the reference
        await pilot.press("ctrl+l", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#f-organization").value == "城中第一支部  ZB01"
        form.query_one("#f-topic").value = "学习"
        await pilot.press("f10")
        await settle(pilot)
        got = m.Meeting.get(m.Meeting.code == "HY01")
        assert got.topic == "学习" and got.organization_id == city["branch"].id


def test_org_chosen_with_arrow_keys_and_shown_with_code(city):
    run(_t_org_chosen_with_arrow_keys_and_shown_with_code, city)


async def _t_worker_picker_stays_inside_the_view(city):
    from core import access
    from tui.screens.records import RecordsScreen

    access.set_current(access.Principal("staff", "community", "KS001", False, False))
    async with open_screen(RecordsScreen(kind="trainings")) as (app, pilot):
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        await pilot.press(*"sl", "enter")  # 孙丽 works in the other community
        await settle(pilot)
        assert "没有匹配" in screen_text(app) and "孙丽" not in screen_text(app)
        await pilot.press("backspace", "backspace", *"zm")
        await settle(pilot)
        assert "赵敏" in screen_text(app)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.screen is form and form.query_one("#f-worker").value.startswith("赵敏")
        # an ID prefix is searched only for users with full personal data
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press(*city["w1"].id_number[:8])
        await settle(pilot)
        assert "无权按身份证号开头查找" in screen_text(app) and app.screen.found == []
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form and form.query_one("#f-worker").value.startswith("赵敏")


def test_worker_picker_stays_inside_the_view(city):
    run(_t_worker_picker_stays_inside_the_view, city)


async def _t_full_data_user_picks_by_id_prefix(city):
    from core import access
    from tui.widgets.form import FormScreen

    access.set_current(access.Principal("chen", "admin", "city", read_only=False, full_personal_data=True))
    li = city["members"][2]
    async with open_screen(FormScreen("dues")) as (app, pilot):
        form = app.screen
        await pilot.press(*li.id_number[:17], "enter")
        await settle(pilot)
        assert "李娜" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#f-member").value == f"李娜  {li.id_number}"


def test_full_data_user_picks_by_id_prefix(city):
    run(_t_full_data_user_picks_by_id_prefix, city)


async def _t_typed_name_or_masked_id_gets_a_form_message(city):
    from tui.widgets.form import FormScreen

    async with open_screen(FormScreen("evaluations")) as (app, pilot):
        form = app.screen
        await pilot.press(*"张伟", "tab", *"2025")
        form.query_one("#f-result").value = "excellent"
        await pilot.press("f10")
        await settle(pilot)
        text = screen_text(app)
        assert isinstance(app.screen, FormScreen)
        assert "从列表中选择" in text and "应为18位" not in text
        masked = city["members"][0].id_number[:6] + "********0000"
        form.query_one("#f-member").value = ""
        assert _focused_id(app) == "f-member"  # the field in error has the focus
        await pilot.press(*masked, "f10")
        await settle(pilot)
        text = screen_text(app)
        assert "已遮盖" in text and "导入" not in text
        assert m.Evaluation.select().count() == 0


def test_typed_name_or_masked_id_gets_a_form_message(city):
    run(_t_typed_name_or_masked_id_gets_a_form_message, city)


# ---------------------------------------------------------------- Esc asks; errors go when fixed


async def _t_escape_with_changes_asks_first(city):
    from tui.screens.records import RecordsScreen

    async with open_screen(RecordsScreen(kind="services")) as (app, pilot):
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        await pilot.press(*"KS001")
        await pilot.press("escape")
        await settle(pilot)
        assert type(app.screen).__name__ == "ConfirmDialog"
        assert "放弃未保存的修改" in screen_text(app)
        await pilot.press("n")  # back to the form, the input kept
        await settle(pilot)
        assert app.screen is form and form.query_one("#f-community").value == "KS001"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")  # Esc in the dialog: keep editing too
        await settle(pilot)
        assert app.screen is form
        await pilot.press("escape", "y")
        await settle(pilot)
        assert isinstance(app.screen, RecordsScreen)
        assert m.ServiceRecord.select().count() == 0


def test_escape_with_changes_asks_first(city):
    run(_t_escape_with_changes_asks_first, city)


async def _t_error_beside_field_goes_when_fixed(city):
    from tui.widgets.form import FormScreen

    async with open_screen(FormScreen("services")) as (app, pilot):
        form = app.screen
        await pilot.press(*"KS001")
        form.query_one("#f-target_group").value = "needy"
        form.query_one("#f-content").value = "上门送药"
        form.query_one("#f-date").value = "2026-13-01"
        await pilot.press("f10")
        await settle(pilot)
        assert _focused_id(app) == "f-date"  # the field in error has the focus
        err = str(form.query_one("#err-date").render())
        assert err and err in screen_text(app)
        await pilot.press("end", *["backspace"] * 10, *"2026-05-01")
        await settle(pilot)
        assert str(form.query_one("#err-date").render()) == ""
        assert err not in screen_text(app)
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        assert m.ServiceRecord.get().date == dt.date(2026, 5, 1)


def test_error_beside_field_goes_when_fixed(city):
    run(_t_error_beside_field_goes_when_fixed, city)


# ---------------------------------------------------------------- members: add and edit


async def _t_add_member_from_the_members_screen(city):
    from core import ids
    from tui.screens.members import MembersScreen
    from tui.widgets.form import FormScreen

    async with open_screen(MembersScreen()) as (app, pilot):
        footer = screen_text(app).splitlines()[-1]
        assert "a 新增" in footer and "e 修改" in footer
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and "新增党员" in screen_text(app)
        form.query_one("#f-name").value = "周新"  # Chinese comes from the IME
        number = ids.make("320583", dt.date(1990, 3, 4), 77)
        await pilot.press("tab", *number, "tab", *"2020-07-01")
        form.query_one("#f-status").value = "full"
        form.query_one("#f-organization").focus()
        await pilot.press(*"城中", "enter")
        await settle(pilot)
        await pilot.press("enter")  # the only match: 城中第一支部
        await settle(pilot)
        assert form.query_one("#f-organization").value == "城中第一支部  ZB01"
        form.query_one("#f-management_class").value = "resident"
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), str(form.query_one("#form-errors").render())
        new = m.Member.get(m.Member.id_number == number)
        assert new.name == "周新" and new.organization_id == city["branch"].id
        assert "周新" in screen_text(app)


def test_add_member_from_the_members_screen(city):
    run(_t_add_member_from_the_members_screen, city)


async def _t_edit_member_from_the_list_and_the_member_page(city):
    from tui.screens.members import MembersScreen
    from tui.widgets.form import FormScreen

    async with open_screen(MembersScreen()) as (app, pilot):
        await pilot.press(*"wf", "enter")  # search 王芳, back to the list
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and "修改党员：王芳" in screen_text(app)
        assert form.query_one("#f-organization").value == "城中第一支部  ZB01"
        form.query_one("#f-work_unit").value = "昆山某公司"
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)
        wang = city["members"][1]
        assert m.Member.get_by_id(wang.id).work_unit == "昆山某公司"
        await pilot.press("enter")  # the member's page
        await settle(pilot)
        assert type(app.screen).__name__ == "MemberDetailScreen"
        assert "e 修改" in screen_text(app).splitlines()[-1]
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and "修改党员：王芳" in screen_text(app)
        form.query_one("#f-work_unit").value = "玉山镇政府"
        await pilot.press("f10")
        await settle(pilot)
        assert type(app.screen).__name__ == "MemberDetailScreen"
        assert "玉山镇政府" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, FormScreen) and "新增党员" in screen_text(app)


def test_edit_member_from_the_list_and_the_member_page(city):
    run(_t_edit_member_from_the_list_and_the_member_page, city)


async def _t_records_members_list_labelled_by_name(city):
    from tui.screens.records import RecordsScreen

    async with open_screen(RecordsScreen(kind="members")) as (app, pilot):
        text = screen_text(app)
        header = next(line for line in text.splitlines() if "姓名" in line)
        for title in ("身份证号", "性别", "类别", "党组织"):
            assert title in header
        assert " M " not in text and " F " not in text and "男" in text
        table = app.screen.query_one("#rec-table")
        names = [table.row_at(i)[1]["name"] for i in range(table.total)]
        assert names == sorted(names) and len(names) == 5
        lines = [line for line in text.splitlines() if any(n in line for n in names)]
        assert [next(n for n in names if n in line) for line in lines] == names  # shown in that order


def test_records_members_list_labelled_by_name(city):
    run(_t_records_members_list_labelled_by_name, city)


# ---------------------------------------------------------------- where the focus starts


async def _t_focus_starts_in_the_list_search_on_keys(city):
    from tui.screens.members import MembersScreen
    from tui.screens.workers import WorkersScreen

    async with open_screen(MembersScreen()) as (app, pilot):
        assert _focused_id(app) == "members-table"
        await pilot.press("ctrl+f")
        assert _focused_id(app) == "members-search"
        await pilot.press("enter")
        assert _focused_id(app) == "members-table"
        await pilot.press("slash")
        assert _focused_id(app) == "members-search"
        await pilot.press("enter", *"zw")  # typing in the list starts a search
        await settle(pilot)
        assert _focused_id(app) == "members-search"
        assert app.screen.query_one("#members-search").value == "zw" and "张伟" in screen_text(app)
        await settle(pilot)
    async with open_screen(WorkersScreen()) as (app, pilot):
        assert _focused_id(app) == "workers-table"
        assert "^f 搜索" in screen_text(app).splitlines()[-1]
        await pilot.press("slash")
        assert _focused_id(app) == "workers-search"


def test_focus_starts_in_the_list_search_on_keys(city):
    run(_t_focus_starts_in_the_list_search_on_keys, city)


async def _t_enter_on_the_kind_list_opens_that_kinds_list(city):
    from tui.screens.records import RecordsScreen

    async with open_screen(RecordsScreen()) as (app, pilot):
        assert _focused_id(app) == "rec-kinds"
        await pilot.press("down", "enter")  # 党组织
        await settle(pilot)
        assert _focused_id(app) == "rec-table"
        text = screen_text(app)
        assert "党组织：2 条" in text and "ZB01" in text
        await pilot.press("ctrl+k", "up", "enter")
        await settle(pilot)
        assert _focused_id(app) == "rec-table"
        assert "张伟" in screen_text(app)


def test_enter_on_the_kind_list_opens_that_kinds_list(city):
    run(_t_enter_on_the_kind_list_opens_that_kinds_list, city)
