"""Reception, visits and demands (接访走访与群众诉求; clauses 11, 12, 13, 20).

The view's visits of the app's year (F7/F8), newest first (lazily paged), with its demand and
where it stands.  An open demand — neither answered, closed nor refused —
past the deadline (``service.demand_response``'s ``max_days`` after the
visit, 15 by default) is highlighted in red.

Keys: ctrl+o shows only open demands (again: everything), ctrl+n records a
visit, Enter edits one (answer / close a demand), ctrl+d deletes after
confirmation.
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from core.dates import today
from core.i18n import tr
from core.numbers import format_count
from core.read.paging import key_date_id
from core.read.visits import demand_days, overdue_demands, visit_rows
from tui.api import DangjianScreen, tb
from tui.widgets.lazytable import Column, LazyTable


class YearVisits:
    """The view's visits of one year, newest first, as ``LazyTable`` wants them: pages of
    :func:`core.read.visits.visit_rows` for that year (its keyset ``after``)."""

    def __init__(self, view, year: int, open_only: bool = False):
        self.view, self.year, self.open_only = view, year, open_only

    def _rows(self, after, limit: int, offset: int = 0) -> list[dict]:
        return visit_rows(self.view, open_only=self.open_only, after=after, limit=limit, offset=offset,
                          year=self.year)

    def count(self) -> int:
        return visit_rows(self.view, open_only=self.open_only, count=True, year=self.year)

    def page(self, after_key, limit: int) -> list[tuple]:
        return [(key_date_id(r), r) for r in self._rows(after_key, limit)]

    def seek(self, after_key, n: int):
        rows = self._rows(after_key, 1, max(0, n - 1))
        return key_date_id(rows[0]) if rows else None

    def first(self, limit: int = 200) -> tuple[int, list[tuple]]:
        return self.count(), self.page(None, limit)


def state_label(r: dict) -> str:
    if r["refused_reason"]:
        return tr("不予受理", "refused")
    if r["closed_date"]:
        return tr("已办结", "closed")
    if r["answered_date"]:
        return tr("已答复", "answered")
    if not r["demand"]:
        return ""
    return tr("逾期未办", "OVERDUE") if r["overdue"] else tr("办理中", "open")


def _delete_visit(visit_id: int, version: int) -> int:
    from core import models as m
    from core import records

    records.delete(m.Visit, visit_id, version)
    return visit_id


class VisitsScreen(DangjianScreen):
    SCREEN_NAME = "visits"
    BINDINGS = [
        tb("ctrl+o", "toggle_open", "只看未办结|Open only", id="visits.open_only"),
        tb("ctrl+n", "new_visit", "登记|New", id="visits.new"),
        tb("ctrl+d", "delete_visit", "删除|Delete", id="visits.delete"),
    ]
    DEFAULT_CSS = """
    VisitsScreen #visits-info { height: 1; padding: 0 1; color: $text-muted; }
    VisitsScreen #visits-table { height: 1fr; }
    """

    def __init__(self, open_only: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.open_only = open_only

    def compose_body(self) -> ComposeResult:
        yield Static("", id="visits-info")
        yield LazyTable(self._columns(), empty_text=tr("（本年度没有记录，ctrl+n 登记；F7/F8 换年）",
                                                       "(nothing this year; ctrl+n records one; F7/F8 year)"),
                        row_style=lambda r: "bold red" if r[1]["overdue"] else None, id="visits-table")

    def _columns(self) -> list[Column]:
        return [
            Column(tr("日期", "Date"), 10, lambda r: str(r[1]["date"])),
            Column(tr("类型", "Kind"), 12, lambda r: r[1]["kind_label"]),
            Column(tr("接待人", "Staff"), 6, lambda r: r[1]["staff_name"] or "", max_width=10),
            Column(tr("社区", "Community"), 12, lambda r: r[1]["community_name"] or "", max_width=16, show_from=100),
            Column(tr("诉求", "Demand"), 0, lambda r: r[1]["demand"] or "", min_width=8),
            Column(tr("时限", "Due"), 10, lambda r: str(r[1]["deadline"] or "")),
            Column(tr("状态", "State"), 8, lambda r: state_label(r[1])),
        ]

    def on_mount(self) -> None:
        self.query_one(LazyTable).focus()

    def refresh_data(self) -> None:
        view = self.app.view
        source = YearVisits(view, self.app.year, open_only=self.open_only)
        self.run_db(lambda: (source.first(), overdue_demands(view, limit=0)["count"], demand_days(view)),
                    on_done=lambda r: self._show(source, r), group="list")

    def _show(self, source, result) -> None:
        (total, first), overdue, days = result
        table = self.query_one(LazyTable)
        table.set_source(source, total, first, cursor=min(table.cursor, max(0, total - 1)))
        what = tr("未办结诉求", "open demands") if self.open_only else tr("接访走访", "visits")
        self.query_one("#visits-info", Static).update(
            tr("{y}年{w} {n} 条  逾期 {o} 条（各年，{d}天内答复或办结）  F7/F8 换年",
               "{y} {w}: {n}  overdue: {o} (all years; {d}-day limit)  F7/F8: year",
               y=source.year, w=what, n=format_count(total), o=format_count(overdue), d=days))

    def _current(self) -> dict | None:
        row = self.query_one(LazyTable).cursor_row
        return row[1] if row else None

    def action_toggle_open(self) -> None:
        self.open_only = not self.open_only
        self.refresh_data()

    def _saved(self, saved_id) -> None:
        if saved_id is not None:
            self.refresh_data()

    def action_new_visit(self) -> None:
        from tui.widgets.form import FormScreen

        self.app.push_screen(FormScreen("visits", defaults={"date": today().isoformat(), "people": "1"}),
                             self._saved)

    @on(LazyTable.Selected, "#visits-table")
    def edit_visit(self, event: LazyTable.Selected) -> None:
        from tui.widgets.form import FormScreen

        self.app.push_screen(FormScreen("visits", event.row[1]["id"]), self._saved)

    def action_delete_visit(self) -> None:
        from tui.widgets.confirm import ConfirmDialog

        row = self._current()
        if row is None:
            return

        def done(yes) -> None:
            if yes:
                self.run_db(_delete_visit, row["id"], row["version"], on_done=self._saved, group="save")

        self.app.push_screen(ConfirmDialog(tr("删除这条接访走访记录？", "Delete this visit?"),
                                           f"{row['date']}  {row['kind_label']}  {row['demand'] or ''}"), done)
