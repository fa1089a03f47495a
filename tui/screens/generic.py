"""The generic table screen (通用表格页): every registered scorer and report appears as a
screen by itself — a town plugin needs no Textual code.  Shows the table for the app's
year and scope, filters rows by text, and drills down: Enter opens the member behind a
row when the row names one, else the row's details (with the scorer's items).

A report is also a file (ctrl+s, or Enter on a printable HTML-only report): saved into the
reports folder, or, when the app runs as a city server's service account, the ``ssh`` command
that fetches it (:mod:`core.report_files`).  A report that is one community's book (the
ledger) asks for the community with a picker unless the scope is one community already."""
from __future__ import annotations


from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from core.i18n import tr
from core.numbers import cell_text, format_count, format_score, right_aligned
from core.read.members import member_id_by_number
from core.read.tables import report_table, scorer_table
from tui.api import DangjianModal, DangjianScreen, TopBar, tb
from tui.widgets.lazytable import Column, LazyTable, ListSource


def _catch_user_errors(fn, *args, **kwargs):
    """Run ``fn``; a UserError (e.g. "choose a community") becomes a line on the screen, not a crash."""
    from core.errors import UserError

    try:
        return fn(*args, **kwargs)
    except UserError as exc:
        return {"user_error": str(exc)}


def _report_or_choice(view, name: str, year: int) -> dict:
    """The report over the view; when it refuses a scope of several communities (a book of one
    community), ``choose`` is set: the user picks the community."""
    from core.i18n import get_lang
    from core.reports import get_report

    d = _catch_user_errors(report_table, view, name, year)
    if d.get("user_error") and len(view.communities()) > 1:
        d["choose"] = True
    if d.get("user_error") or d.get("html"):
        d["title"] = f"{get_report(name).title(get_lang())} {year}"
    return d


def _community_nodes(view) -> list:
    """The communities of the view for the picker: town → community (value: the code)."""
    from tui.widgets.scope_tree import node

    towns: dict[str, list] = {}
    for c in view.communities():
        towns.setdefault(c.town, []).append(c)
    many = len(towns) > 1
    out = []
    for town in sorted(towns):
        kids = [node(f"{c.name}（{c.code}）", c.code, code=c.code, name=c.name)
                for c in sorted(towns[town], key=lambda c: c.code)]
        if many:
            out.append(node(town, None, kids, name=town, expanded=len(view.communities()) <= 40))
        else:
            out.extend(kids)
    return out


_NAME_LIKE = ("姓名", "名称", "支部", "党组织", "社区", "区镇", "对象", "name", "branch", "organization",
              "community", "town", "subject")


def _frozen(headers: list, cols: list[Column]) -> int:
    """How many leading columns stay put when ← → scroll: the leading names (区镇, 社区, 支部 …),
    at most 40 cells of them; at least one."""
    n, used = 0, 0
    for i, h in enumerate(headers[:4]):
        if not any(k in str(h).lower() for k in _NAME_LIKE):
            break
        used += cols[i].width + 1
        if used > 40:
            break
        n = i + 1
    return max(1, n)


class RowDetail(DangjianModal[None]):
    BINDINGS = [tb("escape", "close", "关闭|Close", id="detail.close")]
    DEFAULT_CSS = """
    RowDetail { align: center middle; }
    RowDetail > VerticalScroll { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $panel; padding: 0 1; }
    """

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.text, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)


