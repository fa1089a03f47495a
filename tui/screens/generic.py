"""The generic table screen (通用表格页): every registered scorer and report appears as a
screen by itself — a town plugin needs no Textual code.  Shows the table for the app's
year and scope, filters rows by text, and drills down: Enter opens the member behind a
row when the row names one, else the row's details (with the scorer's items)."""
from __future__ import annotations

import json

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Static

from core.i18n import tr
from core.read.members import member_id_by_number
from core.read.tables import report_table, scorer_table
from tui.api import DangjianModal, DangjianScreen, TopBar, tb
from tui.widgets.lazytable import Column, LazyTable, ListSource


def _catch_user_errors(fn, *args):
    """Run ``fn``; a UserError (e.g. "choose a community") becomes a line on the screen, not a crash."""
    from core.errors import UserError

    try:
        return fn(*args)
    except UserError as exc:
        return {"user_error": str(exc)}


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


class GenericTableScreen(DangjianScreen):
    """``kind`` is ``"scorer"`` or ``"report"``; ``key`` the registered name."""

    BINDINGS = [tb("ctrl+f", "focus_filter", "筛选|Filter", id="generic.filter")]
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

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(LazyTable).focus()

    def refresh_data(self) -> None:
        app = self.app
        fn = scorer_table if self.table_kind == "scorer" else report_table
        self.query_one("#generic-info", Static).update(tr("正在计算……", "Computing…"))
        self.run_db(_catch_user_errors, fn, app.view, self.table_key, app.year, on_done=self._show)

    def _show(self, d: dict) -> None:
        self.data = d
        for bar in self.query(TopBar):
            bar.update_text()
        table = self.query_one(LazyTable)
        if d.get("user_error"):
            table.set_source(ListSource([]))
            self.query_one("#generic-info", Static).update(
                d["user_error"] + "  " + tr("（F9 选择范围，F7/F8 换年度）", "(F9: scope, F7/F8: year)"))
            return
        if d.get("html"):
            table.columns = [Column("", 0, lambda r: "")]
            table.set_source(ListSource([]))
            self.query_one("#generic-info", Static).update(
                tr("此报表只输出可打印的 HTML：dangjian report {n} --format html --output 文件",
                   "HTML-only report: dangjian report {n} --format html --output FILE", n=self.table_key))
            return
        headers = d["headers"]
        rows = d["rows"]
        widths = []
        for i, h in enumerate(headers):
            w = max([cell_len(str(h))] + [cell_len(str(r[i])) for r in rows[:500] if i < len(r)])
            widths.append(max(2, w))
        # narrow columns keep their width; long ones start at 16 cells and grow to 40 on a wide
        # terminal (cut text ends in "…"; v shows the whole row; ← → scroll when they do not fit)
        cols = [Column(str(h), min(w, 16), (lambda r, i=i: r[1][i] if i < len(r[1]) else ""),
                       max_width=min(w, 40), min_width=8)
                for i, (h, w) in enumerate(zip(headers, widths))]
        if len(cols) > 1 and sum(c.width + 1 for c in cols) <= 80:
            cols[-1].width = 0  # everything fits: the last column takes the rest
        table.columns = cols
        table.frozen = _frozen(headers, cols)
        table.col_offset = 0
        self.all_rows = [(n, ["" if v is None else str(v) for v in r]) for n, r in enumerate(rows)]
        self._apply_filter()

    def _apply_filter(self) -> None:
        if self.data is None or self.data.get("user_error") or self.data.get("html"):
            return
        text = self.query_one("#generic-filter", Input).value.strip()
        rows = self.all_rows
        if text:
            rows = [r for r in rows if any(text in c for c in r[1])]
        self.shown_rows = rows
        self.query_one(LazyTable).set_source(ListSource(rows))
        info = tr("{y}年  {n} 行", "{y}  {n} rows", y=self.app.year, n=f"{len(rows):,}")
        if text:
            info += tr("（共 {t}）", " (of {t})", t=f"{len(self.all_rows):,}")
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
        lines = [f"{h}: {v}" for h, v in zip(d["headers"], d["rows"][n])]
        record = d["records"][n] if d.get("records") and n < len(d["records"]) else None
        if isinstance(record, dict) and record.get("items"):
            lines.append("")
            lines.append(tr("明细：", "Items:"))
            for it in record["items"]:
                lines.append(f"  {it.get('label', it.get('code'))}  {it.get('points')}")
        elif record is not None:
            lines += ["", json.dumps(record, ensure_ascii=False, default=str, indent=1)]
        self.app.push_screen(RowDetail("\n".join(lines)))
