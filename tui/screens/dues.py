"""Party dues (党费; clause 13): a month grid per branch.

Pick a branch (its groups' members included); the grid shows each member
with the calculator's proposed monthly amount (``core.dues.propose`` from the
member's dues class and declared income) and the twelve months of the year,
as of the year's as-of date: ``已`` paid, ``部`` part-paid, ``欠`` owed and
nothing paid, blank for a month not owed yet, ``-`` before the member joined.
A month is owed once its last day has come (``core.dues``, the definition
``dangjian report dues`` and ``dangjian check`` use too); the months owed in
all are counted in the bar above the grid.

Keys on the grid: ``p`` marks the cell paid with the proposal, ``w`` marks the
whole month (every member not yet paid) paid with each one's proposal,
Enter opens the payment's form (a different amount or date), ctrl+d deletes a
payment after confirmation.  Every write goes through ``core.records``.
"""
from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Static

from core import dates
from core.i18n import get_lang, tr
from core.read.dues import dues_cell_state, dues_grid
from core.numbers import Money, format_count, format_money
from core.read.scopes import org_tree_choices
from tui.api import DangjianScreen, fit, tb

CELL = {"paid": ("已", "green"), "partial": ("部", "yellow"), "owed": ("欠", "bold red"),
        "pending": ("", ""), "before": ("-", "dim")}
CELL_EN = {"paid": "ok", "partial": "pt", "owed": "!!", "pending": "", "before": "-"}


def mark_paid(cells: list[tuple[int, str]], proposals: dict, payments: dict) -> dict:
    """Mark ``cells`` [(member_id, month)] paid with the member's proposal, today, through
    core.records in one transaction.  ``payments`` {(member_id, month): row} as read."""
    from core import models as m
    from core import records

    today = dates.today()
    changes = []
    skipped = 0
    for member_id, month in cells:
        amount = proposals.get(member_id)
        if amount is None:
            skipped += 1
            continue
        p = payments.get((member_id, month))
        if p is None:
            changes.append(("create", m.DuesPayment, {"member": member_id, "month": month, "due": amount,
                                                      "paid": amount, "paid_date": today}))
        else:
            due = Decimal(p["due"] or 0) or amount
            changes.append(("update", m.DuesPayment, p["id"], {"due": due, "paid": due, "paid_date": today},
                            p["version"]))
    counts = records.write_all(changes)
    return {"created": counts["created"], "updated": counts["updated"], "skipped": skipped}


def _delete_payment(payment_id: int, version: int) -> int:
    from core import models as m
    from core import records

    records.delete(m.DuesPayment, payment_id, version)
    return payment_id


