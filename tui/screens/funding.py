"""Funding (经费; clauses 18, 19): per community the floor, what was allocated, the gap and
the city/town split of the floor.

The floor is ``max(150 × N, 15000)`` (config ``funding.floor``), N the members
whose relationship is in the community; only 市级财政 and 区镇财政 count against it
(委托事项, donations … are shown apart).  The split between city and town is
the town plugin's (``dangjian_funding_split``; 昆山开发区 and 玉山镇 pay 50/50
in the built-in example), else 100 % town.  Communities short of the floor
are red.

Keys: Enter lists the community's allocations of the year below the table,
ctrl+n adds an allocation, ctrl+e edits the highlighted allocation, ctrl+d
deletes it after confirmation.
"""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from core.dates import today
from core.i18n import tr
from core.read.funding import allocations, funding_rows
from core.numbers import format_count, format_money
from tui.api import DangjianScreen, tb


def _right(text: str, style: str = "") -> Text:
    """A number in a table cell: right-aligned."""
    return Text(text, style=style, justify="right")


def _delete_allocation(alloc_id: int, version: int) -> int:
    from core import models as m
    from core import records

    records.delete(m.FundingAllocation, alloc_id, version)
    return alloc_id


class FundingScreen(DangjianScreen):
    SCREEN_NAME = "funding"
    BINDINGS = [
        tb("ctrl+n", "new_allocation", "新增划拨|New", id="funding.new"),
        tb("ctrl+e", "edit_allocation", "修改|Edit", id="funding.edit"),
        tb("ctrl+d", "delete_allocation", "删除|Delete", id="funding.delete"),
        tb("ctrl+l", "focus_table", "社区列表|Communities", id="funding.list", show=False),
    ]
    DEFAULT_CSS = """
    FundingScreen #fund-info { height: 1; padding: 0 1; color: $text-muted; }
    FundingScreen #fund-table { height: 2fr; }
    FundingScreen #fund-alloc-title { height: 1; padding: 0 1; background: $boost; }
    FundingScreen #fund-allocs { height: 1fr; min-height: 4; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rows: list[dict] = []
        self.community: dict | None = None
        self.allocs: list[dict] = []

    def compose_body(self) -> ComposeResult:
        yield Static("", id="fund-info")
        yield DataTable(id="fund-table", cursor_type="row", zebra_stripes=True, cell_padding=0)
        yield Static("", id="fund-alloc-title")
        yield DataTable(id="fund-allocs", cursor_type="row")

    def on_mount(self) -> None:
        self._columns([])
        a = self.query_one("#fund-allocs", DataTable)
        a.add_column(tr("日期", "Date"), key="date", width=10)
        a.add_column(tr("来源", "Source"), key="source", width=10)
        a.add_column(_right(tr("金额", "Amount")), key="amount", width=12)
        self.query_one("#fund-table", DataTable).focus()

    def refresh_data(self) -> None:
        self.run_db(funding_rows, self.app.view, self.app.year, None, on_done=self._show, group="load")

    MONEY = ("floor", "allocated", "gap", "city_share", "town_share", "other")

    def _columns(self, cells: list[list[str]]) -> None:
        """The community table's columns, the numbers right-aligned and as wide as the widest
        (``15,000.00``) plus one cell that keeps them apart (the table has no cell padding, so
        the eight columns fit 80 columns)."""
        t = self.query_one("#fund-table", DataTable)
        t.clear(columns=True)
        t.add_column(tr("社区", "Community"), key="name", width=10)
        t.add_column(_right(tr("党员", "Mbrs")), key="members", width=max([4] + [len(c[0]) for c in cells]) + 1)
        titles = (tr("下限", "Floor"), tr("已拨", "Alloc"), tr("缺口", "Gap"), tr("市级", "City"), tr("区镇", "Town"),
                  tr("其他", "Other"))
        for i, (key, title) in enumerate(zip(self.MONEY, titles), start=1):
            t.add_column(_right(title), key=key, width=max([9] + [len(c[i]) for c in cells]) + 1)

    def _show(self, rows: list[dict]) -> None:
        self.rows = rows
        t = self.query_one("#fund-table", DataTable)
        keep = t.cursor_row if t.row_count else 0
        cells = [[format_count(r["members"])] + [format_money(r[k]) for k in self.MONEY] for r in rows]
        self._columns(cells)
        short = 0
        for r, c in zip(rows, cells):
            gap_style = "bold red" if r["gap"] > 0 else "green"
            short += r["gap"] > 0
            t.add_row(r["name"], _right(c[0]), *[_right(x, gap_style if k == "gap" else "")
                                                 for k, x in zip(self.MONEY, c[1:])], key=r["code"])
        if rows:
            t.move_cursor(row=min(keep, len(rows) - 1))
        self.query_one("#fund-info", Static).update(
            tr("{y}年  {n} 个社区  未达下限 {s} 个  （元；Enter 看划拨明细）",
               "{y}: {n} communities, {s} below the floor (yuan; Enter: allocations)",
               y=self.app.year, n=format_count(len(rows)), s=format_count(short)))
        if self.community is not None:
            self._load_allocs()

    @on(DataTable.RowSelected, "#fund-table")
    def open_community(self, event: DataTable.RowSelected) -> None:
        i = event.cursor_row
        if 0 <= i < len(self.rows):
            self.community = self.rows[i]
            self._load_allocs()
            self.query_one("#fund-allocs", DataTable).focus()

    def _load_allocs(self) -> None:
        c = self.community
        self.run_db(allocations, self.app.view, c["community_id"], self.app.year, on_done=self._show_allocs,
                    group="allocs")

    def _show_allocs(self, allocs: list[dict]) -> None:
        self.allocs = allocs
        c = self.community
        self.query_one("#fund-alloc-title", Static).update(
            tr("{n} {y}年划拨：下限 {f}，市级应承担 {cs}，区镇应承担 {ts}",
               "{n} {y} allocations: floor {f}, city share {cs}, town share {ts}",
               n=c["name"], y=self.app.year, f=format_money(c["floor"]), cs=format_money(c["city_share"]),
               ts=format_money(c["town_share"])))
        a = self.query_one("#fund-allocs", DataTable)
        a.clear()
        for r in allocs:
            a.add_row(str(r["date"]), r["source_label"], _right(format_money(r["amount"])), key=str(r["id"]))

    def _alloc(self) -> dict | None:
        a = self.query_one("#fund-allocs", DataTable)
        if not self.allocs or not a.row_count:
            return None
        return self.allocs[min(a.cursor_row, len(self.allocs) - 1)]

    def _current_community(self) -> dict | None:
        if self.community is not None:
            return self.community
        t = self.query_one("#fund-table", DataTable)
        if self.rows and t.row_count:
            return self.rows[t.cursor_row]
        return None

    def _saved(self, saved) -> None:
        if saved is not None:
            self.refresh_data()

    def action_new_allocation(self) -> None:
        from tui.widgets.form import FormScreen

        c = self._current_community()
        defaults = {"year": str(self.app.year), "date": today().isoformat(), "source": "town_finance"}
        if c is not None:
            defaults["community"] = c["code"]
            self.community = c
        self.app.push_screen(FormScreen("funding", defaults=defaults), self._saved)

    def action_edit_allocation(self) -> None:
        from tui.widgets.form import FormScreen

        a = self._alloc()
        if a is not None:
            self.app.push_screen(FormScreen("funding", a["id"]), self._saved)

    def action_delete_allocation(self) -> None:
        from tui.widgets.confirm import ConfirmDialog

        a = self._alloc()
        if a is None:
            return

        def done(yes) -> None:
            if yes:
                self.run_db(_delete_allocation, a["id"], a["version"], on_done=self._saved, group="save")

        self.app.push_screen(ConfirmDialog(tr("删除这笔经费划拨？", "Delete this allocation?"),
                                           f"{a['date']}  {a['source_label']}  {format_money(a['amount'])}"), done)

    def action_focus_table(self) -> None:
        self.query_one("#fund-table", DataTable).focus()