class ReportFileDialog(DangjianModal[None]):
    """Where a report went: the saved file's full path, or the command that fetches it."""

    BINDINGS = [tb("escape", "close", "关闭|Close", id="reportfile.close"),
                tb("enter", "close", "关闭|Close", id="reportfile.close_enter", show=False)]
    DEFAULT_CSS = """
    ReportFileDialog { align: center middle; }
    ReportFileDialog > VerticalScroll { width: 100%; height: auto; max-height: 100%; background: $panel;
        border-top: solid $accent; border-bottom: solid $accent; padding: 0; }
    ReportFileDialog .report-file-what { text-style: bold; color: $accent; }
    """
    # no side borders: the path and the command start in the first column, so a terminal's
    # selection copies them whole

    def __init__(self, delivery):
        super().__init__()
        self.delivery = delivery

    def compose(self) -> ComposeResult:
        d = self.delivery
        with VerticalScroll():
            yield Static(d.title, markup=False)
            if d.command:
                yield Static(tr("在你自己的电脑上运行下面的命令，报表就保存到那台电脑的当前文件夹：",
                                "Run this on your own computer; the report is saved in its current folder:"),
                             markup=False)
                yield Static(_shell_lines(d.command, self.app.size.width), markup=False,
                             classes="report-file-what", id="report-file-command")
                yield Static(tr("（服务器不保存文件，也不能写入你的主目录。）",
                                "(The server keeps no file and cannot write into your home folder.)"), markup=False)
            else:
                yield Static(tr("已保存到：", "Saved to:"), markup=False)
                yield Static(str(d.path), markup=False, classes="report-file-what", id="report-file-path")
                if d.filename.endswith(".html"):
                    yield Static(tr("用浏览器打开后打印。", "Open it in a browser to print it."), markup=False)
            for line in d.withheld:
                yield Static(line, markup=False)
            yield Static(tr("回车或 Esc 关闭", "Enter or Esc closes"), markup=False, classes="status-line")

    def action_close(self) -> None:
        self.dismiss(None)


def _shell_lines(command: str, width: int) -> str:
    """``command`` as lines of at most ``width`` cells, broken with `` \\`` so that the lines,
    copied together, are still one shell command."""
    if cell_len(command) <= width:
        return command
    words: list[str] = []
    for word in command.split(" "):
        if words and words[-1] == ">":
            words[-1] = f"> {word}"  # the redirection stays with its file name
        else:
            words.append(word)
    lines, line = [], ""
    for word in words:
        if line and cell_len(line + " " + word + " \\") > width:
            lines.append(line + " \\")
            line = "  " + word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(lines)


