"""Meetings and attendance (会议与出勤; clauses 11, 13, 14).

The list shows the view's meetings of the year, newest first (lazily paged),
with the attendance counts.  ctrl+n creates a meeting (the record form) and
goes straight to its attendance sheet; Enter opens the sheet of the
highlighted meeting.

The attendance sheet lists every member of the meeting's organization and of
the organizations below it.  In a few keys: ``a`` marks everybody present,
``l`` toggles the highlighted member to 请假 (and asks for the reason —
leave needs one), ``x`` toggles 缺席, ``p`` marks present, ``r`` edits the
leave reason; ctrl+s saves every change through ``core.records`` (audit log,
scope, optimistic locking) in one transaction.  Esc goes back (asking first
when there are unsaved changes).
"""
from __future__ import annotations

import datetime as dt

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from core import enums
from core.dates import today
from core.i18n import get_lang, tr
from core.numbers import format_count
from core.read import meetings
from core.read.paging import RowSource, key_date_id
from tui.api import DangjianModal, DangjianScreen, tb
from tui.widgets.lazytable import Column, LazyTable, ListSource


class MeetingsScreen(DangjianScreen):
    SCREEN_NAME = "meetings"
    BINDINGS = [
        tb("ctrl+n", "new_meeting", "新建会议|New meeting", id="meetings.new"),
        tb("ctrl+e", "edit_meeting", "修改|Edit", id="meetings.edit"),
        tb("ctrl+d", "delete_meeting", "删除|Delete", id="meetings.delete"),
    ]
    DEFAULT_CSS = """
    MeetingsScreen #meetings-info { height: 1; padding: 0 1; color: $text-muted; }
    MeetingsScreen #meetings-table { height: 1fr; }
    """

    def compose_body(self) -> ComposeResult:
        yield Static("", id="meetings-info")
        yield LazyTable(self._columns(), empty_text=tr("（本年度没有会议，ctrl+n 新建）", "(no meetings this year; ctrl+n)"),
                        id="meetings-table")

    def _columns(self) -> list[Column]:
        return [
            Column(tr("日期", "Date"), 10, lambda r: str(r[1]["date"])),
            Column(tr("类型", "Type"), 14, lambda r: r[1]["type_label"]),
            Column(tr("党组织", "Organization"), 14, lambda r: r[1]["org_name"], max_width=26),
            Column(tr("主题", "Topic"), 0, lambda r: r[1]["topic"] or "", min_width=6),
            Column(tr("出席", "Pres"), 4, lambda r: format_count(r[1]["present"]), align="right"),
            Column(tr("请假", "Leave"), 4, lambda r: format_count(r[1]["leave"]), align="right"),
            Column(tr("缺席", "Abs"), 4, lambda r: format_count(r[1]["absent"]), align="right"),
        ]

    def on_mount(self) -> None:
        self.query_one(LazyTable).focus()

    def refresh_data(self) -> None:
        source = RowSource(meetings.meeting_rows, key_date_id, view=self.app.view, year=self.app.year)
        self.run_db(source.first, on_done=lambda r: self._show(source, r), group="list")

    def _show(self, source, result) -> None:
        total, first = result
        table = self.query_one(LazyTable)
        table.set_source(source, total, first, cursor=min(table.cursor, max(0, total - 1)))
        self.query_one("#meetings-info", Static).update(
            tr("{y}年 共 {n} 次会议  Enter 出勤登记", "{y}: {n} meetings  Enter: attendance", y=self.app.year, n=format_count(total)))

    def _current(self) -> dict | None:
        row = self.query_one(LazyTable).cursor_row
        return row[1] if row else None

    @on(LazyTable.Selected, "#meetings-table")
    def open_attendance(self, event: LazyTable.Selected) -> None:
        self.app.push_screen(AttendanceScreen(event.row[1]["id"]))

    def action_new_meeting(self) -> None:
        from tui.widgets.form import FormScreen

        now = dt.datetime.now()
        defaults = {"date": today().isoformat(), "code": f"HY{now:%Y%m%d%H%M%S}"}

        def created(meeting_id) -> None:
            if meeting_id is not None:
                self.refresh_data()
                self.app.push_screen(AttendanceScreen(meeting_id))

        self.app.push_screen(FormScreen("meetings", defaults=defaults), created)

    def action_edit_meeting(self) -> None:
        from tui.widgets.form import FormScreen

        row = self._current()
        if row is not None:
            self.app.push_screen(FormScreen("meetings", row["id"]),
                                 lambda saved: self.refresh_data() if saved is not None else None)

    def action_delete_meeting(self) -> None:
        from tui.widgets.confirm import ConfirmDialog

        row = self._current()
        if row is None:
            return

        def done(yes) -> None:
            if yes:
                self.run_db(_delete_meeting, row["id"], row["version"], on_done=lambda _: self.refresh_data(),
                            group="save")

        self.app.push_screen(ConfirmDialog(
            tr("删除这次会议及其出勤记录？", "Delete this meeting and its attendance?"),
            f"{row['date']}  {row['type_label']}  {row['org_name']}  {row['topic'] or ''}"), done)


