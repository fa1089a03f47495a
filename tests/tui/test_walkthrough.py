"""A walk-through of the four daily jobs on the small demo, at 80x24, single-user mode, by keys
only: a visit to a member found by part of her name; a meeting with its attendance, the counts
then in the meetings list; a dues payment for a member found by pinyin initials, on which the dues
screen, ``dangjian report dues`` and ``dangjian check --rule dues.on_time`` agree; the ledger
report of one community produced from the app, and its file found."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from core import models as m
from tests.tui.ledger_fixtures import run, screen_text, settle

pytestmark = pytest.mark.timeout(180)

TODAY = "2026-11-28"


@pytest.fixture
def demo(dangjian_db, monkeypatch, tmp_path):
    monkeypatch.setenv("DANGJIAN_TODAY", TODAY)
    monkeypatch.chdir(tmp_path)
    from core import config, demo as demo_mod, plugins

    config.load(None)
    demo_mod.build("small")
    plugins.load()
    return tmp_path


def _app():
    from tui.app import DangjianApp

    return DangjianApp()


async def _menu(app, pilot, name: str) -> None:
    """F2, then the arrow keys down to the entry ``name`` of the menu, then Enter."""
    names = [n for n, _t in app.menu_entries()]
    assert name in names, names
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press(*["down"] * names.index(name), "enter")
    await settle(pilot)


async def _choose(pilot, downs: int) -> None:
    """A Select: Enter opens it, ``downs`` arrow keys from the blank, Enter takes it."""
    await pilot.press("enter", *["down"] * downs, "enter")
    await settle(pilot)


def _cli(capsys, *argv):
    from core.cli import main

    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- 1. a visit


async def _t_visit_to_a_member_found_by_part_of_her_name(demo):
    from core import enums
    from tui.widgets.form import FormScreen

    her = m.Member.get(m.Member.name == "杨月凤")
    before = m.Visit.select().where(m.Visit.member == her).count()
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _menu(app, pilot, "visits")
        assert "接访走访" in screen_text(app)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        await pilot.press(*"320583100001", "tab")
        await _choose(pilot, enums.VISIT_KIND.codes.index("home_visit") + 1)
        await pilot.press("tab", "tab", "tab")  # date (today), staff, then the member
        assert app.focused.id == "f-member", app.focused.id
        await pilot.press(*"杨月", "enter")  # part of her name: the picker opens with it
        await settle(pilot)
        assert type(app.screen).__name__ == "RefPicker", screen_text(app)
        assert "杨月凤" in screen_text(app), "\n" + screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#f-member").value.startswith("杨月凤")
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), screen_text(app)
        assert m.Visit.select().where(m.Visit.member == her).count() == before + 1
        v = m.Visit.select().where(m.Visit.member == her).order_by(m.Visit.id.desc()).get()
        assert v.kind == "home_visit" and v.date == dt.date(2026, 11, 28)
        assert "2026-11-28 走访" in screen_text(app)


def test_visit_to_a_member_found_by_part_of_her_name(demo):
    run(_t_visit_to_a_member_found_by_part_of_her_name, demo)


# ---------------------------------------------------------------- 2. a meeting and its attendance


def _line(app, needle: str) -> str:
    for line in screen_text(app).splitlines():
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} not on screen:\n{screen_text(app)}")


async def _t_meeting_with_attendance_counts_in_the_list(demo):
    from core import enums
    from tui.screens.meetings import AttendanceScreen, MeetingsScreen
    from tui.widgets.form import FormScreen

    branch = m.Organization.get(m.Organization.code == "320583100001002")
    n = m.Member.select().where(m.Member.organization == branch, m.Member.active == True).count()  # noqa: E712
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _menu(app, pilot, "meetings")
        assert isinstance(app.screen, MeetingsScreen)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen)
        assert app.focused.id == "f-code"  # a code is proposed
        await pilot.press("tab")
        assert app.focused.id == "f-organization"
        await pilot.press(*"320583100001002", "enter")  # the branch by its code
        await settle(pilot)
        assert type(app.screen).__name__ == "RefPicker", screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form and "320583100001002" in form.query_one("#f-organization").value
        await pilot.press("tab")
        await _choose(pilot, enums.MEETING_TYPE.codes.index("assembly") + 1)
        await pilot.press("tab", "tab", *"学习党章", "f10")  # date (today), the topic; save
        await settle(pilot)
        sheet = app.screen
        assert isinstance(sheet, AttendanceScreen), screen_text(app)
        await pilot.press("a", "down", "x")  # all present, the second absent
        await settle(pilot)
        assert f"出席 {n - 1}  请假 0  缺席 1" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        meeting = m.Meeting.get(m.Meeting.topic == "学习党章")
        assert m.Attendance.select().where(m.Attendance.meeting == meeting).count() == n
        await pilot.press("escape")  # back to the list: the counts are there
        await settle(pilot)
        assert isinstance(app.screen, MeetingsScreen)
        line = _line(app, "学习党章")
        assert line.split()[-3:] == [str(n - 1), "0", "1"], line


def test_meeting_with_attendance_counts_in_the_list(demo):
    run(_t_meeting_with_attendance_counts_in_the_list, demo)


# ---------------------------------------------------------------- 3. a dues payment


DUES_CASES = [
    # name, initials, community, branch, month paid now, amount, months still owed afterwards
    pytest.param("秦永强", "qyq", "320583100003", "中共锦湾社区支部委员会", "2026-12", "16.45",
                 ["2026-01", "2026-02"], id="paid-ahead"),
    pytest.param("秦永强", "qyq", "320583100003", "中共锦湾社区支部委员会", "2026-01", "16.45", ["2026-02"],
                 id="owed-month-on-record"),  # on record as owed (paid 0): the payment updates it
    # he arrived (转入) on 2026-04-30: he owes from April on, so the three agree that nothing is owed
    pytest.param("蒋新宝", "jxb", "320583100001", "嘉坊社区第一党支部", "2026-01", "18.15", [],
                 id="arrived-in-april"),
]


async def _t_dues_payment_found_by_initials(demo, name, initials, community, branch, month, amount, owed):
    from tui.screens.dues import DuesScreen
    from tui.screens.records import RecordsScreen
    from tui.widgets.form import FormScreen

    him = m.Member.get(m.Member.name == name)
    assert him.initials == initials
    app = _app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _menu(app, pilot, "records")
        screen = app.screen
        assert isinstance(screen, RecordsScreen) and app.focused.id == "rec-kinds"
        names = [k.name for k in screen.kind_list]
        await pilot.press(*["down"] * names.index("dues"), "enter")
        await settle(pilot)
        assert "党费：" in screen_text(app)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormScreen) and app.focused.id == "f-member"
        await pilot.press(*initials, "enter")  # pinyin initials: the picker opens with them
        await settle(pilot)
        assert type(app.screen).__name__ == "RefPicker" and name in screen_text(app), screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is form and form.query_one("#f-member").value.startswith(name)
        await pilot.press("tab", *month, "tab", *amount, "tab", *amount, "tab")
        if not form.query_one("#f-paid_date").value:
            await pilot.press(*TODAY)
        await pilot.press("f10")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen), screen_text(app)
        paid = m.DuesPayment.get(m.DuesPayment.member == him, m.DuesPayment.month == month)
        assert str(paid.paid) == amount and paid.paid_date == dt.date(2026, 11, 28)
        # the dues screen: that month paid, the others still owed
        await _menu(app, pilot, "dues")
        assert isinstance(app.screen, DuesScreen)
        if branch not in screen_text(app):
            await pilot.press("ctrl+o")  # the branch chooser
            await settle(pilot)
            for _ in range(40):
                if branch in _focused_text(app):
                    break
                await pilot.press("down")
            await pilot.press("enter")
            await settle(pilot)
        assert branch in screen_text(app).splitlines()[1], screen_text(app)
        await pilot.press("tab")
        for _ in range(80):
            if name in screen_text(app):
                break
            await pilot.press("down")
        await settle(pilot)
        cells = _line(app, name).split()[2:14]
        shown_owed = [f"2026-{i + 1:02d}" for i, c in enumerate(cells) if c in ("欠", "部")]
        assert cells[int(month[5:]) - 1] == "已" and shown_owed == owed, cells
    return him


def _focused_text(app) -> str:
    w = app.focused
    try:
        return str(w.get_option_at_index(w.highlighted).prompt) if w.highlighted is not None else ""
    except Exception:
        return str(getattr(w, "value", ""))


@pytest.mark.parametrize("name, initials, community, branch, month, amount, owed", DUES_CASES)
def test_dues_payment_found_by_initials_screen_report_and_check_agree(demo, capsys, name, initials, community,
                                                                     branch, month, amount, owed):
    from core import ids

    him = run(_t_dues_payment_found_by_initials, demo, name, initials, community, branch, month, amount, owed)
    code, out, _ = _cli(capsys, "report", "dues", "--community", community, "--format", "json")
    assert code == 0
    rows = [r for r in json.loads(out) if r["name"] == name]  # the report lists members with arrears
    assert [r["months"] for r in rows] == ([owed] if owed else [])
    code, out, _ = _cli(capsys, "check", "--rule", "dues.on_time", "--community", community, "--all",
                        "--format", "json", "--no-store")
    found = [f for f in json.loads(out) if f["subject"] == ids.mask(him.id_number)]
    assert len(found) == 1 and found[0]["evidence"].get("unpaid_months", []) == owed, found
    if rows:
        assert found[0]["ref"] == rows[0]["ref"]  # one and the same member


# ---------------------------------------------------------------- 4. the ledger of one community


def _cursor_label(app) -> str:
    w = app.focused
    node = getattr(w, "cursor_node", None)
    if node is not None:
        return str(node.label)
    try:
        return str(w.get_option_at_index(w.highlighted).prompt)
    except Exception:
        return ""


def test_ledger_of_one_community_from_the_app_and_its_file(demo, monkeypatch):
    import re
    import stat
    import tempfile
    from pathlib import Path

    home = Path(tempfile.mkdtemp(prefix="dj", dir="/tmp"))  # short: the full path fits one line at 80x24
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))

    async def body(folder):
        app = _app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await _menu(app, pilot, "report:ledger")
            assert "年度党建工作台账" in screen_text(app) or "ledger" in screen_text(app)
            await pilot.press("f9")  # the scope: one community
            await settle(pilot)
            await pilot.press(*"320583100001", "down")
            for _ in range(8):
                if "嘉坊社区" in _cursor_label(app):
                    break
                await pilot.press("down")
            await pilot.press("enter")
            await settle(pilot)
            assert "嘉坊社区" in screen_text(app).splitlines()[0], screen_text(app)
            await pilot.press("enter")  # ⏎ 打开: the printable ledger is written and its file named
            await settle(pilot, rounds=4)
            text = screen_text(app)
            named = re.findall(r"[^\s：:（）()]+\.html", text)
            assert named, text
            path = Path(named[0])
            path = path if path.is_absolute() else folder / path
            assert path.exists(), (path, text)
            assert path.parent == home / "Documents" / "dangjian"  # the default reports folder
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            html = path.read_text(encoding="utf-8")
            assert "嘉坊社区" in html and "绿阳社区" not in html

    try:
        run(body, demo)
    finally:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
