"""A member's page (党员详情): details (ID masked unless the user may see it), transfer
history, attendance, dues, points and evaluations.  ``e`` edits the member and ``a``
adds another one (the record form)."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from core.enums import (ATTENDANCE, DUES_CLASS, EDUCATION, EVALUATION, MEETING_TYPE, MEMBER_CLASS, SEX,
                        TRANSFER_DIRECTION)
from core.i18n import get_lang, tr
from core.numbers import format_count, format_money, format_score
from core.read.members import member_detail, member_points
from tui.api import DangjianScreen, tb
from tui.widgets import text_table


def _d(v) -> str:
    return "" if v is None else str(v)[:10]


class MemberDetailScreen(DangjianScreen):
    SCREEN_NAME = "member"
    TITLE_ZH = "党员详情"
    TITLE_EN = "Member"
    BINDINGS = [
        tb("e", "edit_member", "修改|Edit", id="member.edit"),
        tb("a", "add_member", "新增党员|Add member", id="member.add"),
        tb("ctrl+t", "points", "重算积分|Points", id="member.points"),
    ]
    DEFAULT_CSS = """
    MemberDetailScreen .section { height: auto; margin: 0 0 1 0; }
    """

    def __init__(self, member_id: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.member_id = member_id
        self.detail: dict | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(classes="body", id="member-body"):
            yield Static(tr("正在加载……", "Loading…"), id="member-head", classes="section", markup=False)
            yield Static("", id="member-transfers", classes="section")
            yield Static("", id="member-attendance", classes="section")
            yield Static("", id="member-dues", classes="section")
            yield Static("", id="member-evaluations", classes="section")
            yield Static(tr("积分：计算中……", "Points: computing…"), id="member-points", classes="section")

    def on_mount(self) -> None:
        self.query_one("#member-body").focus()

    def refresh_data(self) -> None:
        if self.member_id is None:
            self.query_one("#member-head", Static).update(tr("未指定党员", "no member given"))
            return
        self.run_db(member_detail, self.app.view, self.member_id, self.app.year, on_done=self._show)

    def _show(self, d: dict) -> None:
        self.detail = d
        lang = get_lang()
        m = d["member"]
        status = (tr("已转出", "transferred out") if not m.active else
                  (tr("正式党员", "full member") if m.full_date and m.full_date <= _today()
                   else tr("预备党员", "probationary member")))
        org = d["org"]
        comm = d["community"]
        pairs = [
            (tr("姓名", "Name"), m.name), (tr("性别", "Sex"), SEX.label(m.sex, lang)),
            (tr("身份证号", "ID number"), m.id_number), (tr("出生日期", "Born"), _d(m.birth_date)),
            (tr("入党日期", "Joined"), _d(m.joined_date)), (tr("转正日期", "Full member"), _d(m.full_date)),
            (tr("状态", "Status"), status), (tr("类别", "Class"), MEMBER_CLASS.label(m.management_class, lang)),
            (tr("党组织", "Organization"), f"{org['name']} ({org['code']})" if org else ""),
            (tr("社区", "Community"), f"{comm['name']} ({comm['town']})" if comm else ""),
            (tr("学历", "Education"), EDUCATION.label(m.education, lang)),
            (tr("电话", "Phone"), m.phone or ""),
            (tr("工作单位", "Work unit"), m.work_unit or ""),
            (tr("党费类别", "Dues class"), DUES_CLASS.label(m.dues_class, lang)),
            (tr("离退休", "Retired"), tr("是", "yes") if m.retired else tr("否", "no")),
            (tr("行动不便", "Mobility-impaired"), tr("是", "yes") if m.mobility_impaired else tr("否", "no")),
        ]
        if m.management_class in ("floating_in", "in_service"):
            pairs.append((tr("报到日期", "Registered"), _d(m.registered_date)))
        if m.management_class == "floating_in":
            pairs.append((tr("编入日期", "Placed"), _d(m.placed_date)))
        if m.management_class == "floating_out":
            pairs += [(tr("活动证号", "Certificate"), m.certificate_no or ""),
                      (tr("联系人", "Contact"), m.contact_person or "")]
        if d["volunteer_hours"]:
            pairs.append((tr("志愿时长", "Volunteer hours"), f"{float(d['volunteer_hours']):g}"))
        head = Text()
        head.append(f"{m.name}  {m.id_number}\n", style="bold")
        lines = []
        for i in range(0, len(pairs), 2):
            row = pairs[i:i + 2]
            lines.append([x for kv in row for x in kv])
        head.append_text(_kv(lines))
        self.query_one("#member-head", Static).update(head)

        t = d["transfers"]  # transfers and class changes, oldest first
        self._section("#member-transfers", tr("组织关系转接与类别变更", "Transfers and class changes"),
                      [tr("日期", "Date"), tr("类型", "Kind"), tr("原", "From"), tr("新", "To"),
                       tr("介绍信编号/说明", "Letter/note")],
                      [[_d(r["date"]), tr("类别变更", "class change"), MEMBER_CLASS.label(r["old_class"], lang),
                        MEMBER_CLASS.label(r["new_class"], lang), r["note"]] if r["kind"] == "class" else
                       [_d(r["date"]), TRANSFER_DIRECTION.label(r["direction"], lang), r["from_org"], r["to_org"],
                        r["letter_no"]] for r in t])
        counts = d["attendance_counts"]
        summary = tr("{y}年：出席 {p}，请假 {l}，缺席 {a}", "{y}: present {p}, leave {l}, absent {a}", y=d["year"],
                     p=format_count(counts.get("present", 0)), l=format_count(counts.get("leave", 0)),
                     a=format_count(counts.get("absent", 0)))
        self._section("#member-attendance", tr("出勤（最近）", "Attendance (recent)") + "  " + summary,
                      [tr("日期", "Date"), tr("会议", "Meeting"), tr("出勤", "Status"), tr("组织", "Org")],
                      [[_d(r["date"]), MEETING_TYPE.label(r["type"], lang),
                        ATTENDANCE.label(r["status"], lang) + (f"({r['leave_reason']})" if r["leave_reason"] else ""),
                        r["org"]] for r in d["attendance"]],
                      styles=["red" if r["status"] == "absent" else None for r in d["attendance"]])
        self._section("#member-dues", tr("{y}年党费", "Dues {y}", y=d["year"]),
                      [tr("月份", "Month"), tr("应交", "Due"), tr("实交", "Paid"), tr("交纳日期", "Paid on")],
                      [[r["month"], format_money(r["due"]), format_money(r["paid"]), _d(r["paid_date"])]
                       for r in d["dues"]],
                      aligns=["left", "right", "right", "left"],
                      styles=["red" if (r["paid"] or 0) < (r["due"] or 0) else None for r in d["dues"]])
        self._section("#member-evaluations", tr("民主评议", "Evaluations"),
                      [tr("年度", "Year"), tr("结果", "Result")],
                      [[r["year"], EVALUATION.label(r["result"], lang)] for r in d["evaluations"]])
        self.action_points()  # the scorer runs over the member's community: in its own worker

    def _section(self, sel: str, title: str, headers, rows, aligns=None, styles=None) -> None:
        out = Text()
        out.append(title + "\n", style="bold")
        if rows:
            out.append_text(text_table(headers, rows, max_width=max(40, self.size.width - 2), aligns=aligns,
                                       styles=styles))
        else:
            out.append(tr("（无记录）", "(none)"), style="dim")
        self.query_one(sel, Static).update(out)

    def action_edit_member(self) -> None:
        from tui.widgets.form import FormScreen

        if self.member_id is None:
            return
        name = self.detail["member"].name if self.detail else ""
        self.app.push_screen(FormScreen("members", self.member_id, title=tr("修改党员：{n}", "Edit member: {n}", n=name)),
                             self._saved)

    def action_add_member(self) -> None:
        from tui.widgets.form import FormScreen

        def added(saved) -> None:
            if saved is not None:
                self.notify(tr("已保存", "Saved"), timeout=3)
                self.app.open_member(saved)

        self.app.push_screen(FormScreen("members", title=tr("新增党员", "New member")), added)

    def _saved(self, saved) -> None:
        if saved is not None:
            self.notify(tr("已保存", "Saved"), timeout=3)
            self.refresh_data()

    def action_points(self) -> None:
        if self.member_id is None:
            return
        self.query_one("#member-points", Static).update(tr("正在计算积分……", "Computing points…"))
        self.run_db(member_points, self.app.view, self.member_id, self.app.year,
                    on_done=self._show_points, group="points")

    def _show_points(self, result) -> None:
        out = Text()
        if result is None:
            out.append(tr("积分：没有可用的积分办法", "Points: no points scheme"))
        else:
            points, items = result
            out.append(tr("{y}年积分：{p}\n", "Points {y}: {p}\n", y=self.app.year, p=points), style="bold")
            rows = [[str(i.get("label") or i.get("code") or ""), format_score(i.get("points"))]
                    for i in items]
            if rows:
                out.append_text(text_table([tr("项目", "Item"), tr("分值", "Points")], rows,
                                           aligns=["left", "right"]))
        self.query_one("#member-points", Static).update(out)


def _kv(lines: list[list[str]]) -> Text:
    """Two key/value pairs per line, aligned in terminal cells."""
    from rich.cells import cell_len

    from tui.widgets import pad

    kw = max((cell_len(x) for line in lines for x in line[0::2]), default=4)
    vw = max((cell_len(line[1]) for line in lines), default=10)
    vw = min(vw, 26)
    out = Text()
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        out.append(pad(line[0], kw), style="bold")
        out.append(" " + pad(line[1], vw))
        if len(line) > 2:
            out.append("  ")
            out.append(pad(line[2], kw), style="bold")
            out.append(" " + str(line[3]))
    return out


def _today():
    from core.dates import today

    return today()