def _delete_meeting(meeting_id: int, version: int) -> int:
    from core import models as m
    from core import records

    records.delete(m.Meeting, meeting_id, version)
    return meeting_id


# ---------------------------------------------------------------- the attendance sheet

class ReasonDialog(DangjianModal):
    """Ask for a leave reason (请假事由); dismisses with the text, or None on Esc."""

    BINDINGS = [tb("escape", "cancel", "取消|Cancel", id="reason.cancel")]
    DEFAULT_CSS = """
    ReasonDialog { align: center middle; }
    ReasonDialog > Vertical { width: 60; max-width: 100%; height: auto; border: round $accent;
        background: $panel; padding: 0 1; }
    ReasonDialog #reason-error { color: $error; height: auto; }
    """

    def __init__(self, name: str, reason: str = ""):
        super().__init__()
        self.member_name = name
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(tr("{n} 请假事由（回车确定）", "Leave reason for {n} (Enter)", n=self.member_name))
            inp = Input(self.reason, id="reason-input", placeholder=tr("如：出差", "e.g. business trip"))
            inp.cursor_blink = False
            yield inp
            yield Static("", id="reason-error")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.query_one("#reason-error", Static).update(tr("请假须填写事由", "leave needs a reason"))
            return
        if len(text) > 256:
            self.query_one("#reason-error", Static).update(tr("最多256个字符", "at most 256 characters"))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


STATUS_STYLE = {"present": "green", "leave": "yellow", "absent": "bold red", None: "dim"}


def _status_label(status: str | None) -> str:
    return enums.ATTENDANCE.label(status, get_lang()) if status else tr("未登记", "not set")