class DuesScreen(DangjianScreen):
    SCREEN_NAME = "dues"
    BINDINGS = [
        tb("p", "mark_cell", "交纳|Mark paid", id="dues.mark_cell"),
        tb("w", "mark_month", "整月交纳|Whole month", id="dues.mark_month"),
        tb("ctrl+d", "delete_payment", "删除|Delete", id="dues.delete"),
        tb("ctrl+o", "focus_org", "选支部|Branch", id="dues.branch"),
    ]
    DEFAULT_CSS = """
    DuesScreen #dues-bar { height: 1; }
    DuesScreen #dues-org { width: auto; max-width: 50%; padding: 0 1; background: $boost; }
    DuesScreen #dues-info { width: 1fr; padding: 0 1; color: $text-muted; }
    DuesScreen #dues-grid { height: 1fr; }
    DuesScreen #dues-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, org_id: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.org_id = org_id
        self.grid: dict | None = None
        self._orgs_loaded = False

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="dues-bar"):
            yield Static(tr("（正在读取支部）", "(reading branches)"), id="dues-org", markup=False)
            yield Static("", id="dues-info")
        yield DataTable(id="dues-grid", cursor_type="cell", fixed_columns=2)
        yield Static("", id="dues-status")

    def refresh_data(self) -> None:
        if not self._orgs_loaded:
            self.run_db(org_tree_choices, self.app.view, ("general_branch", "branch"), on_done=self._orgs,
                        group="orgs")
        elif self.org_id is not None:
            self.run_db(dues_grid, self.app.view, self.org_id, self.app.year, on_done=self._show, group="grid")

    def _orgs(self, orgs: list[dict]) -> None:
        self._orgs_loaded = True
        self.orgs = orgs
        if self.org_id is not None and not any(o["id"] == self.org_id for o in orgs):
            self.org_id = None
        if self.org_id is None and orgs:
            self.org_id = orgs[0]["id"]
        self._show_org()
        self.refresh_data()
        self.query_one("#dues-grid", DataTable).focus()

    def _show_org(self) -> None:
        o = next((o for o in getattr(self, "orgs", []) if o["id"] == self.org_id), None)
        label = tr("（没有支部）", "(no branch)") if o is None else f"{o['name']}（{o['community']}）"
        w = self.query_one("#dues-org", Static)
        w.update(fit(label, 36) + tr("  ctrl+o 换支部", "  ctrl+o: branch"))
        w.tooltip = label if o is None else f"{o['name']}（{o['code']}）{o['town']} {o['community']}"

    def on_screen_resume(self) -> None:  # runs before the base class's (Textual calls each class's handler)
        if self.records_generation_moved():
            self._orgs_loaded = False  # an organization may have been added or renamed

    def records_generation_moved(self) -> bool:
        return self._records_generation not in (-1, getattr(self.app, "records_generation", 0))

    def view_changed(self, generation: int) -> None:
        self._orgs_loaded = False  # another scope: other branches
        super().view_changed(generation)

    def set_org(self, org_id) -> None:
        if org_id is None or org_id == self.org_id and self.grid is not None:
            return
        self.org_id = org_id
        self._show_org()
        self.refresh_data()

    def _show(self, grid: dict) -> None:
        self.grid = grid
        t = self.query_one("#dues-grid", DataTable)
        keep = t.cursor_coordinate if t.row_count else None
        t.clear(columns=True)
        proposals = [format_money(r["proposal"]) if r["proposal"] is not None else "?" for r in grid["members"]]
        t.add_column(tr("姓名", "Name"), key="name", width=8)
        t.add_column(Text(tr("月应交", "Monthly"), justify="right"), key="proposal",
                     width=max([7] + [len(x) for x in proposals]))
        for i, month in enumerate(grid["months"], 1):
            t.add_column(tr("{m}月", "{m:>2}", m=i), key=month, width=3)
        now = dates.today()
        for r, proposal in zip(grid["members"], proposals):
            cells = [r["name"], Text(proposal, justify="right")]
            for month in grid["months"]:
                state = dues_cell_state(grid["payments"].get((r["id"], month)), month, r, grid["as_of"])
                text, style = CELL[state]
                if get_lang() == "en":
                    text = CELL_EN[state]
                cells.append(Text(text, style=style, justify="center"))
            t.add_row(*cells, key=str(r["id"]))
        if keep is not None and keep.row < t.row_count:
            t.cursor_coordinate = keep
        elif t.row_count:
            month_col = now.month + 1 if self.app.year == now.year else 2
            t.cursor_coordinate = (0, month_col)
        self.query_one("#dues-info", Static).update(
            tr("{y}年  {n} 名党员  欠交 {o} 个月次", "{y}: {n} members, {o} months owed",
               y=self.app.year, n=format_count(len(grid["members"])), o=format_count(grid["owed"])))
        self._status()

    def _cell(self) -> tuple[dict, str] | None:
        t = self.query_one("#dues-grid", DataTable)
        if self.grid is None or not t.row_count:
            return None
        row, col = t.cursor_coordinate
        if col < 2 or row >= len(self.grid["members"]):
            return None
        return self.grid["members"][row], self.grid["months"][col - 2]

    def _status(self) -> None:
        cell = self._cell()
        text = tr("p 交纳本格  w 整月交纳  Enter 详情", "p: pay cell  w: whole month  Enter: details")
        if cell:
            member, month = cell
            p = self.grid["payments"].get((member["id"], month))
            if p:
                text = tr("{n} {m}：应交 {d} 实交 {p} {dt}", "{n} {m}: due {d} paid {p} {dt}", n=member["name"],
                          m=month, d=format_money(p["due"]), p=format_money(p["paid"]), dt=p["paid_date"] or "")
            else:
                text = tr("{n} {m}：未交；建议 {a} 元", "{n} {m}: unpaid; proposal {a}", n=member["name"], m=month,
                          a=format_money(member["proposal"]) if member["proposal"] is not None else "?")
        self.query_one("#dues-status", Static).update(text)

    @on(DataTable.CellHighlighted, "#dues-grid")
    def cell_moved(self) -> None:
        self._status()

    def _mark(self, cells: list[tuple[int, str]]) -> None:
        if not cells:
            self.notify(tr("没有需要交纳的月份", "nothing to mark"), timeout=3)
            return
        proposals = {r["id"]: r["proposal"] for r in self.grid["members"]}
        no_rate = [r["name"] for r in self.grid["members"]
                   if r["proposal"] is None and any(c[0] == r["id"] for c in cells)]
        if no_rate:
            self.notify(tr("没有党费类别或月收入，无法计算：{n}", "no dues class or income, no proposal: {n}",
                           n="、".join(no_rate)), severity="warning")
        self.run_db(mark_paid, cells, proposals, dict(self.grid["payments"]), on_done=self._marked, group="save")

    def _marked(self, result: dict) -> None:
        n = result["created"] + result["updated"]
        self.notify(tr("已登记 {n} 笔党费", "{n} payments recorded", n=format_count(n)), timeout=3)
        self.refresh_data()

    def action_mark_cell(self) -> None:
        cell = self._cell()
        if cell is None:
            return
        member, month = cell
        state = dues_cell_state(self.grid["payments"].get((member["id"], month)), month, member,
                                   self.grid["as_of"])
        if state in ("paid", "before"):
            self.notify(tr("该月已交或尚未入党", "already paid, or before joining"), timeout=3)
            return
        self._mark([(member["id"], month)])

    def action_mark_month(self) -> None:
        cell = self._cell()
        if cell is None:
            return
        _member, month = cell
        todo = []
        for r in self.grid["members"]:
            state = dues_cell_state(self.grid["payments"].get((r["id"], month)), month, r, self.grid["as_of"])
            if state in ("owed", "partial", "pending") and r["proposal"] is not None:
                todo.append((r["id"], month))
        self._mark(todo)

    @on(DataTable.CellSelected, "#dues-grid")
    def open_payment(self) -> None:
        from tui.widgets.form import FormScreen

        cell = self._cell()
        if cell is None:
            return
        member, month = cell
        p = self.grid["payments"].get((member["id"], month))
        fixed = {"member": _member_id_number(member), "month": month}
        done = lambda saved: self.refresh_data() if saved is not None else None  # noqa: E731
        if p:
            self.app.push_screen(FormScreen("dues", p["id"], fixed=fixed), done)
        else:
            amount = str(Money(member["proposal"])) if member["proposal"] is not None else ""  # plain, to edit
            self.app.push_screen(FormScreen("dues", fixed=fixed, defaults={
                "due": amount, "paid": amount, "paid_date": dates.today().isoformat()}), done)

    def action_delete_payment(self) -> None:
        from tui.widgets.confirm import ConfirmDialog

        cell = self._cell()
        if cell is None:
            return
        member, month = cell
        p = self.grid["payments"].get((member["id"], month))
        if p is None:
            return

        def done(yes) -> None:
            if yes:
                self.run_db(_delete_payment, p["id"], p["version"], on_done=lambda _: self.refresh_data(),
                            group="save")

        self.app.push_screen(ConfirmDialog(tr("删除这笔党费记录？", "Delete this dues payment?"),
                                           f"{member['name']} {month}  {format_money(p['paid'])}"), done)

    def action_focus_org(self) -> None:
        """ctrl+o: choose the branch in a tree (区镇 → 社区 → 支部) filtered by typing."""
        from tui.widgets.scope_tree import node
        from tui.widgets.scope_tree import TreePicker

        orgs = getattr(self, "orgs", [])
        towns: dict[str, dict[str, list]] = {}
        for o in orgs:
            towns.setdefault(o["town"], {}).setdefault(f"{o['community']}（{o['community_code']}）", []).append(o)
        few = len(orgs) <= 40
        nodes = []
        for town, comms in towns.items():
            kids = []
            for cname, os_ in comms.items():
                here = any(o["id"] == self.org_id for o in os_)
                kids.append(node(cname, None, [node(f"{o['name']}（{o['code']}）", o["id"], code=o["code"], name=o["name"])
                                               for o in os_], name=cname.split("（")[0], expanded=few or here))
            nodes.append(node(town, None, kids, expanded=few or len(towns) == 1
                              or any(o["id"] == self.org_id for c in comms.values() for o in c)))
        self.app.push_screen(TreePicker(tr("选择支部（区镇 → 社区 → 支部）", "Choose a branch (town → community → branch)"),
                                        nodes, current=self.org_id), self.set_org)


def _member_id_number(member: dict) -> str:
    return member["id_number"]