class FormatPicker(DangjianModal[str | None]):
    """Choose the file format of a table report (HTML to print, Excel, CSV)."""

    BINDINGS = [tb("escape", "cancel", "取消|Cancel", id="reportformat.cancel")]
    DEFAULT_CSS = """
    FormatPicker { align: center middle; }
    FormatPicker > Vertical { width: 50; height: auto; border: round $accent; background: $panel; padding: 0 1; }
    FormatPicker OptionList { height: auto; border: none; }
    """
    NAMES = {"html": ("可打印的 HTML", "printable HTML"), "xlsx": ("Excel（xlsx）", "Excel (xlsx)"),
             "csv": ("CSV（Excel 可打开）", "CSV (opens in Excel)"), "json": ("JSON", "JSON")}

    def __init__(self, formats):
        super().__init__()
        self.formats = list(formats)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(tr("保存为：↑↓ 选择，回车确定，Esc 取消", "Save as: ↑↓ choose, Enter takes it, Esc cancels"),
                         markup=False)
            yield OptionList(*[Option(tr(*self.NAMES.get(f, (f, f))), id=f) for f in self.formats],
                             id="format-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class GenericTableScreen(DangjianScreen):
    """``kind`` is ``"scorer"`` or ``"report"``; ``key`` the registered name."""

    AUTO_FOCUS = "#generic-table"  # the table, not the filter line above it (one focus change)

    BINDINGS = [tb("ctrl+f", "focus_filter", "筛选|Filter", id="generic.filter"),
                tb("ctrl+s", "save_file", "保存文件|Save file", id="generic.save_file")]
    DEFAULT_CSS = """
    GenericTableScreen #generic-bar { height: 1; }
    GenericTableScreen #generic-filter { width: 1fr; }
    """

    def __init__(self, kind: str = "report", key: str = "", **kwargs):
        super().__init__(**kwargs)
        self.table_kind = kind
        self.table_key = key
        self.data: dict | None = None
        self.all_rows: list[tuple] = []
        self.shown_rows: list[tuple] = []

    def screen_title(self) -> str:
        if self.data and self.data.get("title"):
            return self.data["title"]
        return (tr("评分：", "Score: ") if self.table_kind == "scorer" else tr("报表：", "Report: ")) + self.table_key

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="generic-bar"):
            yield Input(placeholder=tr("筛选（任意列包含）", "filter (any column contains)"), id="generic-filter",
                        compact=True)
        yield Static(tr("正在计算……", "Computing…"), id="generic-info", classes="status-line")
        yield LazyTable([Column("", 0, lambda r: "")], empty_text=tr("（没有数据）", "(no rows)"), id="generic-table",
                        frozen=1)

    def refresh_data(self) -> None:
        app = self.app
        self.query_one("#generic-info", Static).update(tr("正在计算……", "Computing…"))
        if self.table_kind == "scorer":
            self.run_db(_catch_user_errors, scorer_table, app.view, self.table_key, app.year, on_done=self._show)
        else:
            self.run_db(_report_or_choice, app.view, self.table_key, app.year, on_done=self._show)

    def _show(self, d: dict) -> None:
        self.data = d
        for bar in self.query(TopBar):
            bar.update_text()
        table = self.query_one(LazyTable)
        if d.get("choose"):  # one community's book over several: the user picks the community
            self._action_row(tr("▶ 选择社区，生成并保存此报表", "▶ Choose a community, make and save this report")
                             if not self._serving() else
                             tr("▶ 选择社区，取回此报表", "▶ Choose a community and fetch this report"))
            self.query_one("#generic-info", Static).update(
                tr("此报表按社区生成：回车选择社区（或 F9 把范围缩小到一个社区）",
                   "This report is made per community: Enter to choose one (or F9 to narrow the scope)"))
            return
        if d.get("user_error"):
            table.set_source(ListSource([]))
            self.query_one("#generic-info", Static).update(
                d["user_error"] + "  " + tr("（F9 选择范围，F7/F8 换年度）", "(F9: scope, F7/F8: year)"))
            return
        if d.get("html"):
            self._action_row(self._save_label())
            self.query_one("#generic-info", Static).update(
                tr("{y}年  可打印的 HTML 报表：回车保存为文件", "{y}  printable HTML report: Enter saves it as a file",
                   y=self.app.year))
            return
        headers = d["headers"]
        rows = d["rows"]
        # counts, money and scores in their formats, their columns right-aligned (core.numbers)
        shown = [[cell_text(v) for v in r] for r in rows]
        right = [right_aligned(r[i] for r in rows if i < len(r)) for i in range(len(headers))]
        widths = []
        for i, h in enumerate(headers):
            w = max([cell_len(str(h))] + [cell_len(r[i]) for r in shown[:500] if i < len(r)])
            widths.append(max(2, w))
        # narrow columns keep their width; long ones start at 16 cells and grow to 40 on a wide
        # terminal (cut text ends in "…"; v shows the whole row; ← → scroll when they do not fit)
        cols = [Column(str(h), min(w, 16), (lambda r, i=i: r[1][i] if i < len(r[1]) else ""),
                       align="right" if right[i] else "left", max_width=min(w, 40), min_width=8)
                for i, (h, w) in enumerate(zip(headers, widths))]
        if len(cols) > 1 and sum(c.width + 1 for c in cols) <= 80:
            cols[-1].width = 0  # everything fits: the last column takes the rest
        table.columns = cols
        table.frozen = _frozen(headers, cols)
        table.col_offset = 0
        self.all_rows = list(enumerate(shown))
        self._apply_filter()

    @staticmethod
    def _serving() -> bool:
        from core.report_files import serving

        return serving()

    def _save_label(self) -> str:
        if self._serving():
            return tr("▶ 取回此报表（显示在你电脑上运行的命令）", "▶ Fetch this report (shows the command for your computer)")
        return tr("▶ 保存可打印的 HTML 文件", "▶ Save the printable HTML file")

    def _action_row(self, label: str) -> None:
        """The table as one row to press Enter on (a printable report, a community to choose)."""
        table = self.query_one(LazyTable)
        table.columns = [Column(tr("操作", "action"), 0, lambda r: r[1][0])]
        table.frozen = 1
        table.col_offset = 0
        self.all_rows = self.shown_rows = [(0, [label])]
        table.set_source(ListSource(self.shown_rows))

    # -- a report as a file
    def check_action(self, action: str, parameters) -> bool | None:
        if action == "save_file" and self.table_kind != "report":
            return False  # scorers: no file (their reports, points and scores, have one)
        return super().check_action(action, parameters)

    def action_save_file(self) -> None:
        d = self.data
        if self.table_kind != "report" or d is None:
            return
        if d.get("choose"):
            self._choose_community()
        elif d.get("html"):
            self._deliver(html=d["html"])
        elif d.get("user_error"):
            self.app.notify(d["user_error"], severity="warning")
        else:
            self.run_db(self._formats, on_done=self._ask_format, group="file")

    def _formats(self):
        from core.report_files import formats_of
        from core.reports import get_report

        return formats_of(get_report(self.table_key))

    def _ask_format(self, formats) -> None:
        if len(formats) == 1:
            self._deliver(fmt=formats[0])
            return
        self.app.push_screen(FormatPicker(formats), lambda f: self._deliver(fmt=f) if f else None)

    def _choose_community(self) -> None:
        view = self.app.view

        def pick(nodes) -> None:
            from tui.widgets.scope_tree import TreePicker

            title = tr("选择社区：{t}", "Choose a community: {t}", t=self.screen_title())
            self.app.push_screen(TreePicker(title, nodes), lambda code: self._deliver(community=code) if code else None)

        self.run_db(_community_nodes, view, on_done=pick, group="file")

    def _deliver(self, community: str | None = None, fmt: str | None = None, html: str | None = None) -> None:
        from core.report_files import deliver

        self.query_one("#generic-info", Static).update(tr("正在生成报表文件……", "Making the report file…"))
        self.run_db(_catch_user_errors, deliver, self.app.view, self.table_key, self.app.year, community=community,
                    fmt=fmt, html=html, on_done=self._delivered, group="file")

    def _delivered(self, result) -> None:
        info = self.query_one("#generic-info", Static)
        if isinstance(result, dict):
            info.update(result["user_error"])
            return
        info.update(tr("取回此报表的命令见对话框", "the command that fetches this report is in the dialog")
                    if result.command else tr("已保存：", "saved: ") + str(result.path))
        self.app.push_screen(ReportFileDialog(result))

    def _apply_filter(self) -> None:
        if self.data is None or self.data.get("user_error") or self.data.get("html") or self.data.get("choose"):
            return
        text = self.query_one("#generic-filter", Input).value.strip()
        rows = self.all_rows
        if text:
            rows = [r for r in rows if any(text in c for c in r[1])]
        self.shown_rows = rows
        self.query_one(LazyTable).set_source(ListSource(rows))
        info = tr("{y}年  {n} 行", "{y}  {n} rows", y=self.app.year, n=format_count(len(rows)))
        if text:
            info += tr("（共 {t}）", " (of {t})", t=format_count(len(self.all_rows)))
        if self.data.get("errors"):
            info += "  " + tr("出错：", "errors: ") + "; ".join(self.data["errors"])
        info += "  " + tr("回车明细  v 整行", "Enter: details  v: whole row")
        if len(self.data.get("headers") or []) > 4:
            info += "  " + tr("← → 左右滚动", "← →: scroll sideways")
        self.query_one("#generic-info", Static).update(info)

    @on(Input.Changed, "#generic-filter")
    def filter_changed(self) -> None:
        self._apply_filter()

    @on(Input.Submitted, "#generic-filter")
    def filter_submitted(self) -> None:
        self.query_one(LazyTable).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#generic-filter", Input).focus()

    @on(LazyTable.Selected, "#generic-table")
    def drill(self, event: LazyTable.Selected) -> None:
        d = self.data
        if not d:
            return
        if d.get("choose") or d.get("html"):
            self.action_save_file()
            return
        n = event.row[0]
        record = (d.get("records") or [None] * (n + 1))[n] if d.get("records") and n < len(d["records"]) else None
        member_id = None
        if isinstance(record, dict) and record.get("member_id"):
            member_id = record["member_id"]
        elif d.get("kind") == "member" and d.get("subjects") and n < len(d["subjects"]):
            self.run_db(member_id_by_number, self.app.view, d["subjects"][n],
                        on_done=lambda mid, n=n: self._open(mid, n), group="drill")
            return
        if member_id:
            self.app.open_member(int(member_id))
            return
        self._open(None, n)

    def _open(self, member_id, n: int) -> None:
        if member_id:
            self.app.open_member(int(member_id))
            return
        d = self.data
        record = d["records"][n] if d.get("records") and n < len(d["records"]) else None
        items = record.get("items") if isinstance(record, dict) else None
        detail_headers = {"明细", "items", "Items"}
        # the row's columns in words (the record behind it holds the same values for machines)
        lines = [f"{h}：{cell_text(v)}" for h, v in zip(d["headers"], d["rows"][n])
                 if not (items and h in detail_headers)]
        if items:
            lines.append("")
            lines.append(tr("明细：", "Items:"))
            for it in items:
                lines.append(f"  {it.get('label', it.get('code'))}  {format_score(it.get('points'))}")
        self.app.push_screen(RowDetail("\n".join(lines)))