class AttendanceScreen(DangjianScreen):
    """Mark attendance of one meeting for the whole organization in a few keys."""

    TITLE_ZH = "出勤登记"
    TITLE_EN = "Attendance"
    BINDINGS = [
        tb("a", "all_present", "全部出席|All present", id="attendance.all_present"),
        tb("p", "mark('present')", "出席|Present", id="attendance.present"),
        tb("l", "toggle('leave')", "请假|Leave", id="attendance.leave"),
        tb("x", "toggle('absent')", "缺席|Absent", id="attendance.absent"),
        tb("r", "reason", "事由|Reason", id="attendance.reason"),
        tb("ctrl+s", "save", "保存|Save", id="attendance.save"),
        tb("f10", "save", "保存|Save", id="attendance.save_f10", show=False),
        tb("escape", "leave_screen", "返回|Back", id="attendance.back", show=False),
    ]
    DEFAULT_CSS = """
    AttendanceScreen #att-head { height: auto; padding: 0 1; background: $boost; }
    AttendanceScreen #att-table { height: 1fr; }
    AttendanceScreen #att-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, meeting_id: int, **kwargs):
        super().__init__(**kwargs)
        self.meeting_id = meeting_id
        self.meeting: dict | None = None
        self.rows: list[dict] = []
        self.dirty: set[int] = set()

    def compose_body(self) -> ComposeResult:
        yield Static("", id="att-head", markup=False)
        yield LazyTable([
            Column(tr("姓名", "Name"), 10, lambda r: r[1]["name"]),
            Column(tr("身份号码", "ID number"), 18, lambda r: r[1]["id_shown"]),
            Column(tr("出勤", "Attendance"), 8, lambda r: _status_label(r[1]["status"])),
            Column(tr("请假事由", "Leave reason"), 0, lambda r: r[1]["leave_reason"] or ""),
        ], empty_text=tr("（该组织没有党员）", "(no members in this organization)"),
            row_style=lambda r: STATUS_STYLE.get(r[1]["status"]), id="att-table")
        yield Static("", id="att-status")

    def on_mount(self) -> None:
        self.query_one("#att-table", LazyTable).focus()

    def refresh_data(self) -> None:
        view, meeting_id = self.app.view, self.meeting_id
        self.run_db(lambda: (meetings.meeting(view, meeting_id), meetings.attendance_roster(view, meeting_id)),
                    on_done=self._loaded, group="load")

    def _loaded(self, result) -> None:
        meeting, rows = result
        self.meeting = meeting
        self.rows = rows
        self.dirty = set()
        head = self.query_one("#att-head", Static)
        if meeting is None:
            head.update(tr("会议不存在或不在您的权限范围内", "no such meeting in your scope"))
            return
        head.update(f"{meeting['code']}  {meeting['date']}  {meeting['type_label']}  {meeting['org_name']}"
                    + (f"\n{meeting['topic']}" if meeting.get("topic") else ""))
        t = self.query_one("#att-table", LazyTable)
        t.set_source(ListSource([(r["member_id"], r) for r in rows]), cursor=t.cursor)
        self._update_status()

    def _update_status(self) -> None:
        counts = {"present": 0, "leave": 0, "absent": 0, None: 0}
        for r in self.rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        text = tr("出席 {p}  请假 {l}  缺席 {a}  未登记 {n}", "present {p}  leave {l}  absent {a}  not set {n}",
                  p=format_count(counts["present"]), l=format_count(counts["leave"]), a=format_count(counts["absent"]),
                  n=format_count(counts[None]))
        if self.dirty:
            text += tr("  （有 {d} 处未保存，ctrl+s 保存）", "  ({d} unsaved; ctrl+s saves)", d=format_count(len(self.dirty)))
        self.query_one("#att-status", Static).update(text)

    def _redraw(self, i: int) -> None:
        self.query_one("#att-table", LazyTable).refresh()

    def _set(self, i: int, status: str, reason: str | None = None) -> None:
        r = self.rows[i]
        r["status"] = status
        if status == "leave":
            if reason is not None:
                r["leave_reason"] = reason
        else:
            r["leave_reason"] = ""
        self.dirty.add(i)
        self._redraw(i)
        self._update_status()

    def _cursor(self) -> int | None:
        t = self.query_one("#att-table", LazyTable)
        if not self.rows or t.cursor >= len(self.rows):
            return None
        return t.cursor

    # -- actions
    def action_all_present(self) -> None:
        """Everybody present (then toggle the few on leave or absent)."""
        for i, r in enumerate(self.rows):
            if r["status"] != "present":
                self._set(i, "present")

    def action_mark(self, status: str) -> None:
        i = self._cursor()
        if i is not None:
            self._set(i, status)
            self.query_one("#att-table", LazyTable).action_cursor(1)

    def action_toggle(self, status: str) -> None:
        i = self._cursor()
        if i is None:
            return
        r = self.rows[i]
        if r["status"] == status:
            self._set(i, "present")
            return
        if status == "leave":
            def got(reason) -> None:
                if reason:
                    self._set(i, "leave", reason)

            self.app.push_screen(ReasonDialog(r["name"], r["leave_reason"]), got)
        else:
            self._set(i, status)

    def action_reason(self) -> None:
        i = self._cursor()
        if i is None:
            return
        r = self.rows[i]
        if r["status"] != "leave":
            self.action_toggle("leave")
            return

        def got(reason) -> None:
            if reason:
                self._set(i, "leave", reason)

        self.app.push_screen(ReasonDialog(r["name"], r["leave_reason"]), got)

    def action_save(self) -> None:
        if not self.dirty:
            self.notify(tr("没有需要保存的修改", "nothing to save"), timeout=3)
            return
        missing = [r["name"] for i, r in enumerate(self.rows) if i in self.dirty and r["status"] == "leave"
                   and not r["leave_reason"]]
        if missing:
            self.notify(tr("请假须填写事由：{n}", "leave needs a reason: {n}", n="、".join(missing)), severity="error")
            return
        changed = [dict(self.rows[i]) for i in sorted(self.dirty)]
        from core import records

        self.run_db(records.save_attendance, self.meeting_id, changed, on_done=self._saved, group="save")

    def _saved(self, result: dict) -> None:
        self.notify(tr("已保存：新增 {c}，修改 {u}", "saved: {c} new, {u} changed", c=result["created"],
                       u=result["updated"]), timeout=4)
        self.refresh_data()

    def action_leave_screen(self) -> None:
        if not self.dirty:
            self.app.pop_screen()
            return
        from tui.widgets.confirm import ConfirmDialog

        def done(yes) -> None:
            if yes:
                self.app.pop_screen()

        self.app.push_screen(ConfirmDialog(tr("有未保存的出勤修改，放弃并返回？", "Discard unsaved attendance changes?")),
                             done)
