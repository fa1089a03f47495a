"""Members list: search by name, pinyin initials and ID prefix; filters; member page with masked ID."""
from __future__ import annotations

import pytest

from tests.tui import tui_data
from tests.tui.helpers import aio, make_app, screen_text, settle

pytestmark = pytest.mark.timeout(60)


def rows(app):
    t = app.screen.query_one("#members-table")
    return [t.row_at(i)[1:] for i in range(t.total)]


async def open_members(pilot):
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)


@aio
async def test_search_by_name_initials_and_id_prefix(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_members(pilot)
        assert "共 49 名" in screen_text(app)
        await pilot.press(*"张伟")
        await settle(pilot)
        assert sorted(r[1] for r in rows(app)) == ["张伟", "张伟明"]
        text = screen_text(app)
        assert "张伟明" in text and "李娜" not in text and "按姓名开头" in text
        for _ in range(2):
            await pilot.press("backspace")
        await pilot.press(*"zwm")
        await settle(pilot)
        assert [r[1] for r in rows(app)] == ["张伟明"]
        assert "按拼音首字母" in screen_text(app)
        for _ in range(3):
            await pilot.press("backspace")
        # 单 reads Shan as a surname
        await pilot.press(*"sx")
        await settle(pilot)
        assert [r[1] for r in rows(app)] == ["单雄"]
        for _ in range(2):
            await pilot.press("backspace")
        # a masked viewer (single-user mode) may search by the area code only
        prefix = tui_data.member_id_number(2)[:6]
        await pilot.press(*prefix)
        await settle(pilot)
        got = rows(app)
        assert got and all(r[2].startswith(prefix) for r in got)
        assert "李娜" in [r[1] for r in got]


@aio
async def test_filters_class_and_status(tui_db):
    from textual.widgets import Select

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_members(pilot)
        app.screen.query_one("#members-class", Select).value = "floating_out"
        await settle(pilot)
        got = rows(app)
        assert got and all(r[4] == "floating_out" for r in got)
        assert "流出党员" in screen_text(app)
        app.screen.query_one("#members-class", Select).value = Select.NULL
        app.screen.query_one("#members-status", Select).value = "left"
        await settle(pilot)
        assert [r[1] for r in rows(app)] == ["杨帆"]
        app.screen.query_one("#members-status", Select).value = "probationary"
        await settle(pilot)
        expected = {(tui_data.NAMES[i] if i < 20 else f"党员{i:03d}") for i in range(50) if i % 9 == 0}
        assert {r[1] for r in rows(app)} == expected


@aio
async def test_full_data_user_sees_and_searches_full_numbers(tui_db):
    from core import access

    access.set_current(access.Principal("chen", "admin", "city", read_only=False, full_personal_data=True))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_members(pilot)
        prefix = tui_data.member_id_number(2)[:12]
        await pilot.press(*prefix)
        await settle(pilot)
        got = rows(app)
        assert got and all(r[2].startswith(prefix) for r in got)
        assert "李娜" in [r[1] for r in got]
        assert tui_data.member_id_number(2) in screen_text(app)


@aio
async def test_member_page_masks_id_for_users_without_full_data(tui_db):
    from core import access

    access.set_current(access.Principal("clerk", "community", "KS001", read_only=False, full_personal_data=False))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_members(pilot)
        text = screen_text(app)
        full = tui_data.member_id_number(0)
        masked = full[:6] + "********" + full[14:17] + "*"
        assert full not in text and masked in text
        assert "湖滨" not in text  # outside the clerk's community
        # an ID search beyond the visible six digits is refused, not leaked
        await pilot.press(*full[:10])
        await settle(pilot)
        assert rows(app) == [] and "无权按完整身份证号搜索" in screen_text(app)
        for _ in range(10):
            await pilot.press("backspace")
        await pilot.press(*"张伟")
        await settle(pilot)
        await pilot.press("enter")  # search → list
        await pilot.press("enter")  # open the first row
        await settle(pilot)
        assert type(app.screen).__name__ == "MemberDetailScreen"
        text = screen_text(app)
        assert masked in text and full not in text
        assert "138****5678" in text and "13812345678" not in text
        assert "组织关系转接" in text and "外市某支部" in text


@aio
async def test_member_page_sections(tui_db):
    app = make_app()
    async with app.run_test(size=(100, 60)) as pilot:
        app.open_member(tui_db["members"][0])
        await settle(pilot)
        text = screen_text(app)
        from core.ids import mask

        full = tui_data.member_id_number(0)
        assert mask(full) in text and full not in text  # single-user mode masks personal data
        assert "2020-05-01" in text and "XJ2020-01" in text
        assert "出席 1" in text and "党员大会" in text
        assert "2026-01" in text and "5.00" in text
        assert "优秀" in text


@aio
async def test_lazy_table_scrolls_through_many_rows(tui_db):
    """The list pages from SQL: End reaches the last row, blocks are fetched lazily."""
    from core import models as m
    from core.db import write_tx

    import datetime as dt

    from core import ids

    rows_ = [dict(id_number=ids.make("110101", dt.date(1960 + i % 40, 1, 1), i % 1000), name=f"测试{i:05d}",
                  initials="cs", joined_date=dt.date(2000, 1, 1), full_date=dt.date(2001, 1, 1),
                  organization=tui_db["b1"], community=tui_db["c1"]) for i in range(1500)]
    seen = set()
    rows_ = [r for r in rows_ if not (r["id_number"] in seen or seen.add(r["id_number"]))]
    with write_tx():
        for i in range(0, len(rows_), 200):
            m.Member.insert_many(rows_[i:i + 200]).execute()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_members(pilot)
        table = app.screen.query_one("#members-table")
        assert table.total == 49 + len(rows_)
        table.focus()
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor == table.total - 1
        assert table.cursor_row[2] == rows_[-1]["name"]
        assert rows_[-1]["name"] in screen_text(app)
        assert len(table._blocks) <= 3  # only the blocks looked at
        await pilot.press("home", "pagedown", "down")
        await settle(pilot)
        assert table.cursor == table._rows_visible() + 1


@aio
async def test_organization_filter_picker(tui_db):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_members(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert type(app.screen).__name__ == "OrgPicker"
        await pilot.press(*"湖滨")
        await settle(pilot)
        await pilot.press("enter")  # one match: chosen
        await settle(pilot)
        assert type(app.screen).__name__ == "MembersScreen"
        got = rows(app)
        assert len(got) == 11 and all(r[7] == "湖滨支部" for r in got)
        assert "组织：湖滨支部" in screen_text(app)
        await pilot.press("ctrl+o")
        await settle(pilot)
        await pilot.press("down", "enter")  # (all organizations)
        await settle(pilot)
        assert len(rows(app)) == 49


@aio
async def test_wider_terminal_shows_more_columns(tui_db):
    for size, expect in (((80, 24), False), ((120, 30), True)):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await open_members(pilot)
            header = next(x for x in screen_text(app).splitlines() if "身份证号" in x and "拼音" not in x)
            assert ("社区" in header) is expect and ("性别" in header) is expect
            assert "党组织" in header


@aio
async def test_stored_control_characters_never_reach_the_terminal_raw(tui_db):
    """A name stored around the door (an escape sequence, a bell, a right-to-left override)
    shows as visible escapes in the list and never as raw bytes anywhere on screen."""
    from core import models as m

    mem = m.Member.select().order_by(m.Member.id).first()
    m.Member.update(name="阿\x1b]0;owned\x07\u202e甲").where(m.Member.id == mem.id).execute()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_members(pilot)
        text = screen_text(app)
        assert "阿\\x1b" in text  # the name column may cut the rest
        assert not any(ch in text for ch in "\x1b\x07\u202e")
